"""Rate limits as a port: adapters declare budgets, one limiter per process enforces them.

Three kinds of budget, all token buckets:

* per target (Slack: about one message per second per channel);
* the workspace ceiling (Slack: a few hundred messages a minute, with a burst), shared by
  every Herald process on the database through a ``BudgetStore``, so replicas do not
  multiply it;
* per method tiers (Slack Tier 3: 50 a minute for ``conversations.open``), which adapters
  acquire themselves before such calls.

A 429 blocks its bucket until Retry-After has passed (no call before then) and halves
the bucket's rate; each success after that adds back a twentieth of the declared rate,
or more when successes are far apart: the rate climbs back at least linearly in time,
from its floor to the declared rate in ``_RECOVERY`` seconds (additive increase,
multiplicative decrease). A throttled platform is approached again gently, and a slow
tier (50 calls a minute) recovers as fast as a quick one.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.domain.budgets import UNLIMITED, Limits, Rate

if TYPE_CHECKING:
    from bot.service.ports import BudgetStore

__all__ = ["UNLIMITED", "Limits", "Rate", "RateLimiter", "RealTimer", "Timer", "reserve_token"]


class Timer(Protocol):
    """Monotonic time and sleeping, injectable so tests run on virtual time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait that long."""
        ...


class RealTimer:
    """The event loop's clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


_EPSILON = 1e-6
# A shared token is reserved up to this many tokens (at most this many seconds) before its
# moment: the database round trip then happens while the previous token is still due, and
# a taker that wakes late does not cost the bucket its time. Small, because tokens reserved
# ahead go out together after a stall of the event loop (at most this many more than the
# burst). A token reserved ahead reads the shared block again before it is spent, so a
# Retry-After another replica recorded meanwhile is honoured.
_AHEAD_TOKENS = 2.0
_AHEAD_SECONDS = 0.25
_MIN_SHARE = 0.05  # never slow a bucket below 5 % of its declared rate
_RESERVE = 10.0  # tokens of a burst kept back for jitter, at most
_INCREASE = 0.05  # each success adds back 5 % of the declared rate
_RECOVERY = 30.0  # ... or, when that is more, what this many seconds of linear climb give since the last rise


