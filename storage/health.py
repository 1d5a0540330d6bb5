"""Whether the database can serve Herald now: it answers, and its schema is the newest.

Asked by ``/readyz`` every few seconds, so it is one short connection from a small pool
of its own and one read of Alembic's version table; nothing is created or migrated here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import async_url, create_engine
from storage.migrate import alembic_config, head, revision_of


class SchemaProbe:
    """Tells why the database at ``url`` cannot serve Herald, or nothing when it can."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._url = async_url(url)
        self._timeout = timeout
        self._head = head()
        self._known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        self._engine: AsyncEngine | None = None

    async def ready(self) -> str | None:
        """None when the database answers and is at the newest revision; otherwise why not, as a phrase."""
        if self._url.get_backend_name() == "sqlite":
            path = Path(str(self._url.database))
            if not await asyncio.to_thread(path.is_file):  # connecting would create an empty file
                return "database: there is no database file yet (run `herald db upgrade`)"
        if self._engine is None:
            self._engine = create_engine(self._url.render_as_string(hide_password=False))
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as connection:
                current = await connection.run_sync(revision_of)
        except TimeoutError:
            return f"database: did not answer within {self._timeout:g} s"
        except Exception as error:  # drivers raise their own kinds; the name is enough, the text may hold the host
            return f"database: unreachable ({type(error).__name__})"
        if current == self._head:
            return None
        if current is None:
            return "database: no Herald tables yet (run `herald db upgrade`)"
        if current not in self._known:
            return f"database: at schema revision {current}, from a newer Herald (this one knows up to {self._head})"
        return f"database: at schema revision {current}, older than {self._head} (run `herald db upgrade`)"

    async def close(self) -> None:
        """Let go of the probe's connections."""
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
