"""The walkthrough's checks on release notes: a group's picked sections are not all empty; where the notes came from."""

from __future__ import annotations

from bot.domain.checks import CheckResult, Severity
from bot.domain.communique import Communique
from bot.domain.notes import KeptNotes, either
from bot.domain.plan import Group
from bot.domain.release import Release
from bot.service.notes.markdown import parse_notes


def notes_check(release: Release, group: Group, communique: Communique) -> CheckResult | None:
    """For a group that picked sections of the notes, before sending: whether any has an entry (None otherwise).

    A group whose sections are all empty would be sent a message with nothing in it, so it
    blocks until someone skips the group or writes its text (an edited text is theirs).
    """
    if not group.sections or release.notes is None or release.sending_began or communique.edited_by is not None:
        return None
    v, g = release.version, group.id
    act = f"skip this group (/release skip {v} {g} REASON) or write the text (/release edit {v} {g} TEXT)"
    if release.notes.problem:
        return CheckResult("notes", False, Severity.BLOCKING, f"{_why(release.notes.problem)}; {act}")
    picked = parse_notes(release.notes, v).pick(*group.sections)
    if not picked:
        return CheckResult("notes", False, Severity.BLOCKING, f"{v} has no {either(group.sections)} entries; {act}")
    count = sum(len(entries) for entries in picked.values())
    said = f"{count} {'entry' if count == 1 else 'entries'} in {', '.join(picked)}"
    return CheckResult("notes", True, Severity.BLOCKING, said)


def notes_read(kept: KeptNotes, version: str) -> CheckResult:
    """Where the release's notes came from and what they hold (a warning when they could not be read: the
    communiqués that use them say so themselves)."""
    if kept.problem:
        return CheckResult("notes", False, Severity.WARNING, _why(kept.problem))
    notes = parse_notes(kept, version)
    held = ", ".join(f"{name} {len(entries)}" for name, entries in notes.sections.items()) or "no entries"
    return CheckResult("notes", True, Severity.BLOCKING, f"release notes from {kept.origin}: {held}")


def _why(problem: str) -> str:
    """The sentence without its "notes: ", which the check's own code already says."""
    return problem.removeprefix("notes: ")
