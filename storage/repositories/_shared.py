"""What every SQL repository shares: the dialect's INSERT, the batch size, and reads that refresh the session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

Row = TypeVar("Row", bound=SQLModel)
Insert = Callable[[type[SQLModel]], sqlite.Insert | postgresql.Insert]

_INSERTS: dict[str, Insert] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_BATCH = 500  # rows per INSERT: well under SQLite's limit of 32,766 bound parameters


def insert_for(dialect: str) -> Insert:
    """The INSERT construct with ON CONFLICT support for ``dialect`` (sqlite or postgresql).

    Raises:
        ValueError: for any other database.
    """
    try:
        return _INSERTS[dialect]
    except KeyError:
        raise ValueError(f"Herald stores its data in SQLite or PostgreSQL, not {dialect}") from None


async def _all(session: AsyncSession, statement: SelectOfScalar[Row]) -> Sequence[Row]:
    return (await session.exec(statement.execution_options(populate_existing=True))).all()


async def _first(session: AsyncSession, statement: SelectOfScalar[Row]) -> Row | None:
    return (await session.exec(statement.execution_options(populate_existing=True))).first()
