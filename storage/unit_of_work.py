"""The unit of work on SQL: one session, one transaction at a time, over every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.budgets import SqlBudgets
from storage.engine import create_engine, redact
from storage.repositories import (
    SqlAuditLog,
    SqlDeliveryRepository,
    SqlReceiptRepository,
    SqlReleaseRepository,
    SqlSubscriptionRepository,
    insert_for,
)


class SqlUnitOfWork:
    """One transaction over every repository; rolls back on exit unless committed.

    After ``commit()`` the unit of work can go on: the next statement starts a new
    transaction, and leaving discards only what was done since the last commit.

    On SQLite the first write takes the database's one write lock until commit or
    rollback; other writers wait for it (up to the busy timeout, 5 s) and then fail, so
    commit before awaiting anything slow, such as a platform call.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        # expire_on_commit=False: rows stay readable after commit without lazy IO,
        # which async sessions cannot do.
        self._session = AsyncSession(engine, expire_on_commit=False)
        dialect = engine.dialect.name
        self.releases = SqlReleaseRepository(self._session, dialect)
        self.deliveries = SqlDeliveryRepository(self._session, dialect)
        self.receipts = SqlReceiptRepository(self._session, dialect)
        self.audit = SqlAuditLog(self._session, dialect)
        self.subscriptions = SqlSubscriptionRepository(self._session, dialect)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._session.rollback()
        finally:
            await self._session.close()

    async def commit(self) -> None:
        """Make everything done in this unit of work durable."""
        await self._session.commit()

    async def rollback(self) -> None:
        """Discard everything done since the last commit."""
        await self._session.rollback()


class SqlStorage:
    """The database: call it for a new ``SqlUnitOfWork`` (it is a ``UnitOfWorkFactory``).

    Its ``budgets`` are the ``BudgetStore`` on the same database.

    Give it a URL (see ``storage.engine.async_url`` for the forms) or an engine of your
    own. Migrations are not run here; see ``storage.migrate``.
    """

    def __init__(self, database: str | AsyncEngine) -> None:
        engine = create_engine(database) if isinstance(database, str) else database
        insert_for(engine.dialect.name)  # refuse an unsupported database now, not mid-request
        self._engine = engine
        self._budgets = SqlBudgets(engine)

    @property
    def engine(self) -> AsyncEngine:
        """The engine every unit of work draws its connection from."""
        return self._engine

    @property
    def budgets(self) -> SqlBudgets:
        """The token buckets shared with every process on this database (each call its own transaction)."""
        return self._budgets

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine)

    def __repr__(self) -> str:
        return f"SqlStorage({redact(self._engine.url)!r})"

    async def close(self) -> None:
        """Close the pooled connections; one still in use closes when its unit of work ends."""
        await self._engine.dispose()
