"""What templates see of a release's notes: ``notes`` (all of them) and ``group_notes`` (the group's sections)."""

from __future__ import annotations

from typing import Any

from bot.domain.notes import KeptNotes, ReleaseNotes
from bot.domain.plan import Group
from bot.service.notes.markdown import parse_notes
from bot.service.templating import unavailable


def notes_value(kept: KeptNotes, version: str) -> Any:
    """``notes`` for the templates: what they say, or (they could not be read) a value that fails the template that
    uses it with the sentence saying why."""
    return unavailable(kept.problem) if kept.problem else parse_notes(kept, version)


def with_group_notes(context: dict[str, Any], group: Group) -> dict[str, Any]:
    """``context`` with ``group_notes``: the sections the group picked that have entries, in its order (every
    section, for a group that picked none)."""
    notes = context.get("notes")
    if notes is None:
        return context
    if isinstance(notes, ReleaseNotes):
        return {**context, "group_notes": notes.pick(*group.sections) if group.sections else notes.sections}
    return {**context, "group_notes": notes}  # the notes could not be read: using either says why
