"""Bringing a database's schema up to date, from code: no ``alembic.ini`` needed.

The migrations ship inside the package (``storage/migrations``), so an installed Herald
migrates its database the same way a checkout does::

    await upgrade("sqlite:///herald.db")
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bot.domain.errors import ConfigError
from storage.engine import async_url, create_engine, redact

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for Herald's migrations, pointed at ``url`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        rendered = async_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # ConfigParser escaping
    return config


def head() -> str:
    """The newest revision the migrations define."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return revision


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``, in one transaction on PostgreSQL and SQLite alike.

    Already up to date: nothing happens. A process killed mid-way leaves the schema as it was:
    the next start migrates it whole, never half (``table … already exists``).
    """
    config = alembic_config(url)
    engine = create_engine(url)
    if async_url(url).get_backend_name() == "sqlite":
        _transactional_ddl(engine.sync_engine)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, config, revision)
    finally:
        await engine.dispose()


def _transactional_ddl(engine: Engine) -> None:
    """Make SQLite's DDL part of the transaction: the driver opens none before ``CREATE TABLE`` and so commits each
    statement alone. SQLAlchemy's recipe for (aio)sqlite: the driver begins nothing, Herald says ``BEGIN
    IMMEDIATE`` itself (which also makes a second migrating process wait for the first, then find nothing to do).
    https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    """

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; None before its first migration."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(revision_of)
    finally:
        await engine.dispose()


async def ensure_current(url: str) -> None:
    """Check that the database at ``url`` exists and is at the newest revision.

    Raises:
        ConfigError: saying how to bring it up to date (``herald db upgrade``).
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite" and not await asyncio.to_thread(Path(str(target.database)).is_file):
        raise ConfigError(f"There is no database at {target.database}; create it with `herald db upgrade`.")
    current, newest = await current_revision(url), head()
    if current == newest:
        return
    if current is None:
        raise ConfigError(f"The database {redact(url)} has no Herald tables yet; create them with `herald db upgrade`.")
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        raise ConfigError(
            f"The database {redact(url)} is at schema revision {current}, which this Herald does not know "
            f"(it knows up to {newest}); it was migrated by a newer Herald."
        )
    raise ConfigError(
        f"The database {redact(url)} is at schema revision {current}, older than {newest}; "
        "bring it up to date with `herald db upgrade`."
    )


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def revision_of(connection: Connection) -> str | None:
    """The revision Alembic has recorded on ``connection``'s database; None before the first migration."""
    return MigrationContext.configure(connection).get_current_revision()
