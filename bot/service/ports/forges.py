"""The forges port: one release's notes, read from GitHub or GitLab by its tag."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.domain.notes import NotesSource


@dataclass(frozen=True, slots=True)
class ForgeRelease:
    """A release as a forge shows it: its notes' Markdown and its page."""

    body: str = field(repr=False)
    url: str | None = None


class ForgeReleases(Protocol):
    """Reads a release from the forge ``source`` names (``github:OWNER/REPO``, ``gitlab:GROUP/PROJECT``).

    Raises ``NotesUnavailable`` with one sentence for a person when it cannot (no release with
    that tag, a refused token, the forge unreachable). Implementers need not parse the Markdown,
    retry, or cache: the release keeps what was read.
    """

    async def release(self, source: NotesSource, tag: str) -> ForgeRelease:
        """The release tagged ``tag`` in ``source``'s project."""
        ...
