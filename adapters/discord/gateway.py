"""One Discord bot's REST calls: DM channels, walkthrough posts and redraws, threads, a role's members.

discord.py does the HTTP: it keeps a bucket per ``X-RateLimit-Bucket``, waits out short
429s itself and raises ``discord.RateLimited`` for long ones (``max_ratelimit_timeout``).
Herald adds what discord.py does not: the global limit (``pace.RestPace``, 50 requests a
second per bot), a pace for opening DMs (Discord warns against mass DMs), and the
translation of Discord's errors into retryable or permanent delivery errors (``errors``).
A 429 is never a failure: a send goes back to the ledger until its Retry-After has passed;
a lookup, a walkthrough post or a redraw waits it out and tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Literal, TypeVar

import discord
from discord.http import Route

from adapters.discord.budgets import OPEN_DM
from adapters.discord.errors import FAILURES, delivery_error, is_rate_limit, rate_limited
from adapters.discord.pace import GLOBAL
from bot.domain.destinations import Target
from bot.domain.errors import PermanentDeliveryError, RateLimited
from bot.service.limits import Limits, RateLimiter

log = logging.getLogger(__name__)

T = TypeVar("T")

_DM_LANES = 8  # DM channels opened at once (see ``DiscordGateway.dm_channel``)
_MEMBERS_PAGE = 1000
_THREAD_ARCHIVE: Literal[10080] = 10080  # minutes: a week, long enough for the receipts to come in
_LOOKUP_PATIENCE = 300.0  # seconds of 429s a lookup or a walkthrough post waits out, in all, before "try later"
_REDRAW_PATIENCE = 600.0  # the same for a redraw; the next change redraws anyway


def members_intent_missing(detail: str = "") -> str:
    """The sentence a person reads when a role cannot be expanded into its members."""
    return (
        "listing a role's members needs the Server Members intent: switch it on in the Discord Developer "
        "Portal (Bot → Privileged Gateway Intents) and set DISCORD_MEMBERS_INTENT=on"
        + (f" ({detail})" if detail else "")
    )


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
            except FAILURES as error:
                failure = delivery_error(error, method=OPEN_DM)
                if isinstance(failure, RateLimited):
                    self._dm_pace_binds = True  # the engine halves the DM pace and blocks it: keep to it now
                raise failure from None
            self.limiter.method_succeeded(self.limits, OPEN_DM)
            self._dms[user] = int(data["id"])
        return self._dms[user]

    async def channel_for(self, target: Target) -> int:
        """The channel to post to for a concrete target (``discord:channel:ID`` or ``discord:user:ID``)."""
        kind, _, value = target.id.partition(":")
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
                raise rate_limited(blocked, None, f"Discord asked Herald to wait before calling {place} again")
            if blocked > 0:
                waited += blocked
                log.info("Discord said wait %.1fs for %s; waiting, then trying again", blocked, place)
                await self.limiter.acquire_send(self.limits, place)  # returns once the block is over
            try:
                return await call()
            except (discord.RateLimited, discord.HTTPException) as error:
                if not is_rate_limit(error):
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
        except FAILURES as error:
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
        except FAILURES as error:
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
            except FAILURES as error:
                raise delivery_error(error) from None
            for member in page:
                user = member.get("user") or {}
                if user.get("bot") or str(role) not in [str(r) for r in member.get("roles", [])]:
                    continue
                found.append(int(user["id"]))
            if len(page) < _MEMBERS_PAGE:
                return found
            after = max(int((m.get("user") or {}).get("id", 0)) for m in page)
