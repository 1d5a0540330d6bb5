"""Rate limits: per target, the shared ceiling, Retry-After honoured exactly, AIMD recovery."""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.errors import RateLimited
from bot.service.clock import FixedClock
from bot.service.limits import Limits, Rate, RateLimiter
from bot.service.ports import OutgoingMessage
from storage.memory import MemoryBudgets, MemoryStore
from tests.fakes import VirtualTime

SLACKISH = Limits(name="slack:T1", per_target=Rate(1.0), ceiling=Rate(10.0, burst=5))


def _limiter(virtual: VirtualTime, budgets: MemoryBudgets | None = None) -> RateLimiter:
    return RateLimiter(timer=virtual, budgets=budgets, wall_clock=virtual.clock.now)


async def _times(limiter: RateLimiter, virtual: VirtualTime, targets: list[str]) -> list[float]:
    start = virtual.monotonic()
    stamps = []
    for target in targets:
        await limiter.acquire_send(SLACKISH, target)
        stamps.append(round(virtual.monotonic() - start, 6))
    return stamps


async def test_one_target_gets_at_most_one_message_a_second() -> None:
    """Five messages to one channel leave a second apart."""
    virtual = VirtualTime(FixedClock())
    assert await _times(_limiter(virtual), virtual, ["#eng"] * 5) == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_the_ceiling_allows_half_its_burst_then_its_rate() -> None:
    """Distinct targets go out a few at once (half the burst, the rest kept for jitter), then ten a second."""
    virtual = VirtualTime(FixedClock())
    stamps = await _times(_limiter(virtual), virtual, [f"@u{i}" for i in range(6)])
    assert stamps == [0.0, 0.0, 0.05, 0.15, 0.25, 0.35]


async def test_no_call_before_retry_after_expires() -> None:
    """After a 429 with Retry-After 3 s, the next message waits the full 3 s."""
    virtual = VirtualTime(FixedClock())
    limiter = _limiter(virtual)
    await limiter.acquire_send(SLACKISH, "@a")
    await limiter.throttled(SLACKISH, target=None, retry_after=3.0)
    start = virtual.monotonic()
    await limiter.acquire_send(SLACKISH, "@b")
    assert virtual.monotonic() - start >= 3.0


async def test_repeated_429s_halve_the_rate_and_successes_restore_it() -> None:
    """AIMD: each 429 halves the ceiling's rate; successes add it back step by step."""
    virtual = VirtualTime(FixedClock())
    limiter = _limiter(virtual)
    await limiter.acquire_send(SLACKISH, "@a")
    await limiter.throttled(SLACKISH, target=None, retry_after=1.0)
    await limiter.throttled(SLACKISH, target=None, retry_after=1.0)
    assert limiter.capacity(SLACKISH, 10.0) < 10 * 10
    for _ in range(40):
        limiter.succeeded(SLACKISH, "@a")
    await virtual.sleep(2.0)  # past the Retry-After block
    assert limiter.capacity(SLACKISH, 10.0) == int(10.0 * 10.0 + 5 / 2)


async def test_method_tiers_pace_their_own_calls() -> None:
    """A Tier 3 method (50 a minute) is paced apart from messages; undeclared methods are free."""
    virtual = VirtualTime(FixedClock())
    limiter = _limiter(virtual)
    tiers = Limits(name="slack:T1", methods={"conversations.open": Rate.per_minute(50)})
    start = virtual.monotonic()
    for _ in range(3):
        await limiter.acquire_method(tiers, "conversations.open")
        await limiter.acquire_method(tiers, "auth.test")
    assert round(virtual.monotonic() - start, 3) == round(2 * 60 / 50, 3)


async def test_two_replicas_share_one_ceiling() -> None:
    """Two processes on one database send at the ceiling together, not twice it."""
    virtual = VirtualTime(FixedClock())
    budgets = MemoryBudgets(MemoryStore())
    first, second = _limiter(virtual, budgets), _limiter(virtual, budgets)
    start = virtual.monotonic()
    await asyncio.gather(
        *(first.acquire_send(SLACKISH, f"@a{i}") for i in range(25)),
        *(second.acquire_send(SLACKISH, f"@b{i}") for i in range(25)),
    )
    # 50 messages: 5 from the burst, 45 more at 10 a second.
    assert virtual.monotonic() - start >= 4.5


@dataclass
class StormMessenger:
    """Answers a fifth of the calls with 429 and a Retry-After of 1 to 5 s, and records every call."""

    virtual: VirtualTime
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    calls: list[tuple[float, str]] = field(default_factory=list)
    windows: list[tuple[float, float]] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> str:
        now = self.virtual.monotonic()
        self.calls.append((now, message.target))
        await self.virtual.sleep(0.01)  # the platform takes a moment to answer
        if self.rng.random() < 0.2:
            retry_after = float(self.rng.randint(1, 5))
            self.windows.append((self.virtual.monotonic(), self.virtual.monotonic() + retry_after))
            raise RateLimited("ratelimited", retry_after=retry_after)
        self.delivered.append(message.target)
        return f"ts-{len(self.delivered)}"


