"""A fake Slack that enforces Slack's documented limits, for the benchmarks.

It is the test suite's fake Web API (``tests/fakes_slack.py``) with limits in front:
about one message a second per channel (with a small burst), a workspace ceiling on
``chat.postMessage``, Tier 3 (50 a minute) on ``conversations.open``,
``users.lookupByEmail`` and ``chat.update``. A call over a limit gets Slack's 429 with
a whole-second ``Retry-After``. Every limit is multiplied by ``speed`` so a run that
takes twenty minutes at Slack's pace takes one. It records each call's arrival time
and each Retry-After window, per scope, to count calls made inside one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes_slack import FakeSlack

TIER_3 = ("conversations.open", "users.lookupByEmail", "chat.update")


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0 when a token was taken, else the seconds until one is there."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class LimitedSlack(FakeSlack):
    """The fake Web API, rate-limited like Slack."""

    speed: float = 1.0
    per_minute: float = 600.0
    channel_burst: float = 3.0
    throttled: int = 0
    arrivals: list[tuple[float, str, str]] = field(default_factory=list)  # (time, scope, method)
    windows: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, scope)
    _buckets: dict[str, _Bucket] = field(default_factory=dict, init=False, repr=False)

    def _bucket(self, scope: str, rate: float, burst: float, now: float) -> _Bucket:
        if scope not in self._buckets:
            self._buckets[scope] = _Bucket(rate, burst, burst, now)
        return self._buckets[scope]

    def _scopes(self, method: str, params: dict[str, Any]) -> list[tuple[str, float, float]]:
        if method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            ceiling = self.per_minute * self.speed / 60
            return [
                (f"channel:{channel}", 1.0 * self.speed, self.channel_burst),
                ("ceiling", ceiling, max(1.0, self.per_minute / 20)),
            ]
        if method in TIER_3:
            return [(f"method:{method}", 50 * self.speed / 60, 5.0)]
        return []

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, dict[str, str], Any]:
        now = time.monotonic()
        scopes = self._scopes(method, params)
        for scope, _, _ in scopes:
            self.arrivals.append((now, scope, method))
        waits = [self._bucket(scope, rate, burst, now).take(now) for scope, rate, burst in scopes]
        if any(wait > 0 for wait in waits):
            self.throttled += 1
            retry_after = max(1, math.ceil(max(waits)))
            for (scope, _, _), wait in zip(scopes, waits, strict=True):
                if wait > 0:
                    self.windows.append((now, now + retry_after, scope))
            return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
        return super()._answer(method, params, token)

    def early_calls(self) -> int:
        """Calls that arrived in a scope whose Retry-After window, announced earlier, was still open."""
        by_scope: dict[str, list[tuple[float, float]]] = {}
        for start, end, scope in self.windows:
            by_scope.setdefault(scope, []).append((start, end))
        return sum(1 for at, scope, _ in self.arrivals for start, end in by_scope.get(scope, ()) if start < at < end)
