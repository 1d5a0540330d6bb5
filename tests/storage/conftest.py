"""Every storage implementation behind two fixtures: memory, SQLite and (when configured) PostgreSQL.

``uow`` gives units of work over the ledger, ``budgets`` the shared token buckets.

PostgreSQL runs when ``HERALD_TEST_POSTGRES_URL`` names a server where that user may
create databases (``eval "$(.ci/start-postgres)"`` starts one); each test gets a fresh
database, migrated, and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.service.ports import BudgetStore, UnitOfWorkFactory
from storage.engine import async_url
from storage.memory import MemoryBudgets, MemoryStore, MemoryUnitOfWork
from storage.migrate import upgrade
from storage.unit_of_work import SqlStorage
from tests.storage.support import SQL_DATABASES

POSTGRES_URL_VARIABLE = "HERALD_TEST_POSTGRES_URL"
POSTGRES_SKIPPED = f"{POSTGRES_URL_VARIABLE} not set: PostgreSQL contract tests skipped"


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database of the kind ``request.param`` names ("sqlite" or "postgres")."""
    async with _empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=["memory", *SQL_DATABASES])
async def uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    """A factory of units of work over an empty store, migrated if it is a database."""
    if request.param == "memory":
        store = MemoryStore()
        yield lambda: MemoryUnitOfWork(store)
        return
    async with _empty_database(request.param, tmp_path) as url:
        await upgrade(url)
        storage = SqlStorage(url)
        try:
            yield storage
        finally:
            await storage.close()


@pytest.fixture(params=["memory", *SQL_DATABASES])
async def budgets(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], BudgetStore]]:
    """A factory of budget stores over one empty store; each call is another process, with its own engine."""
    if request.param == "memory":
        store = MemoryStore()
        yield lambda: MemoryBudgets(store)
        return
    async with _empty_database(request.param, tmp_path) as url:
        await upgrade(url)
        opened: list[SqlStorage] = []

        def connect() -> BudgetStore:
            opened.append(SqlStorage(url))
            return opened[-1].budgets

        try:
            yield connect
        finally:
            for storage in opened:
                await storage.close()


@asynccontextmanager
async def _empty_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'herald.db'}"
        return
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(POSTGRES_SKIPPED)
    async with _fresh_postgres_database(server) as url:
        yield url


@asynccontextmanager
async def _fresh_postgres_database(server: str) -> AsyncIterator[str]:
    """CREATE DATABASE herald_test_<random> through the server's maintenance database; DROP it after."""
    maintenance = create_async_engine(async_url(server), isolation_level="AUTOCOMMIT")
    name = f"herald_test_{uuid.uuid4().hex[:12]}"
    try:
        async with maintenance.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield maintenance.url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with maintenance.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await maintenance.dispose()