async def test_a_429_storm_completes_with_no_call_inside_a_retry_after_window() -> None:
    """With a fifth of calls throttled, every target is delivered once and no call lands in a window."""
    from bot.app.bootstrap import memory_storage, wire
    from bot.domain.destinations import Platform
    from bot.service.planfile import parse_plan
    from bot.service.ports import PlatformLink
    from tests.fakes import FakeDirectory

    people = ", ".join(f'"shell:@u{i}"' for i in range(150))
    plan = parse_plan(
        f'product = "P"\n[access]\nannouncers = ["shell:a"]\n'
        f'[[group]]\nid = "all"\nto = [{people}]\nmessage = "P {{{{ version }}}} is live"\n'.replace(
            'id = "all"', 'id = "everyone"'
        )
    )
    clock = FixedClock()
    virtual = VirtualTime(clock)
    store = MemoryStore()
    messenger = StormMessenger(virtual)
    limits = Limits(name="shell", per_target=Rate(1.0), ceiling=Rate(20.0, burst=10))
    links = {Platform.SHELL: PlatformLink(FakeDirectory(), messenger, limits=limits)}

    storage = memory_storage(store)
    herald = wire(
        plan=plan,
        storage=storage,
        links=links,
        clock=clock,
        limiter=RateLimiter(timer=virtual, budgets=MemoryBudgets(store), wall_clock=clock.now),
    )
    for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
        from bot.domain.commands import parse_release_command

        reply = await herald.desk.handle(parse_release_command(line, "shell:a"))
        assert not reply.failed
    for _ in range(500):
        await herald.engine.run_until_idle()
        async with storage.uow() as uow:
            upcoming = await uow.deliveries.next_due(clock.now())
        if upcoming is None:
            break
        await virtual.sleep((upcoming - clock.now()).total_seconds())
    assert sorted(messenger.delivered) == sorted(f"shell:@u{i}" for i in range(150))
    assert messenger.windows, "the storm threw no 429 at all"
    early = [(t, target) for t, target in messenger.calls for start, end in messenger.windows if start < t < end]
    assert early == []
    assert store.releases["2.4"].state.value == "sent"
    assert timedelta(seconds=virtual.slept) > timedelta(seconds=150 / 20)


@dataclass
class LateTimer:
    """Virtual time on a busy event loop: every sleep wakes a millisecond late."""

    virtual: VirtualTime

    def monotonic(self) -> float:
        return self.virtual.monotonic()

    async def sleep(self, seconds: float) -> None:
        await self.virtual.sleep(seconds + 0.001)


@dataclass
class SlowBudgets:
    """The shared buckets behind a database round trip of 4 ms (2 ms each way)."""

    virtual: VirtualTime
    inner: MemoryBudgets = field(default_factory=lambda: MemoryBudgets(MemoryStore()))

    async def take(self, bucket: str, *, now: datetime, rate: float, burst: float) -> float:
        await self.virtual.sleep(0.002)
        answer = await self.inner.take(bucket, now=self.virtual.clock.now(), rate=rate, burst=burst)
        await self.virtual.sleep(0.002)
        return answer

    async def reserve(
        self, bucket: str, *, now: datetime, rate: float, burst: float, within: float
    ) -> tuple[bool, float]:
        await self.virtual.sleep(0.002)
        answer = await self.inner.reserve(bucket, now=self.virtual.clock.now(), rate=rate, burst=burst, within=within)
        await self.virtual.sleep(0.002)
        return answer

    async def block(self, bucket: str, until: datetime) -> None:
        await self.inner.block(bucket, until)

    async def blocked(self, bucket: str, *, now: datetime) -> float:
        await self.virtual.sleep(0.002)
        answer = await self.inner.blocked(bucket, now=self.virtual.clock.now())
        await self.virtual.sleep(0.002)
        return answer


async def test_a_slow_database_and_late_wakeups_do_not_stretch_a_shared_pace() -> None:
    """Twenty Tier 3 calls at ten a second take 1.9 s: each token is reserved before its moment, not late."""
    virtual = VirtualTime(FixedClock())
    limiter = RateLimiter(timer=LateTimer(virtual), budgets=SlowBudgets(virtual), wall_clock=virtual.clock.now)
    tiers = Limits(name="slack:T1", methods={"conversations.open": Rate(10.0)})
    start = virtual.monotonic()
    moments = []
    for _ in range(20):
        await limiter.acquire_method(tiers, "conversations.open")
        moments.append(virtual.monotonic() - start)

    assert moments[-1] < 1.9 + 0.01
    assert all(later - earlier >= 0.1 - 0.005 for earlier, later in itertools.pairwise(moments))


