"""Release notes read with markdown-it-py: sections, entries, breaking changes, contributors, the version before.

Everything structural comes from the parser's tree, never from a regular expression: a
heading opens a section (``section_name`` says which), each item of a list under it is
one entry, kept as written (its inline Markdown and any nested lines), and a paragraph
under a section is an entry too. Items under a heading that holds every kind of change
(GitHub's "What's Changed", a version's own heading) are sorted by their conventional
commit type (``feat:`` is Added, ``fix:`` Fixed) and are otherwise Changed. A breaking
change is one under a "Breaking" heading (``⚠ BREAKING CHANGES``), a ``type!:`` commit,
or an item that starts with **Breaking:**; contributors are GitHub's "New Contributors"
and the people of "… by @name in #123" lines. ``changelog_section`` finds one version's
section of a Keep a Changelog file, with its link and the version below it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from bot.domain.errors import CommandError
from bot.domain.notes import (
    BREAKING,
    CONTRIBUTORS_HEADINGS,
    CONVENTIONAL_TYPES,
    GENERIC_HEADINGS,
    KeptNotes,
    ReleaseNotes,
    Sections,
    known_section,
    section_name,
    words_of,
)
from bot.domain.versions import parse_version

_LISTS = ("bullet_list", "ordered_list")
_NOT_A_NAME = ",.;:)!?"  # what may follow a login in running text


class _Kind(Enum):
    SECTION = "section"  # its items are entries of one section
    ANY = "any"  # its items are sorted by their conventional-commit type
    BREAKING = "breaking"  # its items are breaking changes
    CONTRIBUTORS = "contributors"  # GitHub's "New Contributors"


@dataclass(frozen=True, slots=True)
class ChangelogSection:
    """One version's part of a changelog file."""

    text: str
    url: str | None
    previous_version: str | None


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # CommonMark as GitHub reads it for structure; link reference definitions on, so that a
    # Keep a Changelog heading "[1.1.0] - 2019-02-15" links to its "[1.1.0]: https://…" line.
    return MarkdownIt("commonmark")


def _tree(text: str) -> SyntaxTreeNode:
    return SyntaxTreeNode(_parser().parse(text, {}))


def _lines(text: str) -> list[str]:
    """The lines the parser's maps count: it breaks at \\n, \\r\\n and \\r only (``str.splitlines`` at more)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@lru_cache(maxsize=64)
def parse_notes(kept: KeptNotes, version: str) -> ReleaseNotes:
    """What ``kept``'s Markdown says, for release ``version`` (a parse of the same notes is reused)."""
    reading = _Reading(_lines(kept.text))
    kind, name = _Kind.ANY, ""
    for node in _tree(kept.text).children:
        if node.type == "heading":
            kind, name = _heading(node)
        elif node.type in _LISTS:
            for item in node.children:
                reading.item(item, kind, name)
        elif node.type == "paragraph":
            reading.paragraph(node, kind, name)
    sections = Sections([*reading.sections, (BREAKING, reading.breaking)])
    contributors = tuple(dict.fromkeys([*reading.contributors, *reading.new_contributors]))
    return ReleaseNotes(
        version=version,
        text=kept.text,
        sections=sections,
        breaking=tuple(dict.fromkeys(reading.breaking)),
        contributors=contributors,
        new_contributors=tuple(dict.fromkeys(reading.new_contributors)),
        summary="\n\n".join(reading.summary),
        url=kept.url,
        previous_version=reading.previous or kept.previous_version,
        origin=kept.origin,
    )


@dataclass
class _Reading:
    """What the walk over one document has found so far."""

    lines: list[str]
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    breaking: list[str] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)
    new_contributors: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    previous: str | None = None

    def item(self, node: SyntaxTreeNode, kind: _Kind, name: str) -> None:
        text = _item_text(node, self.lines)
        first = next((child for child in node.children if child.type == "paragraph"), None)
        plain = _plain(first) if first is not None else text
        if not text:
            return
        if kind is _Kind.CONTRIBUTORS:
            login = next((word for word in plain.split() if word.startswith("@")), None)
            self.new_contributors += _logins([login] if login else [])
            return
        self.contributors += _mentioned(plain)
        typed = _conventional(plain)
        if kind is _Kind.SECTION:
            self.sections.append((name, [text]))
        elif kind is _Kind.ANY:
            self.sections.append((CONVENTIONAL_TYPES[typed[0]] if typed else "Changed", [text]))
        if kind is _Kind.BREAKING or (typed is not None and typed[1]) or _marked_breaking(first, plain):
            self.breaking.append(text)

    def paragraph(self, node: SyntaxTreeNode, kind: _Kind, name: str) -> None:
        text = _inline_source(node)
        previous = _full_changelog(node)
        if previous is not None or words_of(_plain(node)).startswith("full changelog"):
            self.previous = self.previous or previous
        elif kind is _Kind.SECTION:
            self.sections.append((name, [text]))
        elif kind is _Kind.BREAKING:
            self.breaking.append(text)
        elif kind is _Kind.ANY and text:
            self.summary.append(text)


