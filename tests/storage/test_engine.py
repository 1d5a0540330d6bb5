"""Database URLs: every form a person may write reaches an async driver, and passwords stay out of messages."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from storage.engine import async_url, create_engine, redact
from storage.unit_of_work import SqlStorage


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///herald.db", "sqlite+aiosqlite:///herald.db"),
        ("sqlite:////var/lib/herald/herald.db", "sqlite+aiosqlite:////var/lib/herald/herald.db"),
        ("sqlite+aiosqlite:///herald.db", "sqlite+aiosqlite:///herald.db"),
        ("postgresql://herald:s3cret@db:5432/herald", "postgresql+asyncpg://herald:s3cret@db:5432/herald"),
        ("postgres://herald:s3cret@db/herald", "postgresql+asyncpg://herald:s3cret@db/herald"),
        ("postgresql+asyncpg://herald@db/herald", "postgresql+asyncpg://herald@db/herald"),
        ("postgresql://herald@db/herald?sslmode=require", "postgresql+asyncpg://herald@db/herald?ssl=require"),
    ],
)
def test_urls_are_normalised_to_async_drivers(url: str, expected: str) -> None:
    """sqlite and postgres URLs, with or without a driver, reach aiosqlite or asyncpg."""
    assert async_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    ["mysql://herald:s3cret@db/herald", "postgresql+psycopg2://herald:s3cret@db/herald", "not a url", "sqlite://"],
)
def test_other_databases_are_refused_without_showing_the_password(url: str) -> None:
    """A URL Herald cannot use (in-memory SQLite too) raises ValueError showing a usable form, not the password."""
    with pytest.raises(ValueError, match="sqlite:///") as raised:
        async_url(url)
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://herald:s3cret@db:5432/herald", "postgresql://herald:***@db:5432/herald"),
        ("sqlite:///herald.db", "sqlite:///herald.db"),
        ("weird://herald:s3cret@db:5432/x y z", "weird://herald:***@db:5432/x y z"),
    ],
)
def test_redact_hides_the_password(url: str, shown: str) -> None:
    """redact keeps everything but the password, for URL strings and URL objects alike."""
    assert redact(url) == shown
    if "s3cret" in url and " " not in url:
        assert "s3cret" not in redact(make_url(url))


async def test_storage_opens_on_a_url_and_says_where_without_the_password() -> None:
    """SqlStorage accepts a URL; its repr shows the database but not the password."""
    storage = SqlStorage("postgresql://herald:s3cret@127.0.0.1:9/herald")
    try:
        assert storage.engine.dialect.name == "postgresql"
        assert "s3cret" not in repr(storage)
    finally:
        await storage.close()


async def test_sqlite_engines_use_aiosqlite(tmp_path: object) -> None:
    """create_engine gives an aiosqlite engine for a plain sqlite URL."""
    engine = create_engine(f"sqlite:///{tmp_path}/herald.db")
    try:
        assert engine.dialect.driver == "aiosqlite"
    finally:
        await engine.dispose()
