"""The plan's release-note fields as pydantic types: ``[notes] source`` and ``tag``, and a group's ``sections``.

Each raises ``ValueError`` with the sentence a person reads (``errors.py`` keeps it). Whether a
group's ``sections`` have a ``[notes]`` to pick from, and whether ``tag`` means anything for the
source, span tables: ``rules.py`` checks those.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import PlainValidator

from bot.domain.notes import NotesSource, parse_source, section_name

SECTION_NAME_MAX = 80
"""The longest section name a group may pick."""


def _source(value: object) -> NotesSource:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a string such as changelog:CHANGELOG.md, github:OWNER/REPO, file:notes/{version}.md")
    return parse_source(value)


def _tag(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError('must be a string such as "v{version}"')
    if "{version}" not in value:
        raise ValueError(f'{value[:40]!r} must contain {{version}}, e.g. "v{{version}}" or "api-v{{version}}"')
    if not value.isprintable() or any(c in value for c in " /\\?#"):
        raise ValueError(f"{value[:40]!r} is not a tag: no spaces, slashes, ? or #")
    return value


def _sections(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError('must be a list of section names such as ["Added", "Security"]')
    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValueError('each section must be a non-empty string, such as "Added"')
        if len(item) > SECTION_NAME_MAX or not item.isprintable():
            raise ValueError(f"{item[:40]!r} is not a section name (one line, at most {SECTION_NAME_MAX} characters)")
        names.append(item.strip())
    seen: dict[str, str] = {}
    for name in names:
        canonical = section_name(name)
        if canonical in seen:
            also = "" if seen[canonical] == name else f" ({seen[canonical]} and {name} are both {canonical})"
            raise ValueError(f"names {canonical} twice{also}")
        seen[canonical] = name
    return tuple(names)


NotesSourceValue = Annotated[NotesSource, PlainValidator(_source)]
"""``[notes] source``: where each release's notes are read."""
TagTemplate = Annotated[str, PlainValidator(_tag)]
"""``[notes] tag``: how a release's tag is written, ``{version}`` replaced."""
SectionNames = Annotated[tuple[str, ...], PlainValidator(_sections)]
"""A group's ``sections``: the notes' sections its template is about."""
