"""A release's own notes: read when it is announced (``reading``), parsed with markdown-it-py (``markdown``).

- ``read_notes``: the notes of a version, from the plan's ``[notes]`` source or handed over by a pipeline.
- ``parse_notes``: what they say (``ReleaseNotes``: sections, breaking changes, contributors, the version before).
- ``changelog_section``: one version's section of a Keep a Changelog file.
"""

from bot.service.notes.markdown import changelog_section, parse_notes
from bot.service.notes.reading import read_notes

__all__ = ["changelog_section", "parse_notes", "read_notes"]
