"""A fresh PostgreSQL database per fault test, when a server is configured."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from storage.migrate import upgrade


async def _admin(url: str, statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = os.environ.get("HERALD_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("HERALD_TEST_POSTGRES_URL not set: PostgreSQL fault tests skipped")
    name = f"herald_fault_{uuid.uuid4().hex[:10]}"
    root, _, _ = base.rpartition("/")
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    url = f"{root}/{name}"
    asyncio.run(upgrade(url))
    try:
        yield url
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE "{name}" WITH (FORCE)'))
