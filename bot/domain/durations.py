"""Durations as written in the plan: ``30s``, ``30m``, ``4h``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta

_PATTERN = re.compile(r"^\s*(\d{1,6})\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """Parse a plan duration such as ``4h``.

    Raises:
        ValueError: with a sentence naming the accepted forms.
    """
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit: 30s, 30m, 4h, 2d")
    amount, unit = int(match.group(1)), match.group(2)
    if amount == 0:
        raise ValueError(f"{text!r} is zero; a duration must be positive")
    return timedelta(**{_UNITS[unit]: amount})


def format_duration(value: timedelta) -> str:
    """Write a duration the way the plan does, in the largest exact unit."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
