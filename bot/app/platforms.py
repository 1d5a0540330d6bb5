"""Herald wired to the chat platforms that are configured: Slack, Discord, or both at once.

One ledger and one engine serve every platform: a release announced in Slack can have
Discord destinations, and its status counts both. Each platform brings a link for the
engine (resolving and sending), a front door (commands, buttons, receipts, redraws) and
a service that runs while Herald serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.app.bootstrap import (
    Herald,
    Storage,
    delivery_links,
    forge_releases,
    report_sweeper,
    sign_in_links,
    web_server,
    wire,
)
from bot.app.serve import Service, Watched
from bot.app.settings import Settings
from bot.domain.destinations import Platform
from bot.domain.plan import Plan
from bot.service.chat.flow import ChatFlow
from bot.service.limits import RateLimiter
from bot.service.ports import Clock, PlatformLink

if TYPE_CHECKING:
    from adapters.ops.metrics import Metrics


F = TypeVar("F")


class FrontDoor(Protocol):
    """What the engine tells a front door: something about a release changed."""

    def progress(self, version: str) -> None:
        """Redraw the release's messages soon."""
        ...


@dataclass(slots=True)
class Served:
    """A wired Herald and the services that run while it serves."""

    herald: Herald
    services: list[Service] = field(default_factory=list)
    fronts: list[FrontDoor] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # each service's, for /readyz

    def add(self, name: str, service: Service) -> None:
        """Run ``service`` while Herald serves; ``/readyz`` calls it ``name``."""
        self.services.append(service)
        self.names.append(name)

    def front(self, kind: type[F]) -> F:
        """The front door of one platform (``SlackFrontDoor``, ``DiscordFrontDoor``).

        Raises:
            LookupError: that platform is not configured.
        """
        found = next((front for front in self.fronts if isinstance(front, kind)), None)
        if found is None:
            raise LookupError(f"no {kind.__name__} is wired; is that platform configured?")
        return found

    def watched(self) -> list[Watched]:
        """The services, each under its name and reporting whether it is up (for ``serve`` and ``/readyz``)."""
        return [Watched(name, service) for name, service in zip(self.names, self.services, strict=True)]


def chat_herald(
    *,
    plan: Plan,
    storage: Storage,
    settings: Settings,
    clock: Clock | None = None,
    limiter: RateLimiter | None = None,
    redraw_every: float | None = None,
    metrics: Metrics | None = None,
) -> Served:
    """Herald on every configured chat platform, sharing one engine, one ledger and one limiter.

    ``redraw_every`` overrides how often live counts are redrawn (tests shorten it). With
    ``metrics`` every send, 429 and lease loss is counted (given a limiter, its 429s are not).
    """
    if limiter is not None:
        the_limiter = limiter
    elif metrics is not None:
        the_limiter = metrics.limiter(budgets=storage.budgets)
    else:
        the_limiter = RateLimiter(budgets=storage.budgets)
    links: dict[Platform, PlatformLink] = delivery_links(settings)  # e-mail and the rest, when configured
    fronts: list[FrontDoor] = []
    if settings.slack is not None:
        from adapters.slack.runtime import slack_gateway, slack_link

        slack = slack_gateway(settings.slack, the_limiter)
        links[Platform.SLACK] = slack_link(slack, reconcile=settings.slack.reconcile)
    if settings.discord is not None:
        from adapters.discord.runtime import discord_client, discord_gateway, discord_link

        client = discord_client(settings.discord)
        discord = discord_gateway(client, settings.discord, the_limiter)
        links[Platform.DISCORD] = discord_link(discord)

    def progress(version: str) -> None:
        for front in fronts:
            front.progress(version)

    if metrics is not None:
        links = metrics.links(links)
    herald = wire(
        plan=plan,
        storage=storage,
        links=links,
        clock=clock,
        limiter=the_limiter,
        on_progress=progress,
        sign_in=sign_in_links(settings),
        forges=forge_releases(settings),
    )
    if metrics is not None:
        metrics.watch(engine=herald.engine, uow=storage.uow)
    served = Served(herald, fronts=fronts)
    flows: dict[Platform, ChatFlow] = {}  # each platform's walkthrough, for the release API to post in
    if settings.slack is not None:
        from adapters.slack.runtime import slack_front

        slack_door = slack_front(herald.desk, slack, settings.slack, redraw_every)
        fronts.append(slack_door)
        flows[Platform.SLACK] = slack_door.flow
    if settings.discord is not None:
        from adapters.discord.runtime import discord_front

        discord_door = discord_front(client, herald.desk, discord, redraw_every)
        fronts.append(discord_door)
        flows[Platform.DISCORD] = discord_door.flow
    hosts_links = False
    if settings.slack is not None:
        from adapters.slack.runtime import SlackService, slack_server

        if settings.web is not None and not settings.slack.socket_mode:
            from adapters.slack.server import slack_routes

            # One HTTP server on HERALD_HTTP_PORT: Slack's endpoint, the acknowledgement links, the release API.
            routes = slack_routes(slack_door.app, slack_door.signing_secret)
            shared = web_server(settings, herald.desk, routes, flows=flows)
            assert shared is not None
            served.add("slack", SlackService(slack_door, shared))
            hosts_links = True
        else:
            served.add("slack", SlackService(slack_door, slack_server(slack_door, settings.slack)))
    if settings.discord is not None:
        from adapters.discord.runtime import DiscordService

        served.add("discord", DiscordService(client, discord_door, settings.discord.bot_token.reveal()))
    reports = report_sweeper(settings, storage.uow)  # delivery reports, when HERALD_IMAP_URL is set
    if reports is not None:
        from adapters.email.runtime import ReportService

        served.add("e-mail reports", ReportService(reports))
    if not hosts_links:
        links_server = web_server(settings, herald.desk, flows=flows)  # the links, when HERALD_PUBLIC_URL is set
        if links_server is not None:
            served.add("acknowledgement links", links_server)
    return served
