"""The rules that span more than one field or group, checked on what can be read of the file.

pydantic runs a model's own validators only once all its fields are valid, so these rules
are not in the schema: they read each table leniently (a group whose ``ack`` is wrong
still has an id and an ``after`` list) and are reported in the same pass as the schema's
problems. A value they cannot read they leave alone; the schema reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from bot.domain.destinations import Destination, Kind, Platform, parse_destination
from bot.domain.durations import format_duration
from bot.domain.errors import Problem
from bot.domain.fallback import Medium
from bot.domain.plan import AckPolicy
from bot.service.planfile import order
from bot.service.planfile.errors import BETWEEN_GROUPS, Found, group_place, order_of
from bot.service.planfile.people import listed_twice, owners
from bot.service.planfile.values import Announcer, Duration, GroupId, Person

T = TypeVar("T")

_GROUP_ID = TypeAdapter[str](GroupId)
_PERSON = TypeAdapter[str](Person)
_ANNOUNCER = TypeAdapter[str](Announcer)
_DURATION = TypeAdapter[timedelta](Duration)
_AN_ID = {  # what a person's table lists on each medium, as a problem names it
    Medium.SLACK: "a slack id",
    Medium.DISCORD: "a discord id",
    Medium.SHELL: "a shell name",
    Medium.EMAIL: "an email",
}


def check(document: Mapping[str, Any]) -> list[Found]:
    """The problems of the plan ``document`` (TOML as read) that no single field shows."""
    found = _second_person(document.get("access"))
    found += [Found(order_of(("people",)), problem) for problem in listed_twice(document.get("people"))]
    groups = document.get("group")
    tables = [(i, t) for i, t in enumerate(groups) if isinstance(t, dict)] if isinstance(groups, list) else []
    for index, table in tables:
        found += _within_group(group_place(document, index), order_of(("group", index)), table)
    found += _scopes(document.get("access"), tables)
    found += _fallback(document, tables)
    found += _notes(document, tables)
    return found + _between_groups(tables, document.get("defaults"), owners(document.get("people")))


def _scopes(access: object, tables: list[tuple[int, dict[str, Any]]]) -> list[Found]:
    """``[access] scopes`` name groups that exist and people who may act; a group's ``announcers`` are announcers."""
    access = access if isinstance(access, dict) else {}
    announcers = _people(access.get("announcers"), _ANNOUNCER)
    approvers = _people(access.get("approvers"))
    group_ids = {t["id"] for _, t in tables if isinstance(t.get("id"), str)}
    found: list[Found] = []
    scopes = access.get("scopes")
    place = order_of(("access", "scopes"))
    for person, groups in scopes.items() if isinstance(scopes, dict) else ():
        if isinstance(person, str) and person not in announcers | approvers:
            message = f"{person}: is neither an announcer nor an approver, so a scope gives them nothing"
            found.append(Found(place, Problem("[access]", "scopes", message)))
        for group_id in groups if isinstance(groups, list) else ():
            if isinstance(group_id, str) and group_id not in group_ids:
                found.append(Found(place, Problem("[access]", "scopes", f"{person}: names unknown group {group_id!r}")))
    for index, table in tables:
        listed = table.get("announcers")
        for person in listed if isinstance(listed, list) else ():
            if isinstance(person, str) and person not in announcers:
                message = f"{person} is not in [access] announcers"
                found.append(Found(order_of(("group", index)), Problem(_where(table, index), "announcers", message)))
    return found


def _fallback(document: Mapping[str, Any], tables: list[tuple[int, dict[str, Any]]]) -> list[Found]:
    """A group's ``fallback``: on a group that asks for receipts, its steps in increasing ``after``, each to a
    medium on which ``[people]`` lists someone (no other id says where a person is reached)."""
    defaults = document.get("defaults")
    default_ack = defaults.get("ack", AckPolicy.REQUIRED.value) if isinstance(defaults, dict) else None
    listed = {person.partition(":")[0] for person in owners(document.get("people"))}
    found: list[Found] = []
    for index, table in tables:
        steps = table.get("fallback")
        where, place = group_place(document, index), order_of(("group", index))
        problems: list[str] = []
        if steps and table.get("ack", default_ack) == AckPolicy.NONE.value:
            problems.append('the group asks for no acknowledgement (ack = "none"), so nobody ever falls back')
        elif steps and table.get("require") == "delivered":
            problems.append('require = "delivered" is met once a copy is sent, so nobody ever falls back')
        latest: tuple[int, timedelta] | None = None  # the latest step so far, and its number
        for number, entry in enumerate(steps if isinstance(steps, list) else [], start=1):
            step = entry if isinstance(entry, dict) else {}  # the schema reports a step that is no table
            after, medium = _read(_DURATION, step.get("after")), step.get("to")
            if after is not None and latest is not None and after <= latest[1]:
                problems.append(
                    f"step {number} (after {format_duration(after)}) is not later than step {latest[0]} "
                    f"(after {format_duration(latest[1])}); list the steps in increasing after"
                )
            elif after is not None:
                latest = (number, after)
            if isinstance(medium, str) and medium in set(Medium) and medium not in listed:
                problems.append(f"to {medium} reaches nobody: no one in [people] lists {_AN_ID[Medium(medium)]}")
        found += [Found(place, Problem(where, "fallback", message)) for message in problems]
    return found


