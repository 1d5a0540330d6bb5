"""Slack's documented Web API rate limits for every method the fake Slack serves, and the buckets that meter them.

Where the figures come from (read in December 2026):

* The tiers. Slack's "Rate limits" page, https://docs.slack.dev/apis/web-api/rate-limits (formerly
  https://api.slack.com/docs/rate-limits): Tier 1 is 1+ a minute, Tier 2 20+, Tier 3 50+, Tier 4 100+,
  and the "Special" tier varies by method. Limits apply per method, per workspace, per app, and an app
  over one gets HTTP 429 with a ``Retry-After`` header of whole seconds and ``"error": "ratelimited"``.
* Each method's tier. The official Java SDK's table, slackapi/java-slack-sdk
  ``slack-api-client/src/main/java/com/slack/api/methods/MethodsRateLimits.java`` (commit 86ff7ca), with
  the per-minute figures from ``MethodsRateLimitTier.java`` next to it. Every row was checked against
  the "Rate limiting" facts on the method's own page (https://api.slack.com/methods/<method>, as served
  today or as archived in aki017/slack-api-docs) and against abdolence/slack-morphism-rust (commit
  08d264c). All three agree on every row except where a row's ``note`` says otherwise.

Slack does not publish burst sizes. Its page only says "a small amount of burst behavior is tolerated"
(Tier 1), "occasional bursts" (Tier 2), "sporadic bursts are welcome" (Tier 3) and "generous burst
behavior" (Tier 4 and chat.postMessage). So the fake picks conservative ones: ten seconds' worth of a
method's rate (per minute / 6, at least 1), and three messages per channel for chat.postMessage. A
client that passes against the fake may burst less than Slack would allow it to, but never more.

Each budget is a token bucket. It starts full, holds at most ``burst`` tokens, refills at
``per_minute / 60`` tokens a second, and every call takes one token. A call that finds no token is
refused, and the ``Retry-After`` it gets is the whole number of seconds until a token is there (at least 1).
A call that comes before that time is up is refused again and counted as early.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "LIMITS",
    "POST_MESSAGE_PER_CHANNEL",
    "WORKSPACE_MESSAGES_PER_MINUTE",
    "Budget",
    "Meter",
    "MethodLimit",
    "Refusal",
    "Scope",
    "Tier",
    "TokenBucket",
]

_JAVA = "java-slack-sdk MethodsRateLimits.java"
_PAGE = "api.slack.com/methods/{}"
_MORPHISM = "slack-morphism-rust"


class Tier(StrEnum):
    """Slack's rate-limit tiers for Web API methods."""

    TIER_1 = "Tier 1"
    TIER_2 = "Tier 2"
    TIER_3 = "Tier 3"
    TIER_4 = "Tier 4"
    SPECIAL = "Special"


