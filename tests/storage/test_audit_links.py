"""The storage contract, continued: each release's audit entries linked into a hash chain, on every implementation."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.domain.audit import GENESIS, chained, verify_chain
from bot.service.ports import UnitOfWorkFactory
from tests.storage.support import an_entry

CONCURRENT_APPENDS = 50


async def test_appended_entries_come_back_linked(uow: UnitOfWorkFactory) -> None:
    """Each entry read back carries its prev_hash and hash: the first starts at genesis, and the chain verifies."""
    async with uow() as work:
        await work.audit.append(an_entry("announce_release"))
        await work.audit.extend([an_entry("confirm_release", minutes=1), an_entry("request_send", minutes=2)])
        await work.commit()

    async with uow() as work:
        stored = await work.audit.for_release("2.4")

    assert stored[0].prev_hash == GENESIS
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    assert verify_chain(stored) is None


async def test_hashes_an_entry_comes_with_are_replaced(uow: UnitOfWorkFactory) -> None:
    """The log links entries itself: a prev_hash or hash given by the caller is not kept."""
    forged = replace(an_entry("announce_release"), prev_hash="f" * 64, hash="0" * 64)
    async with uow() as work:
        await work.audit.append(forged)
        await work.audit.extend([forged])
        await work.commit()

    async with uow() as work:
        stored = await work.audit.for_release("2.4")

    assert stored == chained([an_entry("announce_release")] * 2)


async def test_each_release_and_the_entries_about_none_keep_their_own_chain(uow: UnitOfWorkFactory) -> None:
    """Interleaved entries of 2.4, 2.5 and no release: each release's entries link only to each other."""
    async with uow() as work:
        for i, version in enumerate(["2.4", "2.5", None, "2.4", None, "2.5", "2.4"]):
            await work.audit.append(an_entry(f"step_{i}", version=version, minutes=i))
        await work.audit.extend([an_entry("late", version=v, minutes=9) for v in ("2.5", None, "2.4")])
        await work.commit()

    async with uow() as work:
        chains = {v: await work.audit.for_release(v) for v in ("2.4", "2.5")}

    assert [len(chain) for chain in chains.values()] == [4, 3]
    for chain in chains.values():
        assert chain[0].prev_hash == GENESIS
        assert verify_chain(chain) is None


async def test_a_rolled_back_entry_leaves_no_link_behind(uow: UnitOfWorkFactory) -> None:
    """After a rollback, the next entry follows the last committed one, not the discarded one."""
    async with uow() as work:
        await work.audit.append(an_entry("announce_release"))
        await work.commit()
    async with uow() as work:
        await work.audit.append(an_entry("discarded", minutes=1))
    async with uow() as work:
        await work.audit.append(an_entry("confirm_release", minutes=2))
        await work.commit()

    async with uow() as work:
        stored = await work.audit.for_release("2.4")

    assert stored == chained([an_entry("announce_release"), an_entry("confirm_release", minutes=2)])


async def test_concurrent_appends_to_one_release_never_fork_its_chain(uow: UnitOfWorkFactory) -> None:
    """Fifty units of work appending to 2.4 at once, singly and in pairs, leave one chain that verifies."""

    async def append(i: int) -> None:
        async with uow() as work:
            await asyncio.sleep(0)  # let the others start their transactions too
            if i % 2:
                await work.audit.append(an_entry(f"step_{i}"))
            else:
                await work.audit.extend([an_entry(f"step_{i}"), an_entry(f"step_{i}_too", version=None)])
            await asyncio.sleep(0)  # hold the transaction open across a switch, as a real handler may
            await work.commit()

    await asyncio.gather(*(append(i) for i in range(CONCURRENT_APPENDS)))

    async with uow() as work:
        stored = await work.audit.for_release("2.4")
    assert len(stored) == CONCURRENT_APPENDS
    assert len({e.prev_hash for e in stored}) == CONCURRENT_APPENDS  # no two entries follow the same one
    assert verify_chain(stored) is None