def _notes(document: Mapping[str, Any], tables: list[tuple[int, dict[str, Any]]]) -> list[Found]:
    """A group's ``sections`` pick from ``[notes]``, which must exist; ``tag`` finds a release on a forge only."""
    notes = document.get("notes")
    found: list[Found] = []
    if isinstance(notes, dict) and "tag" in notes and isinstance(notes.get("source"), str):
        kind = notes["source"].partition(":")[0]
        if kind in ("changelog", "file"):
            message = f"has no effect with a {kind}: source (a tag finds a release on GitHub or GitLab)"
            found.append(Found(order_of(("notes",)), Problem("[notes]", "tag", message)))
    if notes is not None:
        names = document.get("vars")
        taken = [name for name in ("notes", "group_notes") if isinstance(names, dict) and name in names]
        message = "is set by Herald from [notes] and cannot be redefined"
        return found + [Found(order_of(("vars", name)), Problem("[vars]", name, message)) for name in taken]
    message = (
        "only makes sense with a [notes] table saying where each release's notes are; add [notes] with source = "
        '"changelog:CHANGELOG.md" (or github:OWNER/REPO, gitlab:GROUP/PROJECT, file:notes/{version}.md)'
    )
    for index, table in tables:
        if "sections" in table:
            found.append(Found(order_of(("group", index)), Problem(group_place(document, index), "sections", message)))
    return found


def _where(table: Mapping[str, Any], index: int) -> str:
    group_id = table.get("id")
    return f"group {group_id!r}" if isinstance(group_id, str) else f"group #{index + 1}"


def _second_person(access: object) -> list[Found]:
    if not isinstance(access, dict):
        return []
    announcers, approvers = _people(access.get("announcers")), _people(access.get("approvers"))
    if not (approvers and announcers and len(announcers | approvers) < 2):
        return []
    message = "the only approver is the only announcer, so the final approval by a second person can never be given"
    return [Found(order_of(("access", "approvers")), Problem("[access]", "approvers", message))]


def _within_group(where: str, order: tuple[int, int, int], table: Mapping[str, Any]) -> list[Found]:
    found: list[Found] = []
    if ("message" in table) == ("message_file" in table):
        found.append(Found(order, Problem(where, "message", "give exactly one of message or message_file")))
    if "send_at" in table and "send_after" in table:
        found.append(Found(order, Problem(where, "send_after", "give send_at or send_after, not both")))
    if "require" in table and table.get("ack") == "none":
        message = 'has no effect with ack = "none": nobody is asked for a receipt'
        found.append(Found(order, Problem(where, "require", message)))
    return found + [Found(order, problem) for problem in _discord_webhook(where, table)]


def _discord_webhook(where: str, table: Mapping[str, Any]) -> list[Problem]:
    """A webhook posts in its own channel, which must be one of the group's; its name and avatar need it."""
    if "discord_webhook" not in table:
        alone = "has no effect without discord_webhook (Herald's own Discord posts show the bot's name)"
        return [Problem(where, key, alone) for key in ("discord_username", "discord_avatar") if key in table]
    destinations = _destinations(table.get("to"))
    if destinations is None or any(d.platform is Platform.DISCORD and d.kind is Kind.CHANNEL for d in destinations):
        return []
    message = (
        "posts in its own Discord channel, but the group has no discord:channel: destination; "
        "add the webhook's channel to its destinations, or remove discord_webhook"
    )
    return [Problem(where, "discord_webhook", message)]


def _between_groups(
    tables: list[tuple[int, dict[str, Any]]], defaults: object, owners_of: Mapping[str, str]
) -> list[Found]:
    found: list[Found] = []
    by_id: dict[str, dict[str, Any]] = {}  # each group with a valid id, first of its id, in file order
    for index, table in tables:
        group_id = _read(_GROUP_ID, table.get("id"))
        if group_id is None:
            continue
        if group_id in by_id:
            problem = Problem(f"group {group_id!r}", "id", "is used by another group; ids must be unique")
            found.append(Found(order_of(("group", index)), problem))
            continue
        by_id[group_id] = table
    default_ack = defaults.get("ack", AckPolicy.REQUIRED.value) if isinstance(defaults, dict) else None
    return found + [Found(BETWEEN_GROUPS, problem) for problem in order.check(by_id, default_ack, owners_of)]


def _destinations(value: object) -> list[Destination] | None:
    """The destinations of a ``to`` list, or None when one of them cannot be read (the schema reports it)."""
    if not isinstance(value, list) or not value:
        return None
    try:
        return [parse_destination(item) for item in value]
    except ValueError:
        return None


def _people(value: object, adapter: TypeAdapter[str] = _PERSON) -> set[str]:
    """The valid people (``adapter``: or pipelines, for announcers) of an access list; the schema reports the others."""
    items = value if isinstance(value, list) else []
    return {person for item in items if (person := _read(adapter, item)) is not None}


def _read(adapter: TypeAdapter[T], value: object) -> T | None:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None
