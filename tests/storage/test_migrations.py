"""Migrations: an empty database becomes Herald's schema, once, exactly as ``storage.tables`` describes it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, column, insert, inspect, table, text

from bot.domain.audit import Outcome, chained, verify_chain
from bot.domain.delivery import Purpose
from bot.domain.errors import ConfigError
from storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine
from storage.mapping import audit_values, delivery_values, receipt_values
from storage.migrate import current_revision, ensure_current, head, upgrade
from storage.tables import AuditRow, DeliveryRow, ReleaseRow, metadata
from storage.unit_of_work import SqlStorage
from tests.storage.support import SQL_DATABASES, a_delivery, a_receipt, a_release, an_entry, old_release_values

every_database = pytest.mark.parametrize("database_url", SQL_DATABASES, indirect=True)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TABLES = {
    "releases",
    "communiques",
    "deliveries",
    "receipts",
    "audit_log",
    "rate_buckets",
    "plan_snapshots",
    "communique_revisions",
    "subscriptions",
}
ADDED_IN_0002 = {"purpose", "body", "not_before", "leased_until", "lease_owner"}
ADDED_IN_0004 = {"confirmed_at", "report"}
ADDED_IN_0005 = {"in_doubt_since"}
ADDED_IN_0006 = {"read_at", "auto_reply"}
ADDED_IN_0010 = {"revision", "replaces"}
RECEIPTS_ADDED_IN_0007 = {"outside"}
RECEIPTS_ADDED_IN_0010 = RECEIPTS_ADDED_IN_0007 | {"superseded"}
AUDIT_ADDED_IN_0008 = {"prev_hash", "hash"}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


@every_database
async def test_upgrade_creates_every_table(database_url: str) -> None:
    """Upgrading an empty database creates the tables and records the newest revision."""
    assert await current_revision(database_url) is None

    await upgrade(database_url)

    assert await _tables(database_url) == TABLES | {"alembic_version"}
    assert await current_revision(database_url) == head()


@every_database
async def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    """A second upgrade finds nothing to do and keeps the data."""
    await upgrade(database_url)
    storage = SqlStorage(database_url)
    try:
        async with storage() as work:
            await work.releases.add(a_release())
            await work.commit()

        await upgrade(database_url)

        async with storage() as work:
            assert await work.releases.get("2.4") is not None
    finally:
        await storage.close()
    assert await current_revision(database_url) == head()


@every_database
async def test_the_migrated_schema_matches_the_table_definitions(database_url: str) -> None:
    """Autogenerate finds no difference between the migrated database and storage.tables."""
    await upgrade(database_url)

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


@every_database
async def test_deliveries_stored_before_the_engine_migrate_as_communiques(database_url: str) -> None:
    """A delivery written at revision 0001 reads back as a communiqué, unscheduled and unleased; its receipt counted."""
    await upgrade(database_url, "0001")
    later = ADDED_IN_0002 | ADDED_IN_0004 | ADDED_IN_0005 | ADDED_IN_0006 | ADDED_IN_0010
    old_columns = [c for c in DeliveryRow.__table__.columns if c.name != "id" and c.name not in later]
    deliveries_0001 = table("deliveries", *(column(c.name, c.type) for c in old_columns))
    values = {name: value for name, value in delivery_values(a_delivery()).items() if name not in later}
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(ReleaseRow).values(old_release_values(a_release())))
            await connection.execute(insert(deliveries_0001).values(values))
            old_receipt = {
                k: v for k, v in receipt_values(a_receipt("shell:kim")).items() if k not in RECEIPTS_ADDED_IN_0010
            }
            receipts_0001 = table("receipts", *(column(name) for name in old_receipt))
            await connection.execute(insert(receipts_0001).values(old_receipt))
    finally:
        await engine.dispose()

    await upgrade(database_url)

    storage = SqlStorage(database_url)
    try:
        async with storage() as work:
            stored = await work.deliveries.get(a_delivery().key)
            receipts = await work.receipts.for_release("2.4")
    finally:
        await storage.close()
    assert stored == a_delivery()
    assert stored is not None
    assert stored.purpose is Purpose.COMMUNIQUE
    assert receipts == [a_receipt("shell:kim")]


@every_database
async def test_audit_entries_stored_before_the_chain_are_linked_by_the_migration(database_url: str) -> None:
    """Entries written at 0007 come back linked release by release, in id order, and new ones follow them."""
    await upgrade(database_url, "0007")
    written = [
        an_entry("announce_release", minutes=3),  # the time does not order a chain: the id does
        an_entry("announce_release", version="2.5"),
        an_entry("show_help", version=None),
        replace(an_entry("approve_release", minutes=1), outcome=Outcome.REFUSED, detail="Only an approver… “no”"),
        an_entry("confirm_release", version="2.5", minutes=2),
        an_entry("confirm_release", minutes=2),
    ]
    old_columns = [c for c in AuditRow.__table__.columns if c.name not in {"id", *AUDIT_ADDED_IN_0008}]
    audit_0007 = table("audit_log", *(column(c.name, c.type) for c in old_columns))
    old_rows = [{k: v for k, v in audit_values(e).items() if k not in AUDIT_ADDED_IN_0008} for e in written]
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for row in old_rows:  # one at a time: ids in the order written
                await connection.execute(insert(audit_0007).values(row))
    finally:
        await engine.dispose()

    await upgrade(database_url)

    storage = SqlStorage(database_url)
    try:
        async with storage() as work:
            await work.audit.append(an_entry("request_send", minutes=4))
            await work.commit()
        async with storage() as work:
            chains = {v: await work.audit.for_release(v) for v in ("2.4", "2.5")}
    finally:
        await storage.close()
    assert chains["2.4"] == chained([written[0], written[3], written[5], an_entry("request_send", minutes=4)])
    assert chains["2.5"] == chained([written[1], written[4]])
    assert all(verify_chain(chain) is None for chain in chains.values())


@every_database
async def test_ensure_current_refuses_a_database_that_is_not_migrated(database_url: str) -> None:
    """Before the upgrade ensure_current says to run `herald db upgrade`; after it, it is content."""
    with pytest.raises(ConfigError, match="herald db upgrade"):
        await ensure_current(database_url)

    await upgrade(database_url)

    await ensure_current(database_url)


@sqlite_only
async def test_ensure_current_does_not_create_a_missing_sqlite_file(database_url: str) -> None:
    """Checking a SQLite database that does not exist reports it and leaves no empty file behind."""
    path = Path(database_url.removeprefix("sqlite:///"))

    with pytest.raises(ConfigError, match="There is no database"):
        await ensure_current(database_url)

    assert not await asyncio.to_thread(path.exists)


@sqlite_only
async def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(database_url: str) -> None:
    """Every SQLite connection is in WAL mode, waits for a busy writer, and enforces foreign keys."""
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one() == SQLITE_BUSY_TIMEOUT_MS
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await engine.dispose()


@sqlite_only
async def test_a_migration_that_dies_half_way_leaves_nothing_half_done(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite too migrates in one transaction: a failure in 0002 undoes 0001's tables, and the next start
    migrates the database whole (before, it found ``table releases already exists`` and could not start)."""
    import alembic.op

    def dies(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("killed half-way")

    with monkeypatch.context() as patched:
        patched.setattr(alembic.op, "add_column", dies)
        with pytest.raises(RuntimeError, match="killed half-way"):
            await upgrade(database_url)

    assert await current_revision(database_url) is None
    await upgrade(database_url)
    assert await current_revision(database_url) == head()
