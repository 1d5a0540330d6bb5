"""Releases on SQL: a release and its communiqués, saved whole under an optimistic revision check."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.communique import EarlierText
from bot.domain.plan import PlanSnapshot
from bot.domain.release import Release
from bot.service.ports import ConcurrentUpdate
from storage.mapping import (
    communique_values,
    plan_snapshot_from_row,
    plan_snapshot_values,
    release_from_rows,
    release_values,
)
from storage.repositories._shared import _all, _first, insert_for
from storage.tables import CommuniqueRevisionRow, CommuniqueRow, PlanSnapshotRow, ReleaseRow


class SqlReleaseRepository:
    """Releases and their communiqués, saved whole under an optimistic revision check."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._insert = insert_for(dialect)

    async def get(self, version: str) -> Release | None:
        row = await _first(self._session, select(ReleaseRow).where(ReleaseRow.version == version))
        if row is None:
            return None
        communiques = await _all(self._session, select(CommuniqueRow).where(CommuniqueRow.version == version))
        return release_from_rows(row, communiques)

    async def add(self, release: Release) -> None:
        values = release_values(release) | {"revision": 1}
        statement = self._insert(ReleaseRow).values(values).on_conflict_do_nothing(index_elements=["version"])
        if (await self._session.exec(statement)).rowcount != 1:
            raise ConcurrentUpdate(release.version)
        await self._put_communiques(release)
        release.revision = 1

    async def save(self, release: Release) -> None:
        values = release_values(release) | {"revision": release.revision + 1}
        del values["version"]
        statement = (
            update(ReleaseRow)
            .where(col(ReleaseRow.version) == release.version, col(ReleaseRow.revision) == release.revision)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if (await self._session.exec(statement)).rowcount != 1:
            raise ConcurrentUpdate(release.version)
        await self._put_communiques(release)
        release.revision += 1

    async def versions(self) -> list[str]:
        return [str(v) for v in await self._session.exec(select(col(ReleaseRow.version)))]

    async def in_state(self, state: str) -> list[Release]:
        rows = await _all(
            self._session,
            select(ReleaseRow)
            .where(ReleaseRow.state == state)
            .order_by(col(ReleaseRow.announced_at), col(ReleaseRow.version)),
        )
        if not rows:
            return []
        communiques: defaultdict[str, list[CommuniqueRow]] = defaultdict(list)
        for communique in await _all(
            self._session,
            select(CommuniqueRow).where(col(CommuniqueRow.version).in_([row.version for row in rows])),
        ):
            communiques[communique.version].append(communique)
        return [release_from_rows(row, communiques[row.version]) for row in rows]

    async def keep_plan(self, version: str, plan: PlanSnapshot) -> None:
        statement = self._insert(PlanSnapshotRow).values(plan_snapshot_values(version, plan))
        await self._session.exec(statement.on_conflict_do_nothing(index_elements=["version"]))

    async def announced_plan(self, version: str) -> PlanSnapshot | None:
        row = await _first(self._session, select(PlanSnapshotRow).where(PlanSnapshotRow.version == version))
        return None if row is None else plan_snapshot_from_row(row)

    async def keep_earlier(self, version: str, earlier: EarlierText) -> None:
        values = {
            "version": version,
            "group_id": earlier.group_id,
            "revision": earlier.revision,
            "text": earlier.text,
            "replaced_at": earlier.replaced_at,
        }
        statement = self._insert(CommuniqueRevisionRow).values(values)
        await self._session.exec(statement.on_conflict_do_nothing(index_elements=["version", "group_id", "revision"]))

    async def earlier_texts(self, version: str) -> list[EarlierText]:
        rows = await _all(
            self._session,
            select(CommuniqueRevisionRow)
            .where(CommuniqueRevisionRow.version == version)
            .order_by(col(CommuniqueRevisionRow.group_id), col(CommuniqueRevisionRow.revision)),
        )
        return [
            EarlierText(group_id=r.group_id, revision=r.revision, text=r.text, replaced_at=r.replaced_at) for r in rows
        ]

    async def _put_communiques(self, release: Release) -> None:
        rows = communique_values(release)
        if rows:
            statement = self._insert(CommuniqueRow).values(rows)
            changing = [name for name in rows[0] if name not in ("version", "group_id")]
            await self._session.exec(
                statement.on_conflict_do_update(
                    index_elements=["version", "group_id"],
                    set_={name: statement.excluded[name] for name in changing},
                )
            )
        # Saved whole: a communiqué the release no longer has is no longer stored.
        await self._session.exec(
            delete(CommuniqueRow)
            .where(
                col(CommuniqueRow.version) == release.version,
                col(CommuniqueRow.group_id).not_in(list(release.communiques)),
            )
            .execution_options(synchronize_session=False)
        )
