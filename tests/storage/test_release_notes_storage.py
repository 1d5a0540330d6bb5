"""A release keeps the notes it was announced with, in every store (migration 0016 on SQL)."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.notes import KeptNotes
from bot.service.ports import UnitOfWorkFactory
from tests.storage.support import a_release, announce

NOTES = KeptNotes(
    origin="github:acme/api v2.4",
    text="## What's Changed\n* feat: SSO on every plan by @dana in #7 — ünïcode kept\n",
    url="https://github.com/acme/api/releases/tag/v2.4",
    previous_version="2.3",
)


async def test_a_releases_notes_come_back_as_they_were_kept(uow: UnitOfWorkFactory) -> None:
    """The Markdown, where it came from, its page and the version before are read back whole."""
    await announce(uow, replace(a_release(), notes=NOTES))
    async with uow() as work:
        found = await work.releases.get("2.4")
    assert found is not None
    assert found.notes == NOTES


async def test_notes_that_could_not_be_read_are_kept_with_their_sentence(uow: UnitOfWorkFactory) -> None:
    """A failed read is kept as its sentence; reading again later replaces it."""
    failed = KeptNotes(origin="github:acme/api v2.4", problem="notes: GitHub has no release tagged v2.4 in acme/api")
    await announce(uow, replace(a_release(), notes=failed))
    async with uow() as work:
        release = await work.releases.get("2.4")
        assert release is not None
        assert release.notes == failed
        release.notes = NOTES
        await work.releases.save(release)
        await work.commit()
    async with uow() as work:
        again = await work.releases.get("2.4")
    assert again is not None
    assert again.notes == NOTES


async def test_a_release_without_notes_has_none(uow: UnitOfWorkFactory) -> None:
    """A plan without [notes] keeps nothing."""
    await announce(uow, a_release())
    async with uow() as work:
        found = await work.releases.get("2.4")
    assert found is not None
    assert found.notes is None
