"""Where time comes from (``bot.service.clock`` has the real clock and a settable one)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Where time comes from."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...
