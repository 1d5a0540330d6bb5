"""pydantic's ``ValidationError``, told as Herald's plan problems: the place, the field, a sentence.

A place is ``plan`` (the top level), ``[access]``, ``[people]`` (``[people.KEY]`` inside
one person's table), ``[defaults]``, ``[vars]``, ``[releases]``, ``[notes]``, or ``group 'ID'``
(``group #N`` when the id is missing or not a string).
Herald's own rules already speak in sentences (the ``ValueError`` a validator raised);
pydantic's complaints about types and missing or unknown keys are put into Herald's words
here, so nobody reads "Input should be a valid list".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from bot.domain.errors import Problem
from bot.service.planfile.schema import (
    AFTER_TABLE,
    TABLES,
    AfterTable,
    CorrectionsTable,
    FallbackTable,
    PlanFile,
    keys_of,
)
from bot.service.planfile.values import AFTER_ITEMS, LIST_OF_STRINGS

Loc = tuple[str | int, ...]

SECTIONS = ("access", "people", "defaults", "vars", "releases", "notes", "group")
"""The tables of a plan file, in the order their problems are listed (after the top level's)."""

BETWEEN_GROUPS = (len(SECTIONS) + 1, 0, 1)
"""The order of a problem between groups (``after``, cycles): after every group's own."""

_WORDS = {
    "missing": "is required",
    "bool_type": "must be true or false",
    "model_type": "must be a table",
    "dict_type": "must be a table",
    "list_type": LIST_OF_STRINGS,
    "string_type": "must be a string",
}
_GROUPS = "must be an array of tables ([[group]])"
_FALLBACK_ITEMS = 'must be a list of tables such as { after = "4h", to = "email" }'


class Found(NamedTuple):
    """A problem, and where it comes in the list: section, group number, unknown fields first."""

    order: tuple[int, int, int]
    problem: Problem


def order_of(loc: Loc, *, unknown: bool = False) -> tuple[int, int, int]:
    """The place in the list of a problem at ``loc`` (pydantic's path of keys and list indexes)."""
    section = loc[0] if loc else ""
    rank = SECTIONS.index(section) + 1 if section in SECTIONS else 0
    group = loc[1] if section == "group" and len(loc) > 1 and isinstance(loc[1], int) else -1
    return rank, group, 0 if unknown else 1


def group_place(document: Mapping[str, Any], index: int) -> str:
    """How a problem names the group at ``index`` (from 0): by its id as written, else by number."""
    groups = document.get("group")
    table = groups[index] if isinstance(groups, list) and index < len(groups) else None
    group_id = table.get("id") if isinstance(table, dict) else None
    return f"group {group_id!r}" if isinstance(group_id, str) else f"group #{index + 1}"


def place(loc: Loc, document: Mapping[str, Any]) -> tuple[str, str]:
    """The place and the field that ``loc`` points into; list indexes and ``[key]`` marks fall away."""
    if len(loc) > 2 and loc[0] == "group" and isinstance(loc[1], int):
        return group_place(document, loc[1]), str(loc[2])
    if len(loc) > 2 and loc[0] == "people" and loc[2] != "[key]":
        return f"[people.{loc[1]}]", str(loc[2])
    if len(loc) > 1 and loc[0] in SECTIONS and loc[0] != "group":
        return f"[{loc[0]}]", str(loc[1])
    return "plan", str(loc[0]) if loc else ""


def problems_of(error: ValidationError, document: Mapping[str, Any]) -> list[Found]:
    """Each of the validation error's complaints as a plan problem."""
    found: list[Found] = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        where, field = place(loc, document)
        inner = _inner(loc)
        sentence = _sentence(detail, where, field)
        problem = Problem(where, field, f"{inner}: {sentence}" if inner else sentence)
        found.append(Found(order_of(loc, unknown=detail["type"] == "extra_forbidden"), problem))
    return found


def in_file_order(found: Iterable[Found]) -> list[Problem]:
    """The problems in the order the file reads, each once."""
    return list(dict.fromkeys(f.problem for f in sorted(found, key=lambda f: f.order)))


def _inner(loc: Loc) -> str | None:
    """The key, inside one of a group's inner tables, that ``loc`` points to (None: not inside one)."""
    found = _in_table(loc)
    return found[0] if found is not None else None


def _in_table(loc: Loc) -> tuple[str, type[BaseModel]] | None:
    """The key inside one of a group's inner tables that ``loc`` points to, and that table's model.

    One of ``after``'s tables: ``group, N, after, M, <the table's tag>, KEY``; its ``corrections``:
    ``group, N, corrections, KEY``; one of its ``fallback`` steps: ``group, N, fallback, M, KEY``.
    The problem names ``KEY`` in its sentence.
    """
    if len(loc) > 5 and loc[0] == "group" and loc[2] == "after" and loc[4] == AFTER_TABLE:
        return str(loc[5]), AfterTable
    if len(loc) > 4 and loc[0] == "group" and loc[2] == "fallback" and isinstance(loc[3], int):
        return str(loc[4]), FallbackTable
    if len(loc) > 3 and loc[0] == "group" and loc[2] == "corrections":
        return str(loc[3]), CorrectionsTable
    return None


def _sentence(detail: Mapping[str, Any], where: str, field: str) -> str:
    kind, loc = detail["type"], detail["loc"]
    if kind == "value_error":  # one of Herald's rules, already a sentence
        return str(detail.get("ctx", {}).get("error", detail["msg"]))
    if kind == "extra_forbidden":
        inner = _in_table(loc)
        if inner is not None:
            return f"unknown field (allowed: {', '.join(keys_of(inner[1]))})"
        model = TABLES.get(str(loc[0]), PlanFile) if len(loc) > 1 else PlanFile
        return f"unknown field (allowed: {', '.join(keys_of(model))})"
    if (where, field) == ("plan", "group"):
        return _GROUPS
    if kind == "list_type" and field == "after":
        return AFTER_ITEMS
    if field == "fallback" and _in_table(loc) is None:  # the list, or one of its steps, is not what it should be
        return _FALLBACK_ITEMS
    if kind == "string_type" and isinstance(loc[-1], int):
        return LIST_OF_STRINGS  # one item of a list of strings
    return _WORDS.get(kind) or str(detail["msg"])
