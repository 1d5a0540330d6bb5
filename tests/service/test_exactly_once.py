"""No target gets a communiqué twice unless a process died with its send in flight.

Whole campaigns run on virtual time (``tests.virtual_loop``): the engine's own waits,
the lease keeper, the limiter and a platform that is slow and answers 429s all take
their full time on the loop's clock, and none on the wall's. The platform counts every
message it accepts and every call made while a Retry-After it announced still runs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app.bootstrap import memory_storage, wire
from bot.domain.commands import parse_release_command
from bot.domain.delivery import DeliveryStatus
from bot.domain.destinations import Platform
from bot.domain.errors import RateLimited
from bot.service.engine import DeliveryEngine
from bot.service.limits import Limits, Rate, RateLimiter
from bot.service.planfile import parse_plan
from bot.service.ports import OutgoingMessage, PlatformLink
from storage.memory import MemoryBudgets, MemoryStore, MemoryUnitOfWork
from tests.fakes import FakeDirectory
from tests.virtual_loop import LoopClock, LoopTimer, run_virtual

_LOOK_AGAIN = 0.5  # virtual seconds between looks at the ledger (no real time passes)


@dataclass
class ThrottlingPlatform:
    """Takes ``latency`` per message, accepting it halfway; answers 429 on the calls numbered in ``throttle``.

    While a Retry-After it announced runs, every call is answered 429 again and counted as early.
    """

    latency: float = 0.0
    throttle: frozenset[int] = frozenset()
    retry_after: float = 1.0
    calls: int = 0
    early: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    in_flight: dict[str, str] = field(default_factory=dict)  # delivery key -> the engine sending it
    blocked_until: float = 0.0
    lookups: int = 0

    def engine_sending(self, owner: str) -> set[str]:
        """The keys ``owner`` has out at the platform right now."""
        return {key for key, sender in self.in_flight.items() if sender == owner}

    async def send(self, message: OutgoingMessage, owner: str = "") -> str:
        now = asyncio.get_running_loop().time()
        self.calls += 1
        if now < self.blocked_until:
            self.early += 1
            raise RateLimited("ratelimited", retry_after=self.blocked_until - now)
        if self.calls in self.throttle:
            self.blocked_until = now + self.retry_after
            raise RateLimited("ratelimited", retry_after=self.retry_after)
        self.in_flight[message.delivery_key] = owner
        try:
            await asyncio.sleep(self.latency / 2)
            self.accepted[message.delivery_key] += 1
            await asyncio.sleep(self.latency / 2)
        finally:
            self.in_flight.pop(message.delivery_key, None)
        return f"ref-{message.delivery_key}-{self.accepted[message.delivery_key]}"

    async def find(self, message: OutgoingMessage, since: object) -> str | None:
        """What a platform that keeps an idempotency mark on each message answers (Slack's metadata)."""
        self.lookups += 1
        copies = self.accepted[message.delivery_key]
        return f"ref-{message.delivery_key}-{copies}" if copies else None


@dataclass
class _Messenger:
    """One engine's view of the shared platform: tells the platform who is sending."""

    platform: ThrottlingPlatform
    owner: str = ""

    async def send(self, message: OutgoingMessage) -> str:
        return await self.platform.send(message, self.owner)


@dataclass
class _AskingMessenger(_Messenger):
    """A messenger that can ask the platform whether a message in doubt is there (a ``Reconciler``)."""

    async def find(self, message: OutgoingMessage, since: object) -> str | None:
        return await self.platform.find(message, since)


@dataclass(frozen=True)
class Campaign:
    """One release to ``targets`` people, sent by ``replicas`` engines sharing one ledger and one ceiling."""

    targets: int = 300
    replicas: int = 1
    lease: float = 2.0
    batch: int = 64
    workers: int = 16
    rate: float = 10.0  # the platform ceiling, messages a second
    burst: float = 20.0
    crash_after: float | None = None  # kill the first engine this many seconds in
    reconcile: bool = False  # the messengers can ask the platform about a message in doubt


@dataclass
class Outcome:
    """What the platform saw and what the ledger says."""

    accepted: Counter[str]
    early: int
    statuses: Counter[DeliveryStatus]
    lost: int  # leases an engine lost while it was sending
    crashed_in_flight: set[str]
    seconds: float


def _plan(targets: int) -> str:
    people = ", ".join(f'"shell:@u{i}"' for i in range(targets))
    return (
        'product = "Acme"\n[access]\nannouncers = ["shell:deployer"]\n'
        f'[[group]]\nid = "everyone"\nto = [{people}]\nack = "none"\nmessage = "Acme {{{{ version }}}} is live."\n'
    )


async def _run(campaign: Campaign, platform: ThrottlingPlatform) -> Outcome:
    store, clock = MemoryStore(), LoopClock()
    plan = parse_plan(_plan(campaign.targets))
    limits = Limits(name="fake", ceiling=Rate(campaign.rate, campaign.burst))
    desk_links = {Platform.SHELL: PlatformLink(FakeDirectory(), _Messenger(platform), limits=limits)}
    herald = wire(plan=plan, storage=memory_storage(store), links=desk_links, clock=clock)
    for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
        reply = await herald.desk.handle(parse_release_command(line, "shell:deployer"))
        assert not reply.failed
    engines, runs, stops = [], [], []
    for n in range(campaign.replicas):
        messenger = (_AskingMessenger if campaign.reconcile else _Messenger)(platform, owner=f"replica-{n}")
        engine = DeliveryEngine(
            plan=plan,
            uow=lambda: MemoryUnitOfWork(store),
            links={Platform.SHELL: PlatformLink(FakeDirectory(), messenger, limits=limits)},
            clock=clock,
            limiter=RateLimiter(timer=LoopTimer(), budgets=MemoryBudgets(store), wall_clock=clock.now),
            lease=timedelta(seconds=campaign.lease),
            batch=campaign.batch,
            workers=campaign.workers,
            owner=f"replica-{n}",
        )
        messenger.owner = engine.owner
        stop = asyncio.Event()
        engines.append(engine)
        stops.append(stop)
        runs.append(asyncio.create_task(engine.run(stop, poll=1.0)))
    loop = asyncio.get_running_loop()
    crashed: set[str] = set()
    if campaign.crash_after is not None:
        await asyncio.sleep(campaign.crash_after)
        crashed = platform.engine_sending(engines[0].owner)
        runs[0].cancel()  # kill -9: its leases stay in the ledger until they run out
        await asyncio.gather(runs[0], return_exceptions=True)
        for task in list(engines[0]._inflight):
            task.cancel()
        await engines[0].leases.close()
    while any(not d.status.settled for d in store.deliveries.values()):
        assert loop.time() < 3600, "the campaign did not finish within an hour of virtual time"
        await asyncio.sleep(_LOOK_AGAIN)
    for stop, engine in zip(stops, engines, strict=True):
        stop.set()
        engine.wake()
    await asyncio.gather(*runs, return_exceptions=True)
    return Outcome(
        accepted=platform.accepted,
        early=platform.early,
        statuses=Counter(d.status for d in store.deliveries.values()),
        lost=sum(engine.leases.lost for engine in engines),
        crashed_in_flight=crashed,
        seconds=loop.time(),
    )


def campaign(spec: Campaign, platform: ThrottlingPlatform) -> Outcome:
    """Run the campaign on virtual time until every delivery has settled."""
    return run_virtual(_run(spec, platform))


def _duplicates(outcome: Outcome) -> set[str]:
    return {key for key, n in outcome.accepted.items() if n > 1}


def test_sends_slower_than_their_lease_go_out_once_each() -> None:
    """One process, 300 targets, each send taking three leases: every target once, no lease lost."""
    outcome = campaign(Campaign(lease=1.0, workers=4), ThrottlingPlatform(latency=3.0))

    assert len(outcome.accepted) == 300
    assert _duplicates(outcome) == set()
    assert outcome.lost == 0
    assert outcome.statuses == Counter({DeliveryStatus.SENT: 300})


def test_a_limiter_wait_longer_than_the_lease_and_429s_send_each_target_once_and_never_early() -> None:
    """A ceiling that holds claims for many leases, 429s on every 7th call: once each, none inside Retry-After."""
    throttle = frozenset(range(7, 2000, 7))
    outcome = campaign(
        Campaign(lease=1.0, rate=2.0, burst=4.0),
        ThrottlingPlatform(latency=0.2, throttle=throttle, retry_after=2.0),
    )

    assert len(outcome.accepted) == 300
    assert _duplicates(outcome) == set()
    assert outcome.early == 0
    assert outcome.lost == 0
    assert outcome.statuses == Counter({DeliveryStatus.SENT: 300})


def test_two_replicas_with_short_leases_send_each_target_once() -> None:
    """Two engines share the ledger and the ceiling, with sends that outlast the lease: once each."""
    outcome = campaign(Campaign(replicas=2, lease=0.5, workers=8), ThrottlingPlatform(latency=1.5))

    assert len(outcome.accepted) == 300
    assert _duplicates(outcome) == set()
    assert outcome.lost == 0


def test_a_killed_replica_repeats_at_most_what_it_had_in_flight_where_the_platform_cannot_be_asked() -> None:
    """One of two engines dies mid-campaign: the other finishes; only sends the dead one had out may repeat."""
    outcome = campaign(Campaign(replicas=2, lease=1.0, workers=8, crash_after=5.0), ThrottlingPlatform(latency=1.0))

    assert outcome.crashed_in_flight, "nothing was in flight at the crash; the test proved nothing"
    assert len(outcome.accepted) == 300
    assert _duplicates(outcome) <= outcome.crashed_in_flight
    assert outcome.statuses == Counter({DeliveryStatus.SENT: 300})


def test_a_killed_replica_repeats_nothing_where_the_platform_can_be_asked() -> None:
    """The survivor looks for each send the dead one had out, records those it finds, and sends only the rest."""
    platform = ThrottlingPlatform(latency=1.0)
    outcome = campaign(Campaign(replicas=2, lease=1.0, workers=8, crash_after=5.0, reconcile=True), platform)

    assert outcome.crashed_in_flight, "nothing was in flight at the crash; the test proved nothing"
    assert len(outcome.accepted) == 300
    assert _duplicates(outcome) == set()
    assert platform.lookups >= len(outcome.crashed_in_flight)
    assert outcome.statuses == Counter({DeliveryStatus.SENT: 300})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lease=st.floats(0.2, 20.0),
    batch=st.integers(1, 64),
    workers=st.integers(1, 16),
    replicas=st.integers(1, 3),
    rate=st.floats(0.5, 50.0),
    burst=st.floats(1.0, 20.0),
    latency=st.floats(0.0, 30.0),
    throttle=st.frozensets(st.integers(1, 200), max_size=40),
    retry_after=st.floats(0.1, 30.0),
    crash_after=st.one_of(st.none(), st.floats(0.0, 60.0)),
    reconcile=st.booleans(),
)
def test_no_target_is_sent_twice_without_a_crash(
    lease: float,
    batch: int,
    workers: int,
    replicas: int,
    rate: float,
    burst: float,
    latency: float,
    throttle: frozenset[int],
    retry_after: float,
    crash_after: float | None,
    reconcile: bool,
) -> None:
    """Whatever the lease, batch, limiter waits and 429s: every target once; a dead replica's sends repeat only
    where the platform cannot be asked whether they arrived."""
    spec = Campaign(
        targets=40,
        replicas=replicas if crash_after is None else max(2, replicas),
        lease=lease,
        batch=batch,
        workers=workers,
        rate=rate,
        burst=burst,
        crash_after=crash_after,
        reconcile=reconcile,
    )
    outcome = campaign(spec, ThrottlingPlatform(latency=latency, throttle=throttle, retry_after=retry_after))

    assert set(outcome.accepted) == {f"2.4|everyone|shell:@u{i}" for i in range(40)}
    assert _duplicates(outcome) <= (set() if reconcile else outcome.crashed_in_flight)
    assert outcome.early == 0
    assert outcome.statuses == Counter({DeliveryStatus.SENT: 40})
