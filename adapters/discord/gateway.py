"""Discord's REST API behind Herald's ports: resolving destinations and sending messages.

discord.py does the HTTP: it keeps a bucket per ``X-RateLimit-Bucket``, waits out short
429s itself and raises ``discord.RateLimited`` for long ones (``max_ratelimit_timeout``).
Herald adds what discord.py does not: a pace for opening DMs (Discord warns against
mass DMs), the engine's ceiling shared between replicas, and the translation of
Discord's errors into retryable or permanent delivery errors, here and nowhere else.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Literal

import aiohttp
import discord

from adapters.discord import render, translate
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.limits import Limits, Rate, RateLimiter
from bot.service.ports import OutgoingMessage, Resolution, Target

log = logging.getLogger(__name__)

OPEN_DM = "dm.open"
CANNOT_DM = 50007  # "Cannot send messages to this user"
_MEMBERS_PAGE = 1000
_THREAD_ARCHIVE: Literal[10080] = 10080  # minutes: a week, long enough for the receipts to come in
_CLOCK_SKEW = 60.0  # seconds before a send started to begin looking for its copy
_HISTORY_LIMIT = 500  # messages read after that moment, at most, to find one copy


def discord_limits(application: str, dms_per_minute: int) -> Limits:
    """Discord's budgets: 5 messages per 5 s per channel, 50 requests/s per bot, DMs paced gently."""
    dm_rate = Rate.per_minute(dms_per_minute, burst=max(1.0, dms_per_minute / 30))
    return Limits(
        name=f"discord:{application}",
        per_target=Rate(1.0, burst=5.0),
        ceiling=Rate(40.0, burst=10.0),  # under the 50/s global limit: edits and replies need room too
        methods={OPEN_DM: dm_rate},
        direct=dm_rate,
    )


def members_intent_missing(detail: str = "") -> str:
    """The sentence a person reads when a role cannot be expanded into its members."""
    return (
        "listing a role's members needs the Server Members intent: switch it on in the Discord Developer "
        "Portal (Bot → Privileged Gateway Intents) and set DISCORD_MEMBERS_INTENT=on"
        + (f" ({detail})" if detail else "")
    )


def delivery_error(error: Exception) -> Exception:
    """Discord's error as Herald's: permanent, rate limited, or worth another try."""
    if isinstance(error, discord.RateLimited):
        return RateLimited("Discord rate limit", retry_after=error.retry_after, scope="ceiling")
    if isinstance(error, discord.Forbidden):
        if error.code == CANNOT_DM:
            return PermanentDeliveryError(
                "Discord: cannot send messages to this user (DMs closed, or no server shared with Herald)"
            )
        return PermanentDeliveryError(f"Discord: no permission ({error.code}: {error.text or 'Forbidden'})")
    if isinstance(error, discord.NotFound):
        return PermanentDeliveryError(f"Discord: not found ({error.code}: {error.text or 'Not Found'})")
    if isinstance(error, discord.HTTPException):
        if error.status == 429 or error.status >= 500:
            return RetryableDeliveryError(f"Discord: HTTP {error.status}")
        return PermanentDeliveryError(f"Discord: HTTP {error.status} ({error.code}: {error.text})")
    if isinstance(error, (aiohttp.ClientError, TimeoutError, OSError)):
        # The message may or may not have arrived (in doubt); the nonce lets Discord drop a second copy.
        return RetryableDeliveryError(f"Discord did not answer: {type(error).__name__}", uncertain=True)
    return error


