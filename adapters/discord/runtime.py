"""Running Herald on Discord: the client inside Herald's own event loop, and syncing commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
import yarl

from adapters.discord.app import DiscordFrontDoor
from adapters.discord.budgets import discord_limits
from adapters.discord.components import HeraldClient, intents
from adapters.discord.config import DiscordSettings
from adapters.discord.directory import DiscordDirectory
from adapters.discord.gateway import DiscordGateway
from adapters.discord.messenger import DiscordMessenger
from bot.domain.errors import ConfigError
from bot.service.desk import ReleaseDesk
from bot.service.limits import RateLimiter
from bot.service.ports import PlatformLink

log = logging.getLogger(__name__)

_BAD_TOKEN = "Discord refused DISCORD_BOT_TOKEN: copy the bot token again from the Developer Portal (Bot → Reset Token)"

# Seconds discord.py may wait out a 429 itself; longer ones come back as discord.RateLimited, to the
# engine. discord.py takes no less than 30 (``HTTPClient``: ``max(30.0, max_ratelimit_timeout)``).
_LONGEST_WAIT_INSIDE = 30.0


def point_at(settings: DiscordSettings) -> None:
    """Aim discord.py at the configured REST base and gateway (both process-wide in discord.py)."""
    discord.http.Route.BASE = settings.api_url
    if settings.gateway_url is not None:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def discord_client(settings: DiscordSettings) -> HeraldClient:
    """A client with only the intents Herald needs; not yet logged in."""
    point_at(settings)
    return HeraldClient(intents=intents(members=settings.members_intent), max_ratelimit_timeout=_LONGEST_WAIT_INSIDE)


def discord_gateway(client: HeraldClient, settings: DiscordSettings, limiter: RateLimiter) -> DiscordGateway:
    """The REST side Herald sends through, with Discord's budgets; every REST request of the client
    is paced by the global one from now on."""
    limits = discord_limits("bot", settings.dms_per_minute)
    client.pace.bind(limiter, limits)
    return DiscordGateway(
        client,
        limiter,
        limits,
        ack_emoji=settings.ack_emoji,
        members_intent=settings.members_intent,
    )


def discord_link(gateway: DiscordGateway) -> PlatformLink:
    """Discord as the engine sees it."""
    return PlatformLink(DiscordDirectory(gateway), DiscordMessenger(gateway), limits=gateway.limits)


def discord_front(
    client: HeraldClient, desk: ReleaseDesk, gateway: DiscordGateway, redraw_every: float | None = None
) -> DiscordFrontDoor:
    """The front door, attached to the client that dispatches to it."""
    extra = {} if redraw_every is None else {"redraw_every": redraw_every}
    front = DiscordFrontDoor(desk=desk, gateway=gateway, **extra)
    client.front = front
    return front


class DiscordService:
    """The client's life inside Herald: log in, stay connected (discord.py reconnects), close."""

    def __init__(self, client: HeraldClient, front: DiscordFrontDoor, token: str) -> None:
        self.client = client
        self.front = front
        self._token = token
        self._connection: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in over REST (so the engine can send at once), then connect to the gateway.

        Raises:
            ConfigError: when Discord refuses the token or the intents.
        """
        try:
            await self.client.login(self._token)
        except discord.LoginFailure:
            await self.client.close()
            raise ConfigError(
                "Discord refused DISCORD_BOT_TOKEN: copy the bot token again from the Developer Portal"
            ) from None
        self._connection = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            raise ConfigError(
                "Discord refused the Server Members intent: switch it on in the Developer Portal "
                "(Bot → Privileged Gateway Intents), or set DISCORD_MEMBERS_INTENT=off if no plan uses discord:role:"
            ) from None
        except discord.LoginFailure:
            raise ConfigError(_BAD_TOKEN) from None

    async def close(self) -> None:
        """Let the last redraws land, then disconnect."""
        await self.front.flush(within=10.0)
        await self.client.close()
        if self._connection is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._connection

    async def failed(self) -> BaseException | None:
        """Wait until the gateway connection ends; what ended it (None when closed on purpose)."""
        if self._connection is None:
            return None
        try:
            await self._connection
        except BaseException as error:  # handed to the caller, which stops Herald with a sentence
            return error
        return None


async def sync_commands(settings: DiscordSettings, guild: int | None) -> int:
    """Register ``/release`` with Discord, for one server (instant) or globally; the number of commands.

    Raises:
        ConfigError: when Discord refuses the token or the sync.
    """
    client = discord_client(settings)
    try:
        try:
            await client.login(settings.bot_token.reveal())
        except discord.LoginFailure:
            raise ConfigError(
                "Discord refused DISCORD_BOT_TOKEN: copy the bot token again from the Developer Portal"
            ) from None
        where = discord.Object(id=guild) if guild is not None else None
        if where is not None:
            client.tree.copy_global_to(guild=where)
        try:
            synced = await client.tree.sync(guild=where)
        except discord.HTTPException as error:
            raise ConfigError(f"Discord refused the command sync: {error.status} {error.text}") from None
        return len(synced)
    finally:
        await client.close()
