"""Slack's rate limits as Herald's budgets: each Web API method's tier, a channel's pace, the workspace's ceiling."""

from __future__ import annotations

from bot.service.limits import Limits, Rate

# Slack's tiers, per method, per workspace (https://api.slack.com/docs/rate-limits): Tier 2
# 20+ a minute, Tier 3 50+, Tier 4 100+, with bursts Slack tolerates but does not size. Herald
# declares the floor of each and ten seconds' worth of burst (docs/slack-rate-limits.md).
TIER_2 = Rate.per_minute(20, burst=3)
TIER_3 = Rate.per_minute(50, burst=8)
TIER_4 = Rate.per_minute(100, burst=16)
_BURST_SECONDS = 10.0

# Every Web API method Herald calls, with its documented tier (docs/slack-rate-limits.md).
# chat.postMessage is "special": about one message a second per channel under a workspace
# ceiling; those are the ``per_target`` and ``ceiling`` budgets, not a method's.
METHOD_BUDGETS: dict[str, Rate] = {
    "auth.test": TIER_4,  # special: "hundreds of requests per minute"
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "conversations.history": TIER_3,  # only to look for a copy in doubt
    "conversations.list": TIER_2,
    "conversations.members": TIER_4,
    "conversations.open": TIER_3,  # only to find the DM of a copy in doubt
    "usergroups.users.list": TIER_2,
    "users.list": TIER_2,
    "users.lookupByEmail": TIER_3,
    "views.open": TIER_4,
}
POST_MESSAGE = "chat.postMessage"


def slack_limits(team: str, per_minute: int) -> Limits:
    """Slack's budgets: ~1 message/s per channel, the workspace ceiling, and every other method's tier.

    A DM is posted to the person's user id, which Slack accepts as a channel, so reaching
    someone new costs no ``conversations.open`` (Tier 3) and DMs go at the ceiling.
    """
    return Limits(
        name=f"slack:{team}",
        per_target=Rate(1.0, burst=1.0),
        ceiling=Rate.per_minute(per_minute, burst=max(1.0, per_minute / 60 * _BURST_SECONDS)),
        methods=dict(METHOD_BUDGETS),
    )
