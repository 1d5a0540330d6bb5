"""The audit log on SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.audit import AuditEntry
from storage.mapping import audit_from_row, audit_values
from storage.repositories._shared import _all, insert_for
from storage.tables import AuditRow


class SqlAuditLog:
    """The audit log, read back in the order it was written."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._insert = insert_for(dialect)

    async def append(self, entry: AuditEntry) -> None:
        await self._session.exec(self._insert(AuditRow).values(audit_values(entry)))

    async def extend(self, entries: Sequence[AuditEntry]) -> None:
        if entries:  # one cached statement, many parameter sets (see SqlReceiptRepository.add_all)
            await self._session.exec(self._insert(AuditRow), params=[audit_values(entry) for entry in entries])

    async def for_release(self, version: str) -> list[AuditEntry]:
        rows = await _all(
            self._session,
            select(AuditRow).where(AuditRow.version == version).order_by(col(AuditRow.id)),
        )
        return [audit_from_row(row) for row in rows]
