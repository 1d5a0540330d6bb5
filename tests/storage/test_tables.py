"""The SQL rows: times are stored as UTC instants, and the mapping covers every column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

from storage.mapping import audit_values, communique_values, delivery_values, receipt_values, release_values
from storage.migrate import upgrade
from storage.tables import AuditRow, CommuniqueRow, DeliveryRow, ReceiptRow, ReleaseRow, UTCDateTime
from storage.unit_of_work import SqlStorage
from tests.storage.support import SQL_DATABASES, a_delivery, a_receipt, a_release, an_entry

BERLIN_SUMMER = timezone(timedelta(hours=2))


def test_a_naive_datetime_is_refused() -> None:
    """Storing a time without a zone raises instead of guessing one."""
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2025, 3, 14, 9, 30), SQLiteDialect())  # noqa: DTZ001


def test_a_zoneless_value_read_from_sqlite_is_utc() -> None:
    """SQLite hands back a wall time; it is read as UTC."""
    read = UTCDateTime().process_result_value(datetime(2025, 3, 14, 9, 30), SQLiteDialect())  # noqa: DTZ001
    assert read == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    assert read is not None
    assert read.tzinfo is UTC


@pytest.mark.parametrize("database_url", SQL_DATABASES, indirect=True)
async def test_a_time_in_another_zone_reads_back_as_the_same_instant_in_utc(database_url: str) -> None:
    """An aware time in any zone is stored as its UTC instant and read back in UTC."""
    await upgrade(database_url)
    storage = SqlStorage(database_url)
    release = a_release(announced_at=datetime(2025, 3, 14, 11, 30, 15, 123456, tzinfo=BERLIN_SUMMER))
    try:
        async with storage() as work:
            await work.releases.add(release)
            await work.commit()
        async with storage() as work:
            stored = await work.releases.get("2.4")
    finally:
        await storage.close()

    assert stored is not None
    assert stored.announced_at == datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)
    assert stored.announced_at.tzinfo is UTC


def test_the_mapping_writes_every_column() -> None:
    """Each *_values function fills exactly the columns of its table (the surrogate ids aside)."""

    def columns(row: type[ReleaseRow | CommuniqueRow | DeliveryRow | ReceiptRow | AuditRow]) -> set[str]:
        return set(row.model_fields) - {"id"}

    assert set(release_values(a_release())) == columns(ReleaseRow)
    assert all(set(values) == columns(CommuniqueRow) for values in communique_values(a_release()))
    assert set(delivery_values(a_delivery())) == columns(DeliveryRow)
    assert set(receipt_values(a_receipt("shell:kim"))) == columns(ReceiptRow)
    assert set(audit_values(an_entry("announce_release"))) == columns(AuditRow)
