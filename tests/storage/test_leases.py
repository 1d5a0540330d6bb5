"""Leases on the delivery ledger: what is due, who holds it, whose outcome counts, and when to look next."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import pytest

from bot.domain.delivery import Delivery, DeliveryStatus
from bot.service.ports import UnitOfWorkFactory
from storage.unit_of_work import SqlStorage
from tests.storage.support import a_delivery, a_release, announce, at, plan

ONE, TWO = "herald-one", "herald-two"


def pending(target: str, *, not_before: datetime | None = None) -> Delivery:
    """A pending delivery to ``target``, due from ``not_before`` (at once when None)."""
    return replace(a_delivery(target), not_before=not_before)


def leased(target: str, until: datetime | None, owner: str = ONE) -> Delivery:
    """A delivery to ``target`` being sent by ``owner``, whose lease runs until ``until``."""
    return replace(a_delivery(target), status=DeliveryStatus.SENDING, attempts=1, leased_until=until, lease_owner=owner)


def keys(*deliveries: Delivery) -> list[str]:
    """The idempotency keys of the deliveries."""
    return [delivery.key for delivery in deliveries]


async def claim(
    uow: UnitOfWorkFactory, keys: Sequence[str], now: datetime, until: datetime, owner: str
) -> list[Delivery]:
    """Claim in a unit of work of its own, and commit."""
    async with uow() as work:
        claimed = await work.deliveries.claim(keys, now, until, owner)
        await work.commit()
    return claimed


async def settle(uow: UnitOfWorkFactory, delivery: Delivery, owner: str) -> bool:
    """Settle in a unit of work of its own, and commit."""
    async with uow() as work:
        stored = await work.deliveries.settle(delivery, owner)
        await work.commit()
    return stored


async def stored(uow: UnitOfWorkFactory, delivery: Delivery) -> Delivery | None:
    """The delivery as stored now."""
    async with uow() as work:
        return await work.deliveries.get(delivery.key)


# -- due -----------------------------------------------------------------------------


async def test_due_lists_what_may_be_claimed_now_oldest_first(uow: UnitOfWorkFactory) -> None:
    """Due: pending with no not-before or one passed, and sending whose lease has run out, in insertion order."""
    now_due = pending("shell:@ann")
    later = pending("shell:@bob", not_before=at(5))
    sent = a_delivery("shell:@cy").sent("shell:@cy/1", at(1))
    failed = a_delivery("shell:@dee").failed("no such user", permanent=True, now=at(1))
    expired = leased("shell:@eve", at(1))
    held = leased("shell:@fay", at(10))
    unleased = leased("shell:@gus", None)
    retry = pending("shell:@hal", not_before=at(1))
    await plan(uow, now_due, later, sent, failed, expired, held, unleased, retry)

    async with uow() as work:
        assert await work.deliveries.due(at(2), 100) == [now_due, expired, retry]
        assert await work.deliveries.due(at(5), 100) == [now_due, later, expired, retry]
        assert await work.deliveries.due(at(10), 100) == [now_due, later, expired, held, retry]


async def test_due_gives_at_most_limit_deliveries(uow: UnitOfWorkFactory) -> None:
    """With more due than the limit, due gives the oldest ``limit`` of them."""
    deliveries = [pending(f"shell:@person{n}") for n in range(5)]
    await plan(uow, *deliveries)

    async with uow() as work:
        assert await work.deliveries.due(at(0), 2) == deliveries[:2]
        assert await work.deliveries.due(at(0), 0) == []


# -- claim ---------------------------------------------------------------------------


async def test_a_claim_leases_the_claimable_keys_only(uow: UnitOfWorkFactory) -> None:
    """Claimed: sending, one more attempt, leased to the owner; not yet due, settled or unknown keys are left out."""
    first, scheduled, second = pending("shell:@ann"), pending("shell:@bob", not_before=at(5)), pending("shell:@cy")
    sent = a_delivery("shell:@dee").sent("shell:@dee/1", at(0))
    await plan(uow, first, scheduled, second, sent)

    claimed = await claim(
        uow, [*keys(first, scheduled, second, sent), "2.4|engineering|shell:@nobody"], at(1), at(6), ONE
    )

    assert claimed == [first.leased(ONE, at(6), at(1)), second.leased(ONE, at(6), at(1))]
    assert (claimed[0].status, claimed[0].attempts, claimed[0].lease_owner) == (DeliveryStatus.SENDING, 1, ONE)
    assert await stored(uow, first) == claimed[0]
    assert await stored(uow, scheduled) == scheduled
    assert await stored(uow, sent) == sent


async def test_a_leased_delivery_is_claimed_again_only_when_its_lease_runs_out(uow: UnitOfWorkFactory) -> None:
    """While the lease holds nobody else gets the delivery; once it has run out the next claim takes it over."""
    delivery = pending("shell:@ann")
    await plan(uow, delivery)
    [mine] = await claim(uow, keys(delivery), at(1), at(6), ONE)

    assert await claim(uow, keys(delivery), at(5), at(10), TWO) == []
    assert await claim(uow, keys(delivery), at(5), at(10), ONE) == []
    [theirs] = await claim(uow, keys(delivery), at(6), at(11), TWO)

    assert theirs == mine.leased(TWO, at(11), at(6))
    assert (theirs.attempts, theirs.lease_owner, theirs.leased_until) == (2, TWO, at(11))
    assert await stored(uow, delivery) == theirs


async def test_a_started_send_is_in_doubt_until_settled_and_a_takeover_keeps_the_doubt(
    uow: UnitOfWorkFactory,
) -> None:
    """Noting a send's start marks it in doubt (the earliest start kept); only its holder may; sent clears it."""
    started, idle = pending("shell:@ann"), pending("shell:@bob")
    await plan(uow, started, idle)
    await claim(uow, keys(started, idle), at(1), at(6), ONE)

    async with uow() as work:
        assert await work.deliveries.start(started.key, TWO, at(2)) is False
        assert await work.deliveries.start(started.key, ONE, at(2)) is True
        await work.commit()
    [theirs] = await claim(uow, keys(started), at(7), at(12), TWO)
    [fresh] = await claim(uow, keys(idle), at(7), at(12), TWO)
    async with uow() as work:
        assert await work.deliveries.start(started.key, TWO, at(8)) is True
        await work.commit()

    assert (theirs.in_doubt_since, fresh.in_doubt_since) == (at(2), None)  # claimed but never started: no doubt
    assert (await stored(uow, started)).in_doubt_since == at(2)
    assert await settle(uow, theirs.sent("shell:@ann/1", at(9)), TWO) is True
    assert (await stored(uow, started)).in_doubt_since is None


