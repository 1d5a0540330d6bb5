"""A release's own notes: where the plan says they are, what was read, and what they say, section by section.

The notes are written once, where a release pipeline already keeps them (a Keep a Changelog
``CHANGELOG.md``, a GitHub or GitLab release, a file per release); Herald reads them when a
release is announced and hands each group's template the parts it asked for. Section names
follow Keep a Changelog (Added, Changed, Deprecated, Removed, Fixed, Security); GitHub's
generated categories and conventional-commit headings that mean the same land there too
(``section_name``). The parser that builds ``ReleaseNotes`` from Markdown lives in
``bot.service.notes``; this module holds only the values, so the domain stays stdlib-only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

KEEP_A_CHANGELOG = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
"""Keep a Changelog's section names, in its order."""
BREAKING = "Breaking"
"""The section of breaking changes (``notes.breaking``), wherever they were written."""
MAX_NOTES = 125_000
"""The longest notes Herald takes, in characters: GitHub's own limit on a release's body."""
DEFAULT_TAG = "v{version}"
"""How a release's tag is written when the plan does not say."""

# What a heading means, by its words (lower case, emoji and punctuation dropped): the section it is.
_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "added",
            "additions",
            "features",
            "feature",
            "new features",
            "new feature",
            "exciting new features",
            "enhancements",  # GitHub's default "enhancement" label: "New feature or request"
            "enhancement",
            "new",
            "whats new",
        ),
        "Added",
    ),
    **dict.fromkeys(
        ("changed", "change", "improvements", "improvement", "performance improvements", "performance"), "Changed"
    ),
    **dict.fromkeys(("deprecated", "deprecations", "deprecation"), "Deprecated"),
    **dict.fromkeys(("removed", "removals", "removal", "removed features"), "Removed"),
    **dict.fromkeys(("fixed", "fixes", "fix", "bug fixes", "bug fix", "bugfixes", "bugfix", "bugs"), "Fixed"),
    **dict.fromkeys(("security", "security fixes", "security fix", "security updates"), "Security"),
    **dict.fromkeys(("breaking", "breaking changes", "breaking change", "bc break", "bc breaks"), BREAKING),
}
GENERIC_HEADINGS = frozenset({"whats changed", "other changes", "changes", "commits", "uncategorized"})
"""Headings over changes of every kind (GitHub's "What's Changed"): each item is sorted by its conventional-commit
type (``feat:`` is Added), the rest are Changed."""
CONTRIBUTORS_HEADINGS = frozenset({"new contributors"})
"""GitHub's list of first-time contributors."""

CONVENTIONAL_TYPES: dict[str, str] = {
    "feat": "Added",
    "feature": "Added",
    "fix": "Fixed",
    "perf": "Changed",
    "security": "Security",
    "sec": "Security",
    "revert": "Reverts",
    "docs": "Documentation",
    "style": "Styles",
    "refactor": "Code Refactoring",
    "test": "Tests",
    "tests": "Tests",
    "build": "Build System",
    "ci": "Continuous Integration",
    "chore": "Miscellaneous Chores",
    "deps": "Dependencies",
}
"""A conventional commit's type, and the section conventional-changelog writes it under (mapped onto Keep a
Changelog's where it means the same)."""


def words_of(heading: str) -> str:
    """A heading's words, as compared: lower case, emoji, symbols and punctuation dropped, spaces collapsed."""
    kept = "".join(c if unicodedata.category(c)[0] in "LN" else " " for c in heading.replace("'", "").replace("’", ""))
    return " ".join(kept.casefold().split())


def section_name(heading: str) -> str:
    """The section a heading (or a name a plan or template gives) stands for: a Keep a Changelog name where it means
    the same (``🚀 Features`` is Added, ``⚠ BREAKING CHANGES`` is Breaking), else its own words without emoji."""
    words = words_of(heading)
    if words in _ALIASES:
        return _ALIASES[words]
    own = " ".join("".join(c if unicodedata.category(c)[0] in "LNP" or c == " " else " " for c in heading).split())
    return own.strip(" :-") or heading.strip()


def known_section(heading: str) -> bool:
    """Whether a heading names a section Herald knows (Keep a Changelog's, or one that means the same)."""
    return words_of(heading) in _ALIASES


class SourceKind(StrEnum):
    """Where a plan's notes come from."""

    CHANGELOG = "changelog"  # a Keep a Changelog file: the release's section
    GITHUB = "github"  # a GitHub release's body, by its tag
    GITLAB = "gitlab"  # a GitLab release's description, by its tag
    FILE = "file"  # one file per release


@dataclass(frozen=True, slots=True)
class NotesSource:
    """The plan's ``[notes]``: where each release's notes are read, and how its tag is written."""

    kind: SourceKind
    location: str  # a path relative to the plan (changelog:, file:), or OWNER/REPO, GROUP/PROJECT
    tag: str = DEFAULT_TAG  # github:, gitlab: the release's tag, {version} replaced

    def tag_of(self, version: str) -> str:
        """The tag of ``version``'s release."""
        return self.tag.replace("{version}", version)

    @property
    def on_a_forge(self) -> bool:
        """Whether the notes are a release's on GitHub or GitLab (read through their APIs)."""
        return self.kind in (SourceKind.GITHUB, SourceKind.GITLAB)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.location}"


_FORMS = "changelog:PATH, file:PATH, github:OWNER/REPO or gitlab:GROUP/PROJECT"


