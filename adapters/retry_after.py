"""Reading a ``Retry-After`` header as servers really send it (RFC 9110 section 10.2.3).

Delay-seconds (``120``), the same with a fraction (Slack and Discord send ``1.5``), or an
HTTP-date; anything else (empty, ``soon``, ``-1``, a date already past) gives the
caller's default. The result is bounded to a day (``bot.domain.errors.bounded_wait``),
so no server can make Herald wait forever or overflow a date.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from bot.domain.errors import bounded_wait


def retry_after(value: str | None, *, default: float, now: datetime | None = None) -> float:
    """Seconds to wait, from a ``Retry-After`` header value."""
    text = (value or "").strip()[:10_000]
    seconds: float | None = None
    if text:
        try:
            seconds = float(text)
        except ValueError:
            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                reference = now or datetime.now(UTC)
                seconds = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() - reference.timestamp()
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return default  # infinity is "a very long time": a day, below
    waited = bounded_wait(seconds)
    return default if waited is None else waited
