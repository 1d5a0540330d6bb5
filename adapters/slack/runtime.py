"""Slack's parts as the composition root assembles them: the gateway, the link, the front door, the server."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackFrontDoor
from adapters.slack.config import SlackSettings
from adapters.slack.directory import SlackDirectory
from adapters.slack.gateway import SlackGateway
from adapters.slack.messenger import SlackMessenger
from adapters.slack.server import HttpServer, SocketModeServer
from adapters.slack.tiers import slack_limits
from adapters.web.server import Server
from bot.service.desk import ReleaseDesk
from bot.service.limits import RateLimiter
from bot.service.ports import PlatformLink

log = logging.getLogger(__name__)


def slack_gateway(settings: SlackSettings, limiter: RateLimiter, team: str = "workspace") -> SlackGateway:
    """The Web API client and its budgets. 429s are left to Herald's limiter, not retried inside the SDK."""
    client = AsyncWebClient(
        token=settings.bot_token.reveal(),
        base_url=settings.api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)],
    )
    return SlackGateway(client, limiter, slack_limits(team, settings.ceiling_per_minute), ack_emoji=settings.ack_emoji)


def slack_link(gateway: SlackGateway, *, reconcile: bool = True) -> PlatformLink:
    """Slack as the engine sees it; ``reconcile`` off: copies in doubt are resent without looking first."""
    return PlatformLink(SlackDirectory(gateway), SlackMessenger(gateway, reconcile=reconcile), limits=gateway.limits)


def slack_front(
    desk: ReleaseDesk, gateway: SlackGateway, settings: SlackSettings, redraw_every: float | None = None
) -> SlackFrontDoor:
    """The Bolt app in front of a wired Herald's desk."""
    secret = settings.signing_secret.reveal() if settings.signing_secret else None
    extra = {} if redraw_every is None else {"redraw_every": redraw_every}
    return SlackFrontDoor(desk=desk, gateway=gateway, signing_secret=secret, **extra)


def slack_server(
    front: SlackFrontDoor, settings: SlackSettings, *, port: int | None = None
) -> HttpServer | SocketModeServer:
    """Socket Mode when an app-level token is set, else HTTP mode on the configured host and port."""
    if settings.app_token is not None:
        return SocketModeServer(front.app, settings.app_token.reveal())
    return HttpServer(
        front.app,
        settings.http_host,
        settings.http_port if port is None else port,
        signing_secret=front.signing_secret,
    )


class SlackService:
    """Slack's server (HTTP or Socket Mode) as a service Herald runs."""

    def __init__(self, front: SlackFrontDoor, server: Server) -> None:
        self.front = front
        self.server = server
        self._closed = asyncio.Event()

    async def start(self) -> None:
        await self.server.start()
        await self.front.gateway.open()

    async def close(self) -> None:
        # Stop taking requests first: one answered while the work was being drained would
        # have its work started after the drain, and lost when the process ends.
        await self.server.close()
        await self.front.flush(within=10.0)  # the work handed off, then the redraws it asked for
        await self.front.gateway.close()
        self._closed.set()

    async def failed(self) -> BaseException | None:
        await self._closed.wait()  # Bolt's servers reconnect by themselves; they end only when closed
        return None

    async def ready(self) -> str | None:
        """For ``/readyz``: in Socket Mode, whether the socket is up; an HTTP server is ready once listening."""
        server_ready = getattr(self.server, "ready", None)
        return await server_ready() if server_ready is not None else None