def _heading(node: SyntaxTreeNode) -> tuple[_Kind, str]:
    """What a heading opens: one section, changes of any kind, breaking changes or new contributors."""
    plain = _plain(node)
    words = words_of(plain)
    if _version_in(plain) is not None or words == "unreleased" or words in GENERIC_HEADINGS:
        return _Kind.ANY, ""
    if words in CONTRIBUTORS_HEADINGS:
        return _Kind.CONTRIBUTORS, ""
    name = section_name(plain)
    if name == BREAKING:
        return _Kind.BREAKING, name
    if node.tag == "h1" and not known_section(plain):  # a document's title ("# Release notes"), no section
        return _Kind.ANY, ""
    return _Kind.SECTION, name


def changelog_section(text: str, version: str) -> ChangelogSection | None:
    """``version``'s section of a changelog (None: it has none), with its heading's link and the version below it.

    The version below is the next older section's, else the one its heading's compare link
    starts from. A section runs to the next version's heading (or "Unreleased"), or to a heading above
    its own level, or to one at its level that is no section (a trailing "## Links"); link
    reference definitions at the end of the file are left out.
    """
    blocks = _tree(text).children
    lines = _lines(text)
    headings = [(index, node) for index, node in enumerate(blocks) if node.type == "heading" and node.map]
    for place, (index, node) in enumerate(headings):
        found = _version_in(_plain(node))
        if found is None or not _same_version(found, version) or node.map is None:
            continue
        level = int(node.tag[1:])
        end = max((b.map[1] for b in blocks[index + 1 :] if b.map), default=node.map[1])
        previous = None
        for _, later in headings[place + 1 :]:
            later_version = _version_in(_plain(later))
            if later.map is not None and _ends(later, level, later_version):
                end = min(end, later.map[0])
            if later_version is not None:
                previous = later_version
                break
        body = "\n".join(lines[node.map[1] : end]).strip("\n")
        url = _first_link(node)
        if previous is None and url is not None:  # the oldest section: its compare link may still say
            previous = _compare_base(url)
        return ChangelogSection(textwrap.dedent(body).strip(), url, previous)
    return None


def _ends(heading: SyntaxTreeNode, level: int, version: str | None) -> bool:
    """Whether ``heading`` ends a version's section opened at ``level``."""
    words = words_of(_plain(heading))
    if version is not None or words == "unreleased":
        return True
    own = int(heading.tag[1:])
    if own != level:
        return own < level
    return not (known_section(_plain(heading)) or words in GENERIC_HEADINGS or words in CONTRIBUTORS_HEADINGS)


def versions_named(text: str) -> list[str]:
    """Every version a changelog has a section for, newest first as written."""
    return [v for node in _tree(text).children if node.type == "heading" and (v := _version_in(_plain(node)))]


# -- the parts ------------------------------------------------------------------------


def _plain(node: SyntaxTreeNode | None) -> str:
    """A block's text as read: link texts and code included, markup and URLs behind links left out."""
    if node is None:
        return ""
    parts: list[str] = []
    for part in node.walk():
        if part.type in ("text", "code_inline"):
            parts.append(part.content)
        elif part.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


def _inline_source(node: SyntaxTreeNode) -> str:
    """A paragraph's Markdown as written."""
    inline = next((child for child in node.children if child.type == "inline"), None)
    return inline.content.strip() if inline is not None else ""


def _item_text(item: SyntaxTreeNode, lines: list[str]) -> str:
    """A list item as written, without its marker: the first line's text, then its other lines, dedented."""
    if item.map is None:
        return _plain(item)
    start, stop = item.map
    first = lines[start].lstrip() if start < len(lines) else ""
    marker = f"{item.info}{item.markup}"
    first = first[len(marker) :].strip() if first.startswith(marker) else first.strip()
    rest = textwrap.dedent("\n".join(lines[start + 1 : stop])).rstrip()
    return f"{first}\n{rest}".strip() if rest.strip() else first


