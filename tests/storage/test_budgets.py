"""The shared token buckets: every implementation of ``BudgetStore`` counts as the in-memory twin does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.service.ports import BudgetStore
from tests.storage.support import T0

Budgets = Callable[[], BudgetStore]
RATE, BURST = 0.5, 3.0  # one token every 2 s, at most 3 at once
CEILING = "slack|ceiling"


def after(n: float) -> datetime:
    """A moment ``n`` seconds after T0."""
    return T0 + timedelta(seconds=n)


async def take(store: BudgetStore, n: float, times: int = 1, bucket: str = CEILING) -> list[float]:
    """Take ``times`` tokens one after the other at second ``n``; what each take answered."""
    return [await store.take(bucket, now=after(n), rate=RATE, burst=BURST) for _ in range(times)]


async def test_a_new_bucket_starts_full(budgets: Budgets) -> None:
    """A bucket never used gives its burst at once, then says how long until the next token."""
    store = budgets()

    assert await take(store, 0, times=4) == [0.0, 0.0, 0.0, 2.0]


async def test_a_bucket_refills_at_its_rate_up_to_its_burst(budgets: Budgets) -> None:
    """An empty bucket gains ``rate`` tokens a second, and never more than ``burst`` however long it rests."""
    store = budgets()
    await take(store, 0, times=3)

    assert await take(store, 1) == [1.0]  # half a token: one more second
    assert await take(store, 2, times=2) == [0.0, 2.0]
    assert await take(store, 1000, times=4) == [0.0, 0.0, 0.0, 2.0]


async def test_buckets_are_counted_apart(budgets: Budgets) -> None:
    """Emptying one bucket leaves another full."""
    store = budgets()
    await take(store, 0, times=3)

    assert await take(store, 0, times=3, bucket="slack|method|chat.postMessage") == [0.0, 0.0, 0.0]


async def test_a_block_gives_nothing_until_it_ends_then_refills_from_empty(budgets: Budgets) -> None:
    """Blocked: the seconds left of the block; after it the bucket fills from zero, counted from the block's end."""
    store = budgets()
    await take(store, 0)
    await store.block(CEILING, after(10))

    assert await take(store, 4) == [6.0]
    assert await take(store, 10) == [2.0]  # empty when the block lifts: no burst
    assert await take(store, 12, times=2) == [0.0, 2.0]  # one token from 2 s since the block's end


async def test_a_block_is_seen_by_every_process_without_taking_a_token(budgets: Budgets) -> None:
    """Another process reads how long a block has left (0 for none or one that ended), and takes nothing doing so."""
    blocker, reader = budgets(), budgets()
    await take(blocker, 0, times=2)

    assert await reader.blocked(CEILING, now=after(1)) == 0.0
    assert await reader.blocked("never|used", now=after(1)) == 0.0
    await blocker.block(CEILING, after(10))
    assert await reader.blocked(CEILING, now=after(4)) == 6.0
    assert await reader.blocked(CEILING, now=after(10)) == 0.0
    assert await take(reader, 12, times=2) == [0.0, 2.0]  # reading took nothing: one token from the 2 s refill


async def test_a_shorter_block_does_not_cut_a_longer_one_short(budgets: Budgets) -> None:
    """A block ending sooner than the one in place changes nothing; one ending later extends it."""
    store = budgets()
    await store.block(CEILING, after(10))
    await store.block(CEILING, after(5))

    assert await take(store, 6) == [4.0]
    await store.block(CEILING, after(20))
    assert await take(store, 11) == [9.0]
    assert await take(store, 22, times=2) == [0.0, 2.0]


async def test_a_block_on_a_bucket_never_used_holds_and_then_starts_empty(budgets: Budgets) -> None:
    """Blocking a bucket that has no row yet blocks it, and it does not start full after the block."""
    store = budgets()
    await store.block(CEILING, after(5))

    assert await take(store, 1) == [4.0]
    assert await take(store, 5) == [2.0]


async def test_a_block_holds_for_every_process(budgets: Budgets) -> None:
    """A block one process records stops another process's takes too."""
    mine, theirs = budgets(), budgets()
    await take(theirs, 0)
    await mine.block(CEILING, after(30))

    assert await take(theirs, 10) == [20.0]


async def test_two_processes_never_both_take_the_last_token(budgets: Budgets) -> None:
    """Two processes taking the one token left at the same moment: exactly one gets it."""
    one, other = budgets(), budgets()
    for round_ in range(5):
        bucket = f"race-{round_}"
        assert await take(one, 0, times=2, bucket=bucket) == [0.0, 0.0]

        answers = await asyncio.gather(take(one, 0, bucket=bucket), take(other, 0, bucket=bucket))

        assert sorted(answer for [answer] in answers) == [0.0, 2.0]


async def reserve(store: BudgetStore, n: float, within: float, bucket: str = CEILING) -> tuple[bool, float]:
    """Reserve a token at second ``n``, up to ``within`` seconds ahead."""
    return await store.reserve(bucket, now=after(n), rate=RATE, burst=BURST, within=within)


async def test_a_token_within_reach_is_reserved_and_the_next_is_due_after_it(budgets: Budgets) -> None:
    """An empty bucket reserves its next token ahead (2 s away); the one after is then 4 s away."""
    store = budgets()
    await take(store, 0, times=3)

    assert await reserve(store, 0, within=5.0) == (True, 2.0)
    assert await reserve(store, 0, within=5.0) == (True, 4.0)
    assert await take(store, 0) == [6.0]  # in debt: a plain take waits behind the reservations


async def test_a_token_out_of_reach_is_not_reserved(budgets: Budgets) -> None:
    """Further than ``within``: nothing taken, and the answer is how long until it is within reach."""
    store = budgets()
    await take(store, 0, times=3)

    assert await reserve(store, 0, within=0.5) == (False, 1.5)
    assert await reserve(store, 1.5, within=0.5) == (True, 0.5)


async def test_nothing_is_reserved_from_a_blocked_bucket(budgets: Budgets) -> None:
    """While a block lasts a reservation gets the seconds left of it, and takes nothing."""
    store = budgets()
    await store.block(CEILING, after(10))

    assert await reserve(store, 9, within=5.0) == (False, 1.0)
    assert await reserve(store, 10, within=5.0) == (True, 2.0)