@dataclass(slots=True)
class _Bucket:
    declared: Rate
    rate: float
    tokens: float
    updated: float
    blocked_until: float = 0.0
    spent: float = -math.inf  # shared buckets: when this process last spent a token (see _wait_shared)
    raised: float = 0.0  # when the rate last climbed (or, after a 429, when it may start to)

    def wait(self, now: float) -> float:
        """Take a token (0.0) or say how long until one is there."""
        if now < self.blocked_until:
            return self.blocked_until - now
        self.tokens = min(self.declared.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0 - _EPSILON:  # float time: a token a hair short is a whole token
            self.tokens = max(0.0, self.tokens - 1.0)
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def throttled(self, now: float, retry_after: float) -> None:
        self.blocked_until = max(self.blocked_until, now + retry_after)
        self.rate = max(self.declared.per_second * _MIN_SHARE, self.rate / 2)
        self.tokens = 0.0
        self.updated = self.blocked_until
        self.raised = self.blocked_until

    def succeeded(self, now: float) -> None:
        if self.rate >= self.declared.per_second:
            return
        share = max(_INCREASE, (now - self.raised) / _RECOVERY)
        self.rate = min(self.declared.per_second, self.rate + self.declared.per_second * share)
        self.raised = max(self.raised, now)


def reserve_token(tokens: float, elapsed: float, rate: float, burst: float, within: float) -> tuple[bool, float, float]:
    """A shared bucket's arithmetic, for every ``BudgetStore``: ``(taken, tokens left, wait)``.

    The bucket held ``tokens`` ``elapsed`` seconds ago and refills at ``rate`` up to
    ``burst``. Its next token is taken if it is there within ``within`` seconds; a token
    taken ahead leaves the bucket in debt (below zero), so the next one is due after it.
    ``wait`` is then the seconds until the token may be spent, else the seconds until it
    is within reach (nothing taken).
    """
    tokens = min(burst, tokens + max(0.0, elapsed) * rate)
    if tokens >= 1.0 - _EPSILON:  # float time: a token a hair short is a whole token
        return True, max(0.0, tokens - 1.0), 0.0
    wait = (1.0 - tokens) / rate
    if wait <= within:
        return True, tokens - 1.0, wait
    return False, tokens, wait - within


def _with_reserve(rate: Rate) -> Rate:
    """The budget Herald spends: the declared rate, and the burst less a reserve.

    Messages reach the platform with a little jitter; running the platform's bucket
    dry would turn that jitter into 429s. Half the burst, but never more than
    ``_RESERVE`` tokens, is kept back to absorb it: a few messages' head start.
    """
    return Rate(rate.per_second, max(1.0, rate.burst - min(rate.burst / 2, _RESERVE)))


class RateLimiter:
    """All budgets of one process; share one instance between every worker."""

    def __init__(
        self,
        *,
        timer: Timer | None = None,
        budgets: BudgetStore | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._timer = timer or RealTimer()
        self._budgets = budgets
        self._wall = wall_clock or (lambda: datetime.now(UTC))
        self._buckets: dict[str, _Bucket] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.waited = 0.0  # seconds spent waiting for budget, for progress and benchmarks

    def _bucket(self, key: str, rate: Rate) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            now = self._timer.monotonic()
            own = _with_reserve(rate)
            bucket = self._buckets[key] = _Bucket(own, own.per_second, own.burst, now)
        return bucket

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _wait_local(self, key: str, rate: Rate) -> None:
        bucket = self._bucket(key, rate)
        while (delay := bucket.wait(self._timer.monotonic())) > 0:
            self.waited += delay
            await self._timer.sleep(delay)

    async def _wait_shared(self, key: str, rate: Rate) -> None:
        if self._budgets is None:
            await self._wait_local(key, rate)
            return
        bucket = self._bucket(key, rate)  # keeps this process's AIMD rate and its own view of blocks
        while True:
            # One taker per bucket at a time in this process reserves its token, the others
            # queue here instead of all polling the database; the token's moment is then
            # waited for outside the lock, while the next taker reserves the one after it.
            async with self._lock(key):
                ready = await self._reserve_shared(key, bucket)
            # The shared schedule does not slip when a taker wakes late (a stalled event loop);
            # catching up on that time would send reserved tokens out together and drain the
            # platform's own bucket for good. So each token also waits a whole interval after
            # the last one this process spent, counted from when that one was due if it went
            # within a quarter interval of it (ordinary lateness costs nothing), else from when
            # it really went (a stall's time is not caught up).
            interval = 1.0 / bucket.rate
            due = max(ready, bucket.spent + interval)
            delay = due - self._timer.monotonic()
            if delay > 0:
                self.waited += delay
                await self._timer.sleep(delay)
            now = self._timer.monotonic()
            bucket.spent = due if now - due <= interval / 4 else now
            if delay > 0 and bucket.blocked_until <= now:
                # Reserved ahead: another process may have met a 429 since. Its block is read
                # now, just before the call, so no call goes out inside a Retry-After it recorded.
                assert self._budgets is not None
                remaining = await self._budgets.blocked(key, now=self._wall())
                if remaining > 0:
                    bucket.blocked_until = max(bucket.blocked_until, self._timer.monotonic() + remaining)
            if bucket.blocked_until <= self._timer.monotonic():
                return
            # A 429 came back while this token waited: its moment fell inside the
            # Retry-After, so it is dropped and a fresh one taken after the block.

    async def _reserve_shared(self, key: str, bucket: _Bucket) -> float:
        """Reserve the shared bucket's next token; the monotonic moment it may be spent."""
        budgets = self._budgets
        assert budgets is not None
        while True:
            local = bucket.blocked_until - self._timer.monotonic()
            if local > 0:
                self.waited += local
                await self._timer.sleep(local)
                continue
            asked = self._timer.monotonic()
            within = min(_AHEAD_SECONDS, _AHEAD_TOKENS / bucket.rate)
            taken, wait = await budgets.reserve(
                key, now=self._wall(), rate=bucket.rate, burst=bucket.declared.burst, within=within
            )
            if taken:
                return asked + wait
            # The wait counts from the moment we asked; the database round trip has used part of it.
            delay = max(0.0, wait - (self._timer.monotonic() - asked))
            self.waited += delay
            await self._timer.sleep(delay)

    async def acquire_send(self, limits: Limits, target: str) -> None:
        """Wait until one message to ``target`` fits every budget."""
        if limits.per_target is not None:
            await self._wait_local(f"{limits.name}|target|{target}", limits.per_target)
        if limits.ceiling is not None:
            await self._wait_shared(f"{limits.name}|ceiling", limits.ceiling)

    async def acquire_method(self, limits: Limits, method: str) -> None:
        """Wait until one call of ``method`` fits its tier (no-op for undeclared methods)."""
        rate = limits.methods.get(method)
        if rate is not None:
            await self._wait_shared(f"{limits.name}|method|{method}", rate)

    async def throttled(
        self, limits: Limits, *, target: str | None, retry_after: float, method: str | None = None
    ) -> None:
        """A 429: block the bucket it names (a target's, a method's, else the ceiling) for ``retry_after`` s."""
        now = self._timer.monotonic()
        if method is not None and method in limits.methods:
            key, rate = f"{limits.name}|method|{method}", limits.methods[method]
        elif target is not None and limits.per_target is not None:
            key, rate = f"{limits.name}|target|{target}", limits.per_target
        else:
            key, rate = f"{limits.name}|ceiling", limits.ceiling or Rate(1.0)
        self._bucket(key, rate).throttled(now, retry_after)
        shared = key.endswith("|ceiling") or "|method|" in key
        if shared and self._budgets is not None:
            await self._budgets.block(key, self._wall() + timedelta(seconds=retry_after))

    def capacity(self, limits: Limits, seconds: float, *, direct: bool = False) -> int:
        """How many messages fit in the next ``seconds`` (at least one): the ceiling's, or for
        direct messages the slower of the ceiling and ``direct``."""
        counts = [self._room(f"{limits.name}|ceiling", limits.ceiling, seconds)]
        if direct:
            counts.append(self._room(f"{limits.name}|direct", limits.direct, seconds))
        return min(counts)

    def _room(self, key: str, declared: Rate | None, seconds: float) -> int:
        if declared is None:
            return 1_000_000
        bucket = self._buckets.get(key)
        rate = bucket.rate if bucket is not None else declared.per_second
        blocked = max(0.0, bucket.blocked_until - self._timer.monotonic()) if bucket is not None else 0.0
        return max(1, int(rate * max(0.0, seconds - blocked) + _with_reserve(declared).burst))

    def blocked_for(self, limits: Limits, target: str) -> float:
        """Seconds until ``target``'s budget may be spent again after a 429 (0.0 when it is not blocked)."""
        bucket = self._buckets.get(f"{limits.name}|target|{target}")
        return 0.0 if bucket is None else max(0.0, bucket.blocked_until - self._timer.monotonic())

    def succeeded(self, limits: Limits, target: str) -> None:
        """A message went through: let throttled buckets recover."""
        now = self._timer.monotonic()
        for key in (f"{limits.name}|target|{target}", f"{limits.name}|ceiling"):
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.succeeded(now)

    def method_succeeded(self, limits: Limits, method: str) -> None:
        """A call of a tiered method went through: let its bucket recover from a 429, as messages do."""
        bucket = self._buckets.get(f"{limits.name}|method|{method}")
        if bucket is not None:
            bucket.succeeded(self._timer.monotonic())

    def rate(self, limits: Limits, method: str | None = None) -> float:
        """The pace this process allows itself now, a second: a method's tier, else the ceiling (for progress
        and benchmarks); the declared rate until a 429 lowers it."""
        declared = limits.methods.get(method) if method is not None else limits.ceiling
        if declared is None:
            return math.inf
        key = f"{limits.name}|method|{method}" if method is not None else f"{limits.name}|ceiling"
        bucket = self._buckets.get(key)
        return bucket.rate if bucket is not None else _with_reserve(declared).per_second
