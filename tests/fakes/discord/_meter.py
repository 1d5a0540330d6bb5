"""The windows that meter the fake Discord's rate limits (``limits``), and what the client has been told.

Every per-route bucket is a fixed window: it starts with the first call after the last window ended,
lasts ``window`` seconds and admits ``limit`` calls. A call that finds it full is refused (429) with
the seconds until it resets. The client is told a bucket is empty by the answer that spent its last
call (``X-RateLimit-Remaining: 0``) or by a 429; a call that comes before that window is over is an
*early call*, refused again and counted. Discord's global limit is never announced before a 429, so
only a call after a global 429, inside its ``retry_after``, is early there. A call its route refuses
still counts in the global second: it reached Discord.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tests.fakes.discord.limits import GLOBAL_PER_SECOND, GLOBAL_WINDOW, RouteLimit, bucket_hash


@dataclass(frozen=True, slots=True)
class Admitted:
    """A call went through; a bucketed route's state after it, for the headers (None: no route limit)."""

    limit: int | None = None
    remaining: int = 0
    reset_after: float = 0.0
    bucket: str = ""


@dataclass(frozen=True, slots=True)
class Refused:
    """A call was refused: by the global limit or the route's, for how long, and whether it came too early."""

    scope: str  # "global" or "user" (the route's own limit), as X-RateLimit-Scope says
    retry_after: float
    early: bool
    bucket: str  # the counter refused: "global" or "<bucket>:<major value>"


@dataclass(slots=True)
class _Window:
    limit: int
    length: float
    used: int = 0
    resets_at: float = -math.inf

    def full(self, now: float) -> bool:
        return now < self.resets_at and self.used >= self.limit

    def spend(self, now: float) -> None:
        if now >= self.resets_at:
            self.used, self.resets_at = 0, now + self.length
        self.used += 1


class Meter:
    """The global window and every route's windows, with what the client has been told to wait for."""

    def __init__(self, global_per_second: int = GLOBAL_PER_SECOND) -> None:
        self._global = _Window(global_per_second, GLOBAL_WINDOW)
        self._windows: dict[str, _Window] = {}
        self._told: dict[str, float] = {}  # counter -> the end of the wait the client was told about

    def take(self, row: RouteLimit, major: str, now: float) -> Admitted | Refused:
        """Spend one call of ``row`` (kept per ``major``), or refuse it and say why."""
        key = f"{row.bucket}:{major}"
        if row.counts_globally and now < self._told.get("global", -math.inf):
            return Refused("global", self._told["global"] - now, early=True, bucket="global")
        if now < self._told.get(key, -math.inf):
            return Refused("user", self._told[key] - now, early=True, bucket=key)
        if row.counts_globally:
            if self._global.full(now):
                self._told["global"] = self._global.resets_at
                return Refused("global", self._global.resets_at - now, early=False, bucket="global")
            self._global.spend(now)
        if row.limit is None:
            return Admitted()
        window = self._windows.setdefault(key, _Window(row.limit, row.window))
        if window.full(now):
            self._told[key] = window.resets_at
            return Refused("user", window.resets_at - now, early=False, bucket=key)
        window.spend(now)
        if window.used >= window.limit:  # the answer says Remaining: 0; the client must wait for the reset
            self._told[key] = window.resets_at
        return Admitted(row.limit, window.limit - window.used, window.resets_at - now, bucket_hash(row.header_name))

    def tell(self, row: RouteLimit, major: str, until: float, *, global_: bool) -> None:
        """A 429 the test queued told the client to wait until ``until``: calls before then are early."""
        key = "global" if global_ else f"{row.bucket}:{major}"
        self._told[key] = max(self._told.get(key, -math.inf), until)
