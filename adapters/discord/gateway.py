"""Discord's REST API behind Herald's ports: resolving destinations and sending messages.

discord.py does the HTTP: it keeps a bucket per ``X-RateLimit-Bucket``, waits out short
429s itself and raises ``discord.RateLimited`` for long ones (``max_ratelimit_timeout``).
Herald adds what discord.py does not: the global limit (``pace.RestPace``, 50 requests a
second per bot), a pace for opening DMs (Discord warns against mass DMs), and the
translation of Discord's errors into retryable or permanent delivery errors, here and
nowhere else. A 429 is never a failure: a send goes back to the ledger until its
Retry-After has passed; a lookup, a walkthrough post or a redraw waits it out and tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal, TypeVar

import aiohttp
import discord
from discord.http import Route

from adapters.discord import render, translate
from adapters.discord.pace import GLOBAL
from adapters.retry_after import retry_after
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.limits import Limits, Rate, RateLimiter
from bot.service.ports import OutgoingMessage, Resolution, Target

log = logging.getLogger(__name__)

T = TypeVar("T")

OPEN_DM = "dm.open"
CANNOT_DM = 50007  # "Cannot send messages to this user"
DMS_TOO_FAST = 40003  # "You are opening direct messages too fast": Discord's anti-spam, with no Retry-After
_DMS_TOO_FAST_WAIT = 60.0  # seconds before opening DMs again after that, and the DM pace halves meanwhile
_DM_LANES = 8  # DM channels opened at once (see ``DiscordGateway.dm_channel``)
_MEMBERS_PAGE = 1000
_THREAD_ARCHIVE: Literal[10080] = 10080  # minutes: a week, long enough for the receipts to come in
_CLOCK_SKEW = 60.0  # seconds before a send started to begin looking for its copy
_HISTORY_LIMIT = 500  # messages read after that moment, at most, to find one copy
_LOOKUP_PATIENCE = 300.0  # seconds of 429s a lookup or a walkthrough post waits out, in all, before "try later"
_REDRAW_PATIENCE = 600.0  # the same for a redraw; the next change redraws anyway

# Discord's global limit is 50 requests in each one-second window. Herald spends 47 a second
# with a burst of 2 (the limiter keeps half of the declared 4 back): three requests a second of
# slack, so that requests that leave a few tens of milliseconds late, and bunch, do not tip a
# window over. The busiest second of the fan-out benchmark holds 49 or 50 of them.
GLOBAL_PACE = Rate(47.0, burst=4.0)


def discord_limits(application: str, dms_per_minute: int) -> Limits:
    """Discord's budgets: 5 messages per 5 s per channel, 50 requests/s per bot, DMs opened gently.

    No ceiling per message: the global limit counts requests, and ``GLOBAL`` keeps it for
    every one of them (a new DM costs two: opening the channel and the message).
    """
    dm_rate = Rate.per_minute(dms_per_minute, burst=max(1.0, dms_per_minute / 30))
    return Limits(
        name=f"discord:{application}",
        per_target=Rate(1.0, burst=5.0),
        methods={OPEN_DM: dm_rate, GLOBAL: GLOBAL_PACE},
        direct=dm_rate,
    )


def members_intent_missing(detail: str = "") -> str:
    """The sentence a person reads when a role cannot be expanded into its members."""
    return (
        "listing a role's members needs the Server Members intent: switch it on in the Discord Developer "
        "Portal (Bot → Privileged Gateway Intents) and set DISCORD_MEMBERS_INTENT=on"
        + (f" ({detail})" if detail else "")
    )


def delivery_error(error: Exception, *, method: str | None = None) -> Exception:
    """Discord's error as Herald's: permanent, rate limited, or worth another try.

    A rate limit applies to ``method``'s budget when named (opening a DM), else to the
    target's: Discord keeps message buckets per channel.
    """
    if isinstance(error, discord.RateLimited):
        return _rate_limited(error.retry_after, method)
    if isinstance(error, discord.HTTPException) and error.code == DMS_TOO_FAST:
        return _rate_limited(_DMS_TOO_FAST_WAIT, OPEN_DM, "Discord: opening direct messages too fast")
    if isinstance(error, discord.HTTPException) and error.status == 429:
        # discord.py waited out five 429s in a row and gave up; the sixth wait is the engine's.
        return _rate_limited(_retry_after(error.response), method)
    if isinstance(error, discord.Forbidden):
        if error.code == CANNOT_DM:
            return PermanentDeliveryError(
                "Discord: cannot send messages to this user (DMs closed, or no server shared with Herald)"
            )
        return PermanentDeliveryError(f"Discord: no permission ({error.code}: {error.text or 'Forbidden'})")
    if isinstance(error, discord.NotFound):
        return PermanentDeliveryError(f"Discord: not found ({error.code}: {error.text or 'Not Found'})")
    if isinstance(error, discord.HTTPException):
        if error.status >= 500:
            return RetryableDeliveryError(f"Discord: HTTP {error.status}")
        return PermanentDeliveryError(f"Discord: HTTP {error.status} ({error.code}: {error.text})")
    if isinstance(error, (aiohttp.ClientError, TimeoutError, OSError)):
        # The message may or may not have arrived (in doubt); the nonce lets Discord drop a second copy.
        return RetryableDeliveryError(f"Discord did not answer: {type(error).__name__}", uncertain=True)
    return error


def _rate_limited(retry_after: float, method: str | None, why: str = "Discord rate limit") -> RateLimited:
    scope = "method" if method is not None else "target"
    return RateLimited(f"{why} (retry after {retry_after:.1f}s)", retry_after=retry_after, scope=scope, method=method)


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    return retry_after(headers.get("Retry-After"), default=1.0)


def _is_rate_limit(error: Exception) -> bool:
    if isinstance(error, discord.RateLimited):
        return True
    return isinstance(error, discord.HTTPException) and (error.status == 429 or error.code == DMS_TOO_FAST)


_FAILURES = (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError)


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
        # Every request, a DM's opening too, takes a token of the global budget; a DM pace at least
        # as fast can never hold one back, so it is asked (a round trip to the shared budgets) only
        # when it is slower, or once Discord has said DMs are opened too fast.
        self._dm_pace_binds = limits.methods[OPEN_DM].per_second < limits.methods[GLOBAL].per_second

    async def dm_channel(self, user: int) -> int:
        """The DM channel with a user (opened once, then cached), at ``DISCORD_DMS_PER_MINUTE``.

        Discord keeps no bucket of its own for opening DMs (the global limit applies) and so
        sends no rate-limit headers for it; discord.py then lets one such request out at a
        time, a round trip each, which would hold a fan-out far below the global limit. Each
        request therefore names one of a few lanes (``Route`` metadata), which discord.py
        keeps apart; the URL is the same, and should Discord ever name a bucket for the
        route, discord.py files every lane under it.
        """
        if user not in self._dms:
            if self._dm_pace_binds:
                await self.limiter.acquire_method(self.limits, OPEN_DM)
            lane = Route("POST", "/users/@me/channels", metadata=f"lane{user % _DM_LANES}")
            try:
                data = await self.client.http.request(lane, json={"recipient_id": user})
            except _FAILURES as error:
                failure = delivery_error(error, method=OPEN_DM)
                if isinstance(failure, RateLimited):
                    self._dm_pace_binds = True  # the engine halves the DM pace and blocks it: keep to it now
                raise failure from None
            self.limiter.method_succeeded(self.limits, OPEN_DM)
            self._dms[user] = int(data["id"])
        return self._dms[user]

    async def channel_for(self, target: str) -> int:
        """The channel to post to for a concrete target (``discord:channel:ID`` or ``discord:user:ID``)."""
        kind, _, value = target.split(":", 1)[1].partition(":")
        if kind == "user":
            return await self.dm_channel(int(value))
        return int(value)

    async def patiently(self, call: Callable[[], Awaitable[T]], place: str, *, within: float = _LOOKUP_PATIENCE) -> T:
        """``call()``, with every 429 waited out and the call made again, up to ``within`` seconds of waits.

        A 429 blocks ``place``'s budget (a channel's, a guild's) for its Retry-After, on the
        limiter; the call goes again once the block is over. A block longer than the patience
        left, this one or one a 429 set earlier, is not waited for and no call goes inside it.

        Raises:
            RateLimited: Discord said wait longer than ``within`` seconds in all.
            Any other error of ``call`` (discord.py's own), untranslated.
        """
        waited = 0.0
        while True:
            blocked = self.limiter.blocked_for(self.limits, place)
            if blocked > within - waited:
                raise _rate_limited(blocked, None, f"Discord asked Herald to wait before calling {place} again")
            if blocked > 0:
                waited += blocked
                log.info("Discord said wait %.1fs for %s; waiting, then trying again", blocked, place)
                await self.limiter.acquire_send(self.limits, place)  # returns once the block is over
            try:
                return await call()
            except (discord.RateLimited, discord.HTTPException) as error:
                if not _is_rate_limit(error):
                    raise
                limited = delivery_error(error)
                assert isinstance(limited, RateLimited)
                await self.limiter.throttled(self.limits, target=place, retry_after=limited.retry_after or 1.0)

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
        messageable = self.client.get_partial_messageable(channel)
        try:
            posted = await self.patiently(
                lambda: messageable.send(content, allowed_mentions=discord.AllowedMentions.none(), **extra),
                f"discord:channel:{channel}",
            )
        except _FAILURES as error:
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
        except discord.RateLimited as error:  # 50 threads per 5 minutes per bot: not worth a wait here
            log.info(
                "no thread under message %s (Discord said wait %.0fs); it stays in the channel",
                message,
                error.retry_after,
            )
            return channel
        return int(data["id"])

    async def edit(self, channel: int, message: int, **fields: Any) -> None:
        """Redraw a message Herald posted, waiting out any 429 (errors become Herald's)."""
        partial = self.client.get_partial_messageable(channel).get_partial_message(message)
        try:
            await self.patiently(lambda: partial.edit(**fields), f"discord:channel:{channel}", within=_REDRAW_PATIENCE)
        except _FAILURES as error:
            raise delivery_error(error) from None

    async def role_members(self, guild: int, role: int) -> list[int]:
        """Every human member holding ``role`` (paginated; needs the Server Members intent).

        A 429 on a page is waited out and the page asked for again.
        """
        if not self.members_intent:
            raise PermanentDeliveryError(members_intent_missing())
        found: list[int] = []
        after = 0
        while True:
            try:
                page = await self.patiently(
                    partial(self.client.http.get_members, guild, _MEMBERS_PAGE, after), f"discord:guild:{guild}"
                )
            except discord.Forbidden as error:
                raise PermanentDeliveryError(
                    members_intent_missing(f"Discord said {error.code}: {error.text}")
                ) from None
            except _FAILURES as error:
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
                await gateway.patiently(lambda: gateway.client.fetch_channel(channel), f"discord:channel:{channel}")
            except (discord.NotFound, discord.Forbidden):
                return Resolution(
                    destination,
                    (),
                    problem=f"no channel {channel} that Herald can see (invite the bot, check its role)",
                )
            except _FAILURES as error:
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
        except _FAILURES as error:
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
        except _FAILURES as error:
            raise delivery_error(error) from None
        return None


def _carries(posted: discord.Message, custom_id: str) -> bool:
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in posted.components
        for child in getattr(row, "children", ())
    )
