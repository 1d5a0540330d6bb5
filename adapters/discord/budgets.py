"""Discord's rate limits as Herald's budgets: a channel's pace, the global limit, and opening DMs."""

from __future__ import annotations

from adapters.discord.pace import GLOBAL
from bot.service.limits import Limits, Rate

OPEN_DM = "dm.open"

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
