"""Reading a release's notes when it is announced: from the plan's ``[notes]`` source, or from the text a pipeline
handed over (``herald announce --notes``, the release API's ``notes``).

What is read is kept with the release (``KeptNotes``), so a subject rendered later, or a group
added on a second announce, reads the same notes in any process. Notes that cannot be read are
kept too, as the sentence saying why: the communiqués that use them fail to render with it,
the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from bot.domain.errors import NotesUnavailable
from bot.domain.notes import MAX_NOTES, KeptNotes, NotesSource, SourceKind
from bot.domain.plan import Plan
from bot.service.announce_rules import previous_release
from bot.service.notes.markdown import changelog_section, versions_named
from bot.service.ports.forges import ForgeReleases

MAX_CHANGELOG_BYTES = 5_000_000
"""The largest changelog file Herald reads (the biggest real ones are a few hundred kilobytes)."""
GIVEN = "the notes given with the announcement"
"""Where notes handed over by a pipeline are said to come from."""


async def read_notes(
    plan: Plan,
    version: str,
    *,
    earlier: Iterable[str] = (),
    forges: ForgeReleases | None = None,
    given: str | None = None,
) -> KeptNotes | None:
    """``version``'s notes: ``given`` when a pipeline handed them over, else read from the plan's source (None: the
    plan names no source and none were given). A failure is kept as ``problem``, never raised."""
    before = previous_release(version, earlier, plan.versioning)
    if given is not None:
        return _bounded(_handed_over(given, version, before), version)
    source = plan.notes
    if source is None:
        return None
    try:
        if source.kind is SourceKind.CHANGELOG:
            kept = await asyncio.to_thread(_from_changelog, plan, source, version)
        elif source.kind is SourceKind.FILE:
            kept = await asyncio.to_thread(_from_file, plan, source, version)
        else:
            kept = await _from_forge(source, version, forges)
    except NotesUnavailable as error:
        return KeptNotes(origin=_origin(source, version), problem=str(error), previous_version=before)
    return _bounded(replace(kept, previous_version=kept.previous_version or before), version)


def _handed_over(given: str, version: str, before: str | None) -> KeptNotes:
    """Notes a pipeline handed over: one release's, or a whole changelog (``--notes CHANGELOG.md``), of which the
    version's section is taken."""
    if len(versions_named(given)) > 1:
        section = changelog_section(given, version)
        if section is not None:
            return KeptNotes(
                origin=GIVEN, text=section.text, url=section.url, previous_version=section.previous_version or before
            )
    return KeptNotes(origin=GIVEN, text=given, previous_version=before)


def _origin(source: NotesSource, version: str) -> str:
    return f"{source} {source.tag_of(version)}" if source.on_a_forge else str(source)


def _bounded(kept: KeptNotes, version: str) -> KeptNotes:
    if len(kept.text) <= MAX_NOTES:
        return kept
    problem = (
        f"notes: the notes of {version} are {len(kept.text):,} characters long; Herald takes at most {MAX_NOTES:,}"
    )
    return replace(kept, text="", problem=problem)


def _read(plan: Plan, relative: str, what: str) -> str:
    path = Path(plan.base_dir) / relative
    try:
        if path.stat().st_size > MAX_CHANGELOG_BYTES:
            raise NotesUnavailable(f"notes: {relative} is larger than {MAX_CHANGELOG_BYTES:,} bytes; Herald reads less")
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise NotesUnavailable(f"notes: {what} {relative} does not exist next to the plan ({path})") from None
    except UnicodeDecodeError:
        raise NotesUnavailable(f"notes: {relative} is not UTF-8 text") from None
    except OSError as error:
        raise NotesUnavailable(f"notes: {relative} cannot be read: {error.strerror or error}") from None


def _from_changelog(plan: Plan, source: NotesSource, version: str) -> KeptNotes:
    text = _read(plan, source.location, "the changelog")
    section = changelog_section(text, version)
    if section is None:
        named = versions_named(text)
        newest = f"its newest is {named[0]}" if named else "it names no version"
        raise NotesUnavailable(f"notes: {source.location} has no section for {version} ({newest})")
    return KeptNotes(origin=str(source), text=section.text, url=section.url, previous_version=section.previous_version)


def _from_file(plan: Plan, source: NotesSource, version: str) -> KeptNotes:
    relative = source.location.replace("{version}", version)
    return KeptNotes(origin=f"file:{relative}", text=_read(plan, relative, "the notes file"))


async def _from_forge(source: NotesSource, version: str, forges: ForgeReleases | None) -> KeptNotes:
    if forges is None:
        forge = "GitHub" if source.kind is SourceKind.GITHUB else "GitLab"
        raise NotesUnavailable(f"notes: this Herald was started without a way to read {forge} releases")
    release = await forges.release(source, source.tag_of(version))
    return KeptNotes(origin=_origin(source, version), text=release.body, url=release.url)
