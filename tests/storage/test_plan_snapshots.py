"""The plan a release was announced under: kept once beside it, on every store; none for releases before 0009."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import insert

from bot.domain.plan import PlanSnapshot
from bot.service.ports import UnitOfWorkFactory
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.tables import ReleaseRow
from storage.unit_of_work import SqlStorage
from tests.storage.support import SQL_DATABASES, a_release, announce, old_release_values

PLAN_TEXT = 'product = "Acme Cloud"\r\n# CRLF line ends and ünïcödé, kept byte for byte\r\n'


async def test_the_plan_kept_at_announce_reads_back_whole(uow: UnitOfWorkFactory) -> None:
    """Text (line ends and all), source and SHA-256 come back as they were kept."""
    kept = PlanSnapshot.of(PLAN_TEXT, "plans/release-comms.toml")
    async with uow() as work:
        await work.releases.add(a_release())
        await work.releases.keep_plan("2.4", kept)
        await work.commit()

    async with uow() as work:
        found = await work.releases.announced_plan("2.4")

    assert found == kept
    assert found is not None
    assert found.sha256 == hashlib.sha256(PLAN_TEXT.encode("utf-8")).hexdigest()


async def test_a_second_plan_for_the_same_release_keeps_the_first(uow: UnitOfWorkFactory) -> None:
    """The snapshot is written once: keeping another plan later changes nothing."""
    first = PlanSnapshot.of(PLAN_TEXT, "first.toml")
    async with uow() as work:
        await work.releases.add(a_release())
        await work.releases.keep_plan("2.4", first)
        await work.commit()
    async with uow() as work:
        await work.releases.keep_plan("2.4", PlanSnapshot.of("product = 'Other'\n", "second.toml"))
        await work.commit()

    async with uow() as work:
        assert await work.releases.announced_plan("2.4") == first


async def test_a_plan_kept_without_commit_is_not_kept(uow: UnitOfWorkFactory) -> None:
    """The snapshot belongs to the announcing transaction: rolled back with it."""
    await announce(uow, a_release())
    async with uow() as work:
        await work.releases.keep_plan("2.4", PlanSnapshot.of(PLAN_TEXT, "plan.toml"))

    async with uow() as work:
        assert await work.releases.announced_plan("2.4") is None


@pytest.mark.parametrize("database_url", SQL_DATABASES, indirect=True)
async def test_a_release_announced_before_0009_has_no_plan_kept(database_url: str) -> None:
    """A release stored at revision 0008 reads back after the upgrade, with no plan snapshot."""
    await upgrade(database_url, "0008")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(ReleaseRow).values(old_release_values(a_release())))
    finally:
        await engine.dispose()

    await upgrade(database_url)

    storage = SqlStorage(database_url)
    try:
        async with storage() as work:
            assert await work.releases.get("2.4") is not None
            assert await work.releases.announced_plan("2.4") is None
    finally:
        await storage.close()
