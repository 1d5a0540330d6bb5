"""The audit log on SQL: each release's entries a hash chain, linked as they are appended."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import false, func, literal, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.audit import GENESIS, AuditEntry, chain_of, chained
from storage.mapping import audit_from_row, audit_values
from storage.repositories._shared import _all, insert_for
from storage.tables import AuditRow

_LOCKS = 0x48524C44  # "HRLD": the first key of Herald's advisory locks, the second is the chain's hashtext


class SqlAuditLog:
    """The audit log, read back in the order it was written.

    Appending links each entry after the last one of its release, read inside the same
    transaction once no other can append to that chain: PostgreSQL takes an advisory
    lock on the chain until commit; SQLite has one writer, taken by a write before the
    read. Two appends to one release at the same moment so follow one another.
    """

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._dialect = dialect
        self._insert = insert_for(dialect)

    async def append(self, entry: AuditEntry) -> None:
        [row] = await self._linked([entry])
        await self._session.exec(self._insert(AuditRow).values(row))

    async def extend(self, entries: Sequence[AuditEntry]) -> None:
        if entries:  # one cached statement, many parameter sets (see SqlReceiptRepository.add_all)
            await self._session.exec(self._insert(AuditRow), params=await self._linked(entries))

    async def for_release(self, version: str) -> list[AuditEntry]:
        rows = await _all(
            self._session,
            select(AuditRow).where(AuditRow.version == version).order_by(col(AuditRow.id)),
        )
        return [audit_from_row(row) for row in rows]

    async def _linked(self, entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
        """The rows of ``entries``, each linked after the current end of its chain (which stays locked)."""
        chains = sorted({chain_of(entry.version) for entry in entries})  # one order, so two never deadlock
        heads = {chain: await self._head(chain) for chain in chains}
        return [audit_values(entry) for entry in chained(entries, heads)]

    async def _head(self, chain: str) -> str:
        """The hash of the chain's last entry, read after locking the chain for this transaction."""
        if self._dialect == "postgresql":
            await self._session.exec(select(func.pg_advisory_xact_lock(literal(_LOCKS), func.hashtext(chain))))
        else:  # any write takes SQLite's one write lock, held until the transaction ends
            await self._session.exec(
                update(AuditRow).where(false()).values(id=col(AuditRow.id)).execution_options(synchronize_session=False)
            )
        version = col(AuditRow.version)
        last = (
            select(col(AuditRow.hash))
            .where(version == chain if chain else version.is_(None))
            .order_by(col(AuditRow.id).desc())
            .limit(1)
        )
        return (await self._session.exec(last)).first() or GENESIS