async def test_a_key_named_twice_is_claimed_once(uow: UnitOfWorkFactory) -> None:
    """Naming a key twice in one claim leases it once, with one attempt."""
    delivery = pending("shell:@ann")
    await plan(uow, delivery)

    assert await claim(uow, keys(delivery, delivery), at(1), at(6), ONE) == [delivery.leased(ONE, at(6), at(1))]


async def test_concurrent_claims_split_the_keys_between_them(uow: UnitOfWorkFactory) -> None:
    """Workers claiming the same keys at once get disjoint sets, in insertion order, that hold every key once."""
    deliveries = [pending(f"shell:@person{n}") for n in range(30)]
    await plan(uow, *deliveries)
    owners = [f"herald-{n}" for n in range(3)]

    results = await asyncio.gather(*(claim(uow, keys(*deliveries), at(1), at(6), owner) for owner in owners))

    claimed = [delivery.key for result in results for delivery in result]
    assert sorted(claimed) == sorted(keys(*deliveries))
    for owner, result in zip(owners, results, strict=True):
        taken = set(keys(*result))
        assert result == [d.leased(owner, at(6), at(1)) for d in deliveries if d.key in taken]
    async with uow() as work:
        assert [d.attempts for d in await work.deliveries.for_release("2.4")] == [1] * len(deliveries)


async def test_workers_taking_due_batches_send_every_delivery_once(uow: UnitOfWorkFactory) -> None:
    """Workers that each claim what due() lists, batch after batch, lease every delivery exactly once."""
    deliveries = [pending(f"shell:@person{n}") for n in range(40)]
    await plan(uow, *deliveries)

    async def work_through(owner: str) -> list[str]:
        taken: list[str] = []
        while True:
            async with uow() as work:
                due = await work.deliveries.due(at(1), 4)
                if not due:
                    return taken
                taken += keys(*await work.deliveries.claim(keys(*due), at(1), at(6), owner))
                await work.commit()

    results = await asyncio.gather(*(work_through(f"herald-{n}") for n in range(4)))

    assert sorted(key for taken in results for key in taken) == sorted(keys(*deliveries))