async def test_a_429_while_a_reserved_token_waits_holds_it_until_the_block_ends() -> None:
    """A token reserved ahead is not spent inside a Retry-After that came back while it waited."""
    virtual = VirtualTime(FixedClock())
    tiers = Limits(name="slack:T1", methods={"conversations.open": Rate(10.0)})

    @dataclass
    class ThrottledWhileWaiting:
        """Virtual time where a 429 with Retry-After 2 s comes back during the first wait."""

        limiter: RateLimiter | None = None
        fired: bool = False

        def monotonic(self) -> float:
            return virtual.monotonic()

        async def sleep(self, seconds: float) -> None:
            if not self.fired and self.limiter is not None:
                self.fired = True
                await self.limiter.throttled(tiers, target=None, retry_after=2.0, method="conversations.open")
            await virtual.sleep(seconds)

    timer = ThrottledWhileWaiting()
    limiter = timer.limiter = RateLimiter(
        timer=timer, budgets=MemoryBudgets(MemoryStore()), wall_clock=virtual.clock.now
    )
    await limiter.acquire_method(tiers, "conversations.open")  # the burst: no wait
    start = virtual.monotonic()

    await limiter.acquire_method(tiers, "conversations.open")  # reserved 0.1 s ahead, then the 429

    assert timer.fired
    assert virtual.monotonic() - start >= 2.0


async def test_a_throttled_method_recovers_its_pace_as_its_calls_succeed() -> None:
    """A 429 on a Tier 3 method halves its rate; its successful calls add the rate back, as messages do."""
    virtual = VirtualTime(FixedClock())
    limiter = _limiter(virtual)
    tiers = Limits(name="slack:T1", methods={"conversations.open": Rate(10.0)})
    await limiter.acquire_method(tiers, "conversations.open")
    await limiter.throttled(tiers, target=None, retry_after=1.0, method="conversations.open")
    await limiter.throttled(tiers, target=None, retry_after=1.0, method="conversations.open")
    for _ in range(20):
        limiter.method_succeeded(tiers, "conversations.open")
    await virtual.sleep(1.0)  # past the Retry-After block
    start = virtual.monotonic()

    for _ in range(10):  # the bucket refills from empty when the block ends
        await limiter.acquire_method(tiers, "conversations.open")

    assert round(virtual.monotonic() - start, 3) == 1.0  # ten a second again, not 2.5


async def test_after_a_stall_shared_tokens_go_out_an_interval_apart_not_together() -> None:
    """A taker that wakes half a second late is not caught up on: the next token waits its interval after it."""
    virtual = VirtualTime(FixedClock())

    @dataclass
    class StallOnce:
        """Virtual time whose first wait overruns by half a second (a stalled event loop)."""

        stalled: bool = False

        def monotonic(self) -> float:
            return virtual.monotonic()

        async def sleep(self, seconds: float) -> None:
            extra = 0.0 if self.stalled else 0.5
            self.stalled = True
            await virtual.sleep(seconds + extra)

    limiter = RateLimiter(timer=StallOnce(), budgets=MemoryBudgets(MemoryStore()), wall_clock=virtual.clock.now)
    tiers = Limits(name="slack:T1", methods={"conversations.open": Rate(10.0)})
    start = virtual.monotonic()
    moments = []
    for _ in range(4):
        await limiter.acquire_method(tiers, "conversations.open")
        moments.append(round(virtual.monotonic() - start, 6))

    assert moments == [0.0, 0.6, 0.7, 0.8]


async def test_after_a_429_storm_a_slow_tier_climbs_back_to_its_rate_within_a_minute() -> None:
    """Ten 429s floor a 50-a-minute tier; calls that then succeed bring it back to 50 a minute in under 60 s."""
    virtual = VirtualTime(FixedClock())
    limiter = _limiter(virtual)
    tiers = Limits(name="slack:T1", methods={"conversations.members": Rate.per_minute(50, burst=8)})
    declared = limiter.rate(tiers, "conversations.members")
    for _ in range(10):  # the storm: every call refused
        await limiter.acquire_method(tiers, "conversations.members")
        await limiter.throttled(tiers, target=None, retry_after=1.0, method="conversations.members")
    floor = limiter.rate(tiers, "conversations.members")
    assert floor < declared / 10
    storm_over = virtual.monotonic()

    while limiter.rate(tiers, "conversations.members") < declared:  # the storm is over: every call succeeds
        await limiter.acquire_method(tiers, "conversations.members")
        limiter.method_succeeded(tiers, "conversations.members")

    assert virtual.monotonic() - storm_over < 60.0