class Scope(StrEnum):
    """What one bucket counts: a method's calls across the workspace, or its calls to one channel."""

    WORKSPACE = "workspace"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Budget:
    """A steady rate (calls a minute) and the burst above it that a bucket holds."""

    per_minute: int
    burst: int

    @classmethod
    def of(cls, per_minute: int) -> Budget:
        """A budget with the fake's conservative burst: ten seconds' worth, at least one call."""
        return cls(per_minute, max(1, per_minute // 6))


_TIER_PER_MINUTE = {Tier.TIER_1: 1, Tier.TIER_2: 20, Tier.TIER_3: 50, Tier.TIER_4: 100}

WORKSPACE_MESSAGES_PER_MINUTE = 600
"""The default workspace-wide ceiling on chat.postMessage. Slack says only "several hundred messages per minute"."""

POST_MESSAGE_PER_CHANNEL = Budget(per_minute=60, burst=3)
"""chat.postMessage to one channel: "1 message per second to a specific channel", with a short burst."""


@dataclass(frozen=True, slots=True)
class MethodLimit:
    """One method's documented limit: its tier, the budget the fake enforces, and where the figures come from."""

    method: str
    tier: Tier
    budget: Budget
    source: str
    scope: Scope = Scope.WORKSPACE
    note: str = ""


def _tiered(method: str, tier: Tier, java: str, note: str = "") -> MethodLimit:
    source = f"{_JAVA}: {java}; {_PAGE.format(method)}: {tier}; {_MORPHISM}: {tier}"
    return MethodLimit(method, tier, Budget.of(_TIER_PER_MINUTE[tier]), source, note=note)


_ROWS = (
    _tiered(
        "apps.connections.open",
        Tier.TIER_1,
        "APPS_CONNECTIONS_OPEN -> Tier1",
        note="The slack_kit method metadata (hex.pm, 1.0.0-alpha.0) labels it Tier 3. The Java SDK, the method page "
        "and slack-morphism all say Tier 1, so Tier 1 it is (slack-morphism budgets Tier 1 at 5 a minute; the fake "
        "keeps Slack's floor, 1). Bolt calls it once per Socket Mode connection or reconnection.",
    ),
    MethodLimit(
        "auth.test",
        Tier.SPECIAL,
        Budget.of(600),
        f"{_JAVA}: AUTH_TEST -> SpecialTier_auth_test, 600 a minute in MethodsRateLimitTier.java; "
        f"{_PAGE.format('auth.test')}: 'This method allows hundreds of requests per minute'",
        note="slack-morphism allows 100 a second. The fake uses the Java SDK's 600 a minute, the stricter figure.",
    ),
    _tiered("chat.postEphemeral", Tier.TIER_4, "CHAT_POST_EPHEMERAL -> Tier4"),
    MethodLimit(
        "chat.postMessage",
        Tier.SPECIAL,
        POST_MESSAGE_PER_CHANNEL,
        f"{_JAVA}: CHAT_POST_MESSAGE -> SpecialTier_chat_postMessage, 60 a minute per channel; "
        f"{_PAGE.format('chat.postMessage')}: '1 message per second to a specific channel ... limiting posting "
        "to several hundred messages per minute. Generous burst behavior is also granted.'",
        scope=Scope.CHANNEL,
        note="Each channel has its own bucket, and every call also draws on the workspace-wide message ceiling "
        "(FakeSlack.workspace_messages_per_minute, default WORKSPACE_MESSAGES_PER_MINUTE).",
    ),
    _tiered("chat.update", Tier.TIER_3, "CHAT_UPDATE -> Tier3"),
    _tiered(
        "conversations.history",
        Tier.TIER_3,
        "CONVERSATIONS_HISTORY -> Tier3",
        note="Tier 3 is the limit for Marketplace apps and internal customer-built apps (a team's own Herald app). A "
        "commercially distributed non-Marketplace app gets 1 a minute and at most 15 messages a page. That "
        "applies to new installs since 2025-05-29 and to existing installs from 2026-03-03 "
        "(docs.slack.dev/reference/methods/conversations.history).",
    ),
    _tiered("conversations.info", Tier.TIER_3, "CONVERSATIONS_INFO -> Tier3"),
    _tiered("conversations.list", Tier.TIER_2, "CONVERSATIONS_LIST -> Tier2"),
    _tiered("conversations.members", Tier.TIER_4, "CONVERSATIONS_MEMBERS -> Tier4"),
    _tiered("conversations.open", Tier.TIER_3, "CONVERSATIONS_OPEN -> Tier3"),
    _tiered("reactions.get", Tier.TIER_3, "REACTIONS_GET -> Tier3"),
    _tiered("usergroups.users.list", Tier.TIER_2, "USERGROUPS_USERS_LIST -> Tier2"),
    _tiered("users.info", Tier.TIER_4, "USERS_INFO -> Tier4"),
    _tiered("users.list", Tier.TIER_2, "USERS_LIST -> Tier2"),
    _tiered("users.lookupByEmail", Tier.TIER_3, "USERS_LOOKUP_BY_EMAIL -> Tier3"),
    _tiered("views.open", Tier.TIER_4, "VIEWS_OPEN -> Tier4"),
)

LIMITS: Mapping[str, MethodLimit] = MappingProxyType({row.method: row for row in _ROWS})
"""Every method the fake Slack serves (and conversations.history, which it will), by name."""


# --- metering ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class TokenBucket:
    """A budget being spent: the tokens left, when they were counted, and the end of the last Retry-After given."""

    budget: Budget
    tokens: float
    counted_at: float
    retry_at: float = -math.inf

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last count, up to the burst."""
        earned = max(0.0, now - self.counted_at) * self.budget.per_minute / 60
        self.tokens = min(float(self.budget.burst), self.tokens + earned)
        self.counted_at = now

    def wait(self) -> float:
        """Seconds until the bucket holds a whole token, as of the last count."""
        return max(0.0, (1 - self.tokens) * 60 / self.budget.per_minute)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a call was refused: the bucket, the whole seconds to tell the caller, and whether it came too early."""

    bucket: str
    retry_after: int
    early: bool


class Meter:
    """Named token buckets, each made full the first time it is asked for."""

    def __init__(self) -> None:
        self._held: dict[str, TokenBucket] = {}

    def take(self, wanted: Sequence[tuple[str, Budget]], now: float) -> Refusal | None:
        """Take one token from every named bucket, or from none of them and say why.

        A bucket whose announced Retry-After is still running refuses the call (early) even if it
        has refilled. When several buckets are empty, the caller is told the longest wait, and every
        one of those buckets holds that window.
        """
        buckets = [(name, self._bucket(name, budget, now)) for name, budget in wanted]
        for name, bucket in buckets:
            if now < bucket.retry_at:
                return Refusal(name, _whole_seconds(bucket.retry_at - now), early=True)
        for _, bucket in buckets:
            bucket.refill(now)
        empty = [(name, bucket) for name, bucket in buckets if bucket.tokens < 1]
        if empty:
            name, longest = max(empty, key=lambda item: item[1].wait())
            retry_after = _whole_seconds(longest.wait())
            for _, bucket in empty:
                bucket.retry_at = now + retry_after
            return Refusal(name, retry_after, early=False)
        for _, bucket in buckets:
            bucket.tokens -= 1
        return None

    def _bucket(self, name: str, budget: Budget, now: float) -> TokenBucket:
        if name not in self._held:
            self._held[name] = TokenBucket(budget, float(budget.burst), now)
        return self._held[name]


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))