async def test_a_claim_does_not_wait_for_rows_another_claim_holds(uow: UnitOfWorkFactory) -> None:
    """While one claim is not yet committed, another over the same keys returns at once without them."""
    if isinstance(uow, SqlStorage) and uow.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: a second claim waits for the first to commit")
    held, free = pending("shell:@ann"), pending("shell:@bob")
    await plan(uow, held, free)

    async with uow() as first, uow() as second:
        assert await first.deliveries.claim(keys(held), at(1), at(6), ONE) == [held.leased(ONE, at(6), at(1))]
        others = await asyncio.wait_for(second.deliveries.claim(keys(held, free), at(1), at(6), TWO), timeout=5)
        await second.commit()
        await first.commit()

    assert others == [free.leased(TWO, at(6), at(1))]
    assert await stored(uow, held) == held.leased(ONE, at(6), at(1))


# -- renew ---------------------------------------------------------------------------


async def renew(uow: UnitOfWorkFactory, keys: Sequence[str], owner: str, until: datetime) -> set[str]:
    """Renew in a unit of work of its own, and commit."""
    async with uow() as work:
        renewed = await work.deliveries.renew(keys, owner, until)
        await work.commit()
    return renewed


async def test_the_lease_holder_extends_its_lease_and_nobody_can_claim_meanwhile(uow: UnitOfWorkFactory) -> None:
    """A renewed lease runs to its new end: a claim after the old end but before the new one gets nothing."""
    delivery = pending("shell:@ann")
    await plan(uow, delivery)
    [mine] = await claim(uow, keys(delivery), at(1), at(6), ONE)

    assert await renew(uow, keys(delivery), ONE, at(20)) == {delivery.key}

    assert await claim(uow, keys(delivery), at(10), at(15), TWO) == []
    assert await stored(uow, delivery) == replace(mine, leased_until=at(20))
    assert await settle(uow, mine.sent("shell:@ann/1", at(11)), ONE) is True


async def test_a_lease_taken_over_or_settled_is_not_renewed(uow: UnitOfWorkFactory) -> None:
    """Renewing gives back only the keys still held: not one another worker took over, settled, or unknown."""
    taken, done, kept = pending("shell:@ann"), pending("shell:@bob"), pending("shell:@cy")
    await plan(uow, taken, done, kept)
    claimed = await claim(uow, keys(taken, done, kept), at(1), at(6), ONE)
    [theirs] = await claim(uow, keys(taken), at(7), at(12), TWO)
    assert await settle(uow, claimed[1].sent("shell:@bob/1", at(7)), ONE) is True

    renewed = await renew(uow, [*keys(taken, done, kept), "2.4|engineering|shell:@nobody"], ONE, at(30))

    assert renewed == {kept.key}
    assert await stored(uow, taken) == theirs
    assert await stored(uow, done) == claimed[1].sent("shell:@bob/1", at(7))


async def test_a_run_out_lease_nobody_took_is_still_the_holders_to_renew(uow: UnitOfWorkFactory) -> None:
    """A lease past its end that no other claim took is renewed, so the holder's send stays its own."""
    delivery = pending("shell:@ann")
    await plan(uow, delivery)
    await claim(uow, keys(delivery), at(1), at(6), ONE)

    assert await renew(uow, keys(delivery), ONE, at(20)) == {delivery.key}
    assert await claim(uow, keys(delivery), at(8), at(13), TWO) == []


# -- settle --------------------------------------------------------------------------


async def test_the_lease_holder_settles_the_outcome(uow: UnitOfWorkFactory) -> None:
    """The owner of the lease stores the outcome, sent or failed."""
    ann, bob = pending("shell:@ann"), pending("shell:@bob")
    await plan(uow, ann, bob)
    claimed = await claim(uow, keys(ann, bob), at(1), at(6), ONE)
    sent = claimed[0].sent("shell:@ann/1", at(2))
    failed = claimed[1].failed("no such user", permanent=True, now=at(2))

    assert await settle(uow, sent, ONE) is True
    assert await settle(uow, failed, ONE) is True

    assert await stored(uow, ann) == sent
    assert await stored(uow, bob) == failed


async def test_settling_is_refused_to_anyone_but_the_lease_holder(uow: UnitOfWorkFactory) -> None:
    """Another owner's outcome is not stored; the delivery stays leased as it was."""
    delivery = pending("shell:@ann")
    await plan(uow, delivery)
    [claimed] = await claim(uow, keys(delivery), at(1), at(6), ONE)

    assert await settle(uow, claimed.sent("shell:@ann/1", at(2)), TWO) is False

    assert await stored(uow, delivery) == claimed