class DiscordGateway:
    """One bot: the discord.py client, its budgets, and the DM channels it has opened."""

    def __init__(
        self,
        client: discord.Client,
        limiter: RateLimiter,
        limits: Limits,
        *,
        ack_emoji: str,
        members_intent: bool,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.limits = limits
        self.ack_emoji = ack_emoji
        self.members_intent = members_intent
        self._dms: dict[int, int] = {}  # user id -> DM channel id

    async def dm_channel(self, user: int) -> int:
        """The DM channel with a user (opened once, then cached)."""
        if user not in self._dms:
            await self.limiter.acquire_method(self.limits, OPEN_DM)
            try:
                data = await self.client.http.start_private_message(user)
            except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as error:
                raise delivery_error(error) from None
            self.limiter.method_succeeded(self.limits, OPEN_DM)
            self._dms[user] = int(data["id"])
        return self._dms[user]

    async def channel_for(self, target: str) -> int:
        """The channel to post to for a concrete target (``discord:channel:ID`` or ``discord:user:ID``)."""
        kind, _, value = target.split(":", 1)[1].partition(":")
        if kind == "user":
            return await self.dm_channel(int(value))
        return int(value)

    async def post(
        self,
        channel: int,
        content: str,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
    ) -> int:
        """Post a walkthrough message (nobody is pinged); its id."""
        extra: dict[str, Any] = {}
        if embed is not None:
            extra["embed"] = embed
        if view is not None:
            extra["view"] = view
        try:
            posted = await self.client.get_partial_messageable(channel).send(
                content, allowed_mentions=discord.AllowedMentions.none(), **extra
            )
        except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as error:
            raise delivery_error(error) from None
        return posted.id

    async def thread_for(self, channel: int, message: int, name: str) -> int:
        """A thread started from ``message``; where that is not possible (a DM, a thread), the channel itself."""
        try:
            data = await self.client.http.start_thread_with_message(
                channel, message, name=name[:100], auto_archive_duration=_THREAD_ARCHIVE, rate_limit_per_user=None
            )
        except discord.HTTPException as error:
            log.info("no thread under message %s (%s); the walkthrough stays in the channel", message, error.text)
            return channel
        return int(data["id"])

    async def edit(self, channel: int, message: int, **fields: Any) -> None:
        """Redraw a message Herald posted (errors become Herald's)."""
        try:
            await self.client.get_partial_messageable(channel).get_partial_message(message).edit(**fields)
        except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as error:
            raise delivery_error(error) from None

    async def role_members(self, guild: int, role: int) -> list[int]:
        """Every human member holding ``role`` (paginated; needs the Server Members intent)."""
        if not self.members_intent:
            raise PermanentDeliveryError(members_intent_missing())
        found: list[int] = []
        after = 0
        while True:
            try:
                page = await self.client.http.get_members(guild, _MEMBERS_PAGE, after)
            except discord.Forbidden as error:
                raise PermanentDeliveryError(
                    members_intent_missing(f"Discord said {error.code}: {error.text}")
                ) from None
            except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as error:
                raise delivery_error(error) from None
            for member in page:
                user = member.get("user") or {}
                if user.get("bot") or str(role) not in [str(r) for r in member.get("roles", [])]:
                    continue
                found.append(int(user["id"]))
            if len(page) < _MEMBERS_PAGE:
                return found
            after = max(int((m.get("user") or {}).get("id", 0)) for m in page)


class DiscordDirectory:
    """Resolves Discord destinations: channels, users, and roles into their members."""

    def __init__(self, gateway: DiscordGateway) -> None:
        self._gateway = gateway

    async def resolve(self, destination: Destination) -> Resolution:
        try:
            return await self._resolve(destination)
        except (PermanentDeliveryError, RetryableDeliveryError, RateLimited) as error:
            return Resolution.failed(destination, error)

    async def _resolve(self, destination: Destination) -> Resolution:
        gateway = self._gateway
        if destination.kind is Kind.CHANNEL:
            channel = int(destination.address)
            try:
                await gateway.client.fetch_channel(channel)
            except (discord.NotFound, discord.Forbidden):
                return Resolution(
                    destination,
                    (),
                    problem=f"no channel {channel} that Herald can see (invite the bot, check its role)",
                )
            except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as error:
                raise delivery_error(error) from None
            # Reading a channel's members needs the privileged intent; anyone who reacts counts.
            return Resolution(destination, (Target(str(destination), Kind.CHANNEL, ()),))
        if destination.kind is Kind.GROUP:
            guild, _, role = destination.address.partition("/")
            users = await gateway.role_members(int(guild), int(role))
            if not users:
                return Resolution(destination, (), problem="nobody holds that role (or it does not exist)")
            return Resolution(
                destination,
                tuple(Target(f"discord:user:{u}", Kind.DM, (translate.person(u),)) for u in sorted(set(users))),
            )
        return Resolution(destination, (Target(str(destination), Kind.DM, (translate.person(destination.address),)),))


class DiscordMessenger:
    """Posts communiqués, reminders and escalations, each with its Acknowledge button."""

    def __init__(self, gateway: DiscordGateway) -> None:
        self._gateway = gateway

    async def send(self, message: OutgoingMessage) -> str:
        gateway = self._gateway
        channel = await gateway.channel_for(message.target)
        content, view = render.delivered(message, gateway.ack_emoji)
        extra: dict[str, Any] = {} if view is None else {"view": view}
        try:
            posted = await gateway.client.get_partial_messageable(channel).send(
                content,
                allowed_mentions=render.mentions(message.allow_mentions),
                nonce=translate.nonce(message.delivery_key),
                **extra,
            )
        except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as error:
            raise delivery_error(error) from None
        return translate.message_ref(channel, posted.id)

    async def find(self, message: OutgoingMessage, since: datetime) -> str | None:
        """The copy of ``message`` posted since ``since``, found by its Acknowledge button's mark.

        Raises:
            RateLimited, RetryableDeliveryError: Discord could not answer now; ask again later.
            PermanentDeliveryError: the copy carries no mark (nothing is acknowledged) or the
                history cannot be read (Read Message History is not granted).
        """
        if message.ack is AckPolicy.NONE:
            raise PermanentDeliveryError("a copy with no Acknowledge button carries no mark; Discord's nonce covers it")
        gateway = self._gateway
        wanted = translate.ack_id(message.delivery_key)
        after = discord.Object(id=discord.utils.time_snowflake(since - timedelta(seconds=_CLOCK_SKEW)))
        try:
            channel = await gateway.channel_for(message.target)
            history = gateway.client.get_partial_messageable(channel).history(
                after=after, limit=_HISTORY_LIMIT, oldest_first=True
            )
            me = gateway.client.user
            async for posted in history:
                if (me is None or posted.author.id == me.id) and _carries(posted, wanted):
                    return translate.message_ref(channel, posted.id)
        except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as error:
            raise delivery_error(error) from None
        return None


def _carries(posted: discord.Message, custom_id: str) -> bool:
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in posted.components
        for child in getattr(row, "children", ())
    )