def _first_link(node: SyntaxTreeNode) -> str | None:
    for part in node.walk():
        href = part.attrs.get("href") if part.type == "link" else None
        if isinstance(href, str):
            return href
    return None


def _full_changelog(node: SyntaxTreeNode) -> str | None:
    """The version before, from GitHub's "**Full Changelog**: …/compare/v1.2.0...v1.3.0" (None: not such a line)."""
    plain = _plain(node)
    if not words_of(plain).startswith("full changelog"):
        return None
    hrefs = [str(part.attrs.get("href", "")) for part in node.walk() if part.type == "link"]
    return next((found for candidate in (plain, *hrefs) if (found := _compare_base(candidate))), None)


def _compare_base(text: str) -> str | None:
    """The older version of a compare link in ``text`` (``…/compare/v1.2.0...v1.3.0`` gives 1.2.0), else None."""
    _, found, after = text.partition("/compare/")
    base, dots, _ = after.split()[0].partition("...") if found and after.split() else ("", "", "")
    return _version_from_tag(base) if dots else None


def _conventional(plain: str) -> tuple[str, bool] | None:
    """A conventional commit's type and whether it says ``!`` (``feat(api)!: …``); None: not one."""
    head, colon, _ = plain.partition(":")
    head = head.strip()
    if not colon or not head or " " in head:
        return None
    bang = head.endswith("!")
    kind, paren, scope = head.rstrip("!").partition("(")
    if paren and not scope.endswith(")"):
        return None
    kind = kind.lower()
    return (kind, bang) if kind in CONVENTIONAL_TYPES else None


def _marked_breaking(first: SyntaxTreeNode | None, plain: str) -> bool:
    """Whether an item starts with **Breaking:** (or **[BC BREAK]**), or with "BREAKING CHANGE:" as text."""
    inline = first.children[0] if first is not None and first.children else None
    opening = inline.children[0] if inline is not None and inline.children else None
    if opening is not None and opening.type == "strong" and section_name(_plain(opening)) == BREAKING:
        return True
    head, colon, _ = plain.partition(":")
    return bool(colon) and len(head) <= 30 and section_name(head) == BREAKING


def _mentioned(plain: str) -> list[str]:
    """The logins of "by @name in #123" (GitHub's generated lines): each @word right after "by"."""
    words = plain.split()
    found: list[str] = []
    for place, word in enumerate(words):
        if word.lower() != "by":
            continue
        for after in words[place + 1 :]:
            if after.lower() in ("and", "&"):
                continue
            if not after.startswith("@"):
                break
            found.append(after)
    return _logins(found)


def _logins(words: list[str]) -> list[str]:
    """Logins without their ``@`` and trailing punctuation; bots (``dependabot[bot]``) are no contributors."""
    logins = [word.lstrip("@").rstrip(_NOT_A_NAME) for word in words]
    return [login for login in logins if login and not login.endswith("[bot]")]


def _version_in(heading: str) -> str | None:
    """The version a changelog heading is for (``[1.1.0] - 2019-02-15``, ``v2.4.1 (2026-12-01)``), else None."""
    words = heading.replace("[", " ").replace("]", " ").split()
    if words and words[0].casefold() in ("version", "release"):
        words = words[1:]
    return _version_from_tag(words[0].rstrip(":,")) if words else None


def _version_from_tag(tag: str) -> str | None:
    """The version a tag names: ``v1.2.0``, ``1.2.0``, ``api-v1.2.0``, ``permissions/v0.2.0``, ``@scope/pkg@1.2.0``."""
    candidates = [tag, tag.rsplit("/", 1)[-1], tag.rsplit("@", 1)[-1]]
    if "-v" in tag:
        candidates.append(tag.rsplit("-v", 1)[-1])
    for candidate in candidates:
        try:
            found = parse_version(candidate)
        except CommandError:
            continue
        if "." in found:
            return found
    return None


def _same_version(written: str, wanted: str) -> bool:
    """Whether two versions are one (``2.4`` is ``2.4.0``)."""

    def parts(version: str) -> tuple[tuple[str, ...], str]:
        cut = min((i for i in (version.find("-"), version.find("+")) if i >= 0), default=len(version))
        numbers = version[:cut].split(".")
        return (*numbers, *["0"] * (3 - len(numbers))), version[cut:]

    def canonical(version: str) -> tuple[tuple[int, ...], str]:
        numbers, rest = parts(version)
        return tuple(int(n) for n in numbers), rest

    try:
        return canonical(parse_version(written)) == canonical(parse_version(wanted))
    except (CommandError, ValueError):
        return False