def parse_source(text: str) -> NotesSource:
    """Read ``[notes] source``.

    Raises:
        ValueError: one sentence saying what is wrong and the forms it takes.
    """
    kind, colon, location = text.strip().partition(":")
    if not colon or kind not in set(SourceKind):
        raise ValueError(f"{text[:60]!r} is not a notes source; write {_FORMS}")
    location = location.strip()
    if not location or not location.isprintable():
        raise ValueError(f"{text[:60]!r} names nothing after {kind}:; write {_FORMS}")
    found = SourceKind(kind)
    if found is SourceKind.GITHUB and not _github_project(location):
        raise ValueError(f"{location[:60]!r} is not a GitHub repository; write github:OWNER/REPO, e.g. github:acme/api")
    if found is SourceKind.GITLAB and not _gitlab_project(location):
        raise ValueError(f"{location[:60]!r} is not a GitLab project; write gitlab:GROUP/PROJECT, e.g. gitlab:acme/api")
    if found is SourceKind.FILE and "{version}" not in location:
        raise ValueError("a file: source must contain {version}, e.g. file:notes/{version}.md")
    if found in (SourceKind.CHANGELOG, SourceKind.FILE) and location.startswith(("/", "\\")):
        raise ValueError(f"{location[:60]!r} must be a path relative to the plan file")
    return NotesSource(found, location)


def _name_part(part: str) -> bool:
    return bool(part) and part not in (".", "..") and all(c.isascii() and (c.isalnum() or c in "._-") for c in part)


def _github_project(location: str) -> bool:
    parts = location.split("/")
    return len(parts) == 2 and all(_name_part(p) for p in parts)


def _gitlab_project(location: str) -> bool:
    parts = location.split("/")
    return len(parts) >= 2 and all(_name_part(p) for p in parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptNotes:
    """The notes as read when the release was announced, kept with it: every later render reads these, in any
    process, rather than asking GitHub again."""

    origin: str  # where they were read: "github:acme/api v2.4.1", "CHANGELOG.md", "herald announce --notes"
    text: str = field(default="", repr=False)  # the Markdown of this release's notes (a changelog: its section)
    url: str | None = None  # the release's page (GitHub's html_url), or the changelog's link for the version
    previous_version: str | None = None  # the changelog's next older section, else the last release in the ledger
    problem: str | None = None  # set: they could not be read; one sentence for a person says why

    def as_json(self) -> dict[str, str | None]:
        """What the ledger keeps."""
        return {
            "origin": self.origin,
            "text": self.text,
            "url": self.url,
            "previous_version": self.previous_version,
            "problem": self.problem,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> KeptNotes:
        """Back from what the ledger keeps."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(
            origin=text("origin") or "",
            text=text("text") or "",
            url=text("url"),
            previous_version=text("previous_version"),
            problem=text("problem"),
        )


class Sections(Mapping[str, tuple[str, ...]]):
    """Entries by section name, looked up as a heading is compared (``notes.sections["security"]`` is Security's,
    ``["🚀 Features"]`` is Added's); a section the notes do not have is empty, never an error.

    Immutable: a template cannot change what the next one sees.
    """

    __slots__ = ("_entries", "_names")

    def __init__(self, entries: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        found: dict[str, tuple[str, ...]] = {}
        names: dict[str, str] = {}  # a section's words (as compared) -> its name as shown
        for given, items in entries:
            name = names.setdefault(_key(given), section_name(given))
            found[name] = found.get(name, ()) + tuple(items)
        self._entries = {name: items for name, items in found.items() if items}
        self._names = {key: name for key, name in names.items() if name in self._entries}

    def name_of(self, name: str) -> str:
        """The name a section is shown by: its name in these notes, else the name ``section_name`` gives."""
        return self._names.get(_key(name), section_name(name))

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return self._entries.get(self.name_of(name), ()) if isinstance(name, str) else ()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Sections({self._entries!r})"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReleaseNotes:
    """What a release's notes say, as templates use them.

    ``sections`` holds each item's text as written (its inline Markdown kept), by section;
    ``breaking`` every breaking change, wherever it was written (also ``sections["Breaking"]``).
    """

    version: str
    text: str  # the whole Markdown, as read
    sections: Sections
    breaking: tuple[str, ...] = ()
    contributors: tuple[str, ...] = ()  # GitHub logins, without the @; bots left out
    new_contributors: tuple[str, ...] = ()  # GitHub's "New Contributors"
    summary: str = ""  # the prose before the first section
    url: str | None = None
    previous_version: str | None = None
    origin: str = ""

    def pick(self, *names: str) -> Sections:
        """The named sections that have entries, in the order named (``notes.pick("Added", "Security")``)."""
        wanted = dict.fromkeys(self.sections.name_of(name) for name in names)
        return Sections((name, self.sections[name]) for name in wanted)

    def entries(self, *names: str) -> tuple[str, ...]:
        """The entries of the named sections (of every section when none is named), one after the other."""
        chosen = self.pick(*names) if names else self.sections
        return tuple(entry for name in chosen for entry in chosen[name])

    @property
    def count(self) -> int:
        """How many entries the notes have, breaking changes counted once."""
        return len(set(self.entries()))


def _key(name: str) -> str:
    """How a section is looked up: its name's words, as compared (``Package Health`` is ``package health``)."""
    return words_of(section_name(name))


def either(names: Iterable[str]) -> str:
    """``Added``, ``Added or Security``, ``Added, Fixed or Security``."""
    listed = list(dict.fromkeys(section_name(name) for name in names))
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " or " + listed[-1]
