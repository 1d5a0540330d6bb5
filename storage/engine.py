"""The database engine: whatever URL a person writes, an async engine on a known driver.

SQLite connections run in WAL mode with a busy timeout, so readers never block the one
writer and a second writer waits its turn instead of failing at once; foreign keys are
enforced, which SQLite does not do unless asked.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 5000

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
)
_EXAMPLES = "sqlite:///path/to/herald.db or postgresql://user:password@host:5432/herald"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def async_url(url: str) -> URL:
    """``url`` with its async driver: ``sqlite+aiosqlite`` or ``postgresql+asyncpg``.

    Accepts ``sqlite:``, ``sqlite+aiosqlite:``, ``postgresql:``, ``postgres:`` and
    ``postgresql+asyncpg:`` URLs; libpq's ``sslmode`` becomes asyncpg's ``ssl``.

    Raises:
        ValueError: for any other database or driver, an in-memory SQLite database, or a
            URL that cannot be parsed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"{redact(url)!r} is not a database URL; use {_EXAMPLES}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "aiosqlite"):
        if parsed.database in (None, "", ":memory:"):
            # One in-memory database is one connection: concurrent units of work would
            # share a transaction, and one's rollback would undo the other's writes.
            raise ValueError("an in-memory SQLite database cannot hold Herald's data; use a file: sqlite:///herald.db")
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres") and driver in ("", "asyncpg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
        if "sslmode" in parsed.query:
            parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": parsed.query["sslmode"]})
        return parsed
    raise ValueError(f"Herald cannot use the database at {redact(url)}; use {_EXAMPLES}")


def create_engine(url: str) -> AsyncEngine:
    """An async engine for a SQLite or PostgreSQL URL (see ``async_url``).

    Raises:
        ValueError: for a URL Herald cannot use.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_async_engine(target, pool_pre_ping=True)


def redact(url: str | URL) -> str:
    """The URL with its password hidden, for logs and messages."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _PASSWORD.sub(r"\1***@", url)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
