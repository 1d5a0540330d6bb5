"""Running a Slack benchmark faster than Slack: a fast clock for the fake, the same factor on Herald's budgets.

The fake Slack meters every call on its injectable ``clock``; ``FastClock(speed)`` runs
``speed`` times faster than ``time.monotonic()``, so every one of its buckets refills
``speed`` times faster in real time while keeping its burst. ``scaled_limits`` gives
Herald's declared budgets the same factor (rates ``speed`` times higher, bursts as they
are), so the two sides still agree on what Slack allows.

What a fast clock does not scale: the ``Retry-After`` the fake sends is in its own
seconds, and a client that honours it sleeps that many real seconds, ``speed`` times
longer than needed. That is conservative (never early) but makes every 429 cost
``speed`` times more than on Slack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

from bot.service.limits import Limits, Rate


@dataclass(frozen=True, slots=True)
class FastClock:
    """Seconds that pass ``speed`` times faster than ``time.monotonic()``, from the moment it was made."""

    speed: float
    origin: float = field(default_factory=time.monotonic)

    def __call__(self) -> float:
        return self.origin + (time.monotonic() - self.origin) * self.speed

    def real(self, seconds: float) -> float:
        """A span on this clock, in real seconds."""
        return seconds / self.speed


def scaled_rate(rate: Rate, speed: float) -> Rate:
    """The same budget on a clock ``speed`` times faster: the rate multiplied, the burst kept."""
    return Rate(rate.per_second * speed, rate.burst)


def scaled_limits(limits: Limits, speed: float) -> Limits:
    """``limits`` with every ``Rate`` in it (alone or in a mapping, such as ``methods``) scaled by ``speed``."""
    changes: dict[str, Any] = {}
    for declared in fields(limits):
        value = getattr(limits, declared.name)
        if isinstance(value, Rate):
            changes[declared.name] = scaled_rate(value, speed)
        elif isinstance(value, dict):
            changes[declared.name] = {
                key: scaled_rate(rate, speed) if isinstance(rate, Rate) else rate for key, rate in value.items()
            }
    return replace(limits, **changes)