async def test_a_lease_taken_over_cannot_be_settled_by_its_former_holder(uow: UnitOfWorkFactory) -> None:
    """After another worker re-claimed a run-out lease, the first worker's outcome is refused and the second's kept."""
    delivery = pending("shell:@ann")
    await plan(uow, delivery)
    [mine] = await claim(uow, keys(delivery), at(1), at(6), ONE)
    [theirs] = await claim(uow, keys(delivery), at(7), at(12), TWO)

    assert await settle(uow, mine.sent("shell:@ann/1", at(8)), ONE) is False
    assert await stored(uow, delivery) == theirs
    assert await settle(uow, theirs.sent("shell:@ann/2", at(9)), TWO) is True
    assert await stored(uow, delivery) == theirs.sent("shell:@ann/2", at(9))


async def test_only_a_delivery_being_sent_can_be_settled(uow: UnitOfWorkFactory) -> None:
    """Settling a pending, already settled or unknown delivery stores nothing."""
    waiting, done = pending("shell:@ann"), pending("shell:@bob")
    await plan(uow, waiting, done)
    [claimed] = await claim(uow, keys(done), at(1), at(6), ONE)
    assert await settle(uow, claimed.sent("shell:@bob/1", at(2)), ONE) is True

    assert await settle(uow, waiting.sent("shell:@ann/1", at(3)), ONE) is False
    assert await settle(uow, claimed.failed("late", permanent=False, now=at(3)), ONE) is False
    assert await settle(uow, pending("shell:@nobody").sent("x", at(3)), ONE) is False

    assert await stored(uow, waiting) == waiting
    assert await stored(uow, done) == claimed.sent("shell:@bob/1", at(2))


async def test_a_retry_waits_for_its_backoff(uow: UnitOfWorkFactory) -> None:
    """A delivery settled back to pending until a time is not due before it, and due from it."""
    delivery = pending("shell:@ann")
    await plan(uow, delivery)
    [claimed] = await claim(uow, keys(delivery), at(1), at(6), ONE)
    retry = claimed.retry_at("slow down", at(10), at(2))
    assert await settle(uow, retry, ONE) is True

    async with uow() as work:
        assert await work.deliveries.due(at(9), 10) == []
        assert await work.deliveries.next_due(at(9)) == at(10)
        assert await work.deliveries.due(at(10), 10) == [retry]
    [again] = await claim(uow, keys(delivery), at(10), at(15), TWO)
    assert (again.attempts, again.error, again.lease_owner) == (2, "slow down", TWO)


async def test_a_reset_delivery_is_due_again_with_a_fresh_count(uow: UnitOfWorkFactory) -> None:
    """A failed delivery a person retries (update with reset) is due at once, attempts from zero."""
    await announce(uow, a_release())
    failed = replace(pending("shell:@ann", not_before=at(3)), attempts=4).failed("boom", permanent=True, now=at(4))
    async with uow() as work:
        await work.deliveries.add_new([failed])
        await work.deliveries.update(failed.reset(at(5)))
        await work.commit()

    async with uow() as work:
        assert await work.deliveries.due(at(5), 10) == [failed.reset(at(5))]
        assert (await work.deliveries.due(at(5), 10))[0].attempts == 0


# -- next_due ------------------------------------------------------------------------


async def test_next_due_is_the_earliest_schedule_or_lease_end_after_now(uow: UnitOfWorkFactory) -> None:
    """next_due: the soonest future not-before of a pending delivery or lease end of a sending one."""
    async with uow() as work:
        assert await work.deliveries.next_due(at(0)) is None
    settled = replace(a_delivery("shell:@cy").sent("shell:@cy/1", at(0)), not_before=at(3), leased_until=at(4))
    await plan(
        uow,
        pending("shell:@ann", not_before=at(8)),
        leased("shell:@bob", at(6)),
        pending("shell:@dee", not_before=at(1)),
        pending("shell:@eve"),
        leased("shell:@fay", None),
        settled,
        replace(settled.failed("boom", permanent=False, now=at(0)), key="2.4|engineering|shell:@gus"),
    )

    async with uow() as work:
        assert await work.deliveries.next_due(at(2)) == at(6)
        assert await work.deliveries.next_due(at(6)) == at(8)  # strictly after now
        assert await work.deliveries.next_due(at(8)) is None
