"""The rules of ``after``, between groups: every group it names exists, once, and no cycle forms.

Both forms take part alike (``"engineering"`` and ``{ group = "support", … }``). A table
asks more: the group it waits for must ask for receipts (``ack`` other than ``"none"``),
a count must be one that group can reach (when all it sends to are single people, it can
reach no more than them; a channel or a user group may hold anyone), ``on_timeout``
needs a ``timeout``, and ``on_timeout = "escalate"`` someone to tell (the group's
``escalate_to``). Each table is read leniently; the schema reports what cannot be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import StrictInt, StrictStr, TypeAdapter, ValidationError

from bot.domain.destinations import Kind, parse_destination
from bot.domain.errors import Problem

T = TypeVar("T")

_TEXT = TypeAdapter[str](StrictStr)
_COUNT = TypeAdapter[int](StrictInt)
_UNBOUNDED = (Kind.CHANNEL, Kind.GROUP)  # anyone reading a channel, any member of a user group may acknowledge


def check(
    groups: Mapping[str, Mapping[str, Any]], default_ack: object, owners: Mapping[str, str] | None = None
) -> list[Problem]:
    """The problems of every group's ``after`` (``groups``: each valid id's first table, in file order;
    ``owners``: whose each id of the ``[people]`` table is, so that one person reached twice counts once)."""
    found: list[Problem] = []
    edges: dict[str, list[str]] = {}
    for group_id, table in groups.items():
        where = f"group {group_id!r}"
        after = table.get("after", [])
        entries: list[object] = after if isinstance(after, list) else []  # the schema reports a non-list
        edges[group_id] = []
        for entry in entries:
            name = _name(entry)
            if name is None:
                continue
            if name == group_id:
                found.append(Problem(where, "after", "names the group itself"))
            elif name not in groups:
                found.append(Problem(where, "after", f"names unknown group {name!r}"))
            elif name in edges[group_id]:
                found.append(Problem(where, "after", f"names group {name!r} twice"))
            else:
                edges[group_id].append(name)
                if isinstance(entry, dict):
                    found += _gate(where, name, entry, groups[name], default_ack, table, owners or {})
    cycle = _find_cycle(edges)
    if cycle:
        path = " -> ".join([*cycle, cycle[0]])
        found.append(Problem(f"group {cycle[0]!r}", "after", f"forms a cycle: {path}"))
    return found


def _name(entry: object) -> str | None:
    """The group an ``after`` entry names, in either form (None: it names none that can be read)."""
    return _read(_TEXT, entry.get("group") if isinstance(entry, dict) else entry)


def _gate(
    where: str,
    name: str,
    entry: Mapping[str, Any],
    earlier: Mapping[str, Any],
    default: object,
    waiting: Mapping[str, Any],
    owners: Mapping[str, str],
) -> list[Problem]:
    """What is wrong with a receipt gate on group ``name`` (its table ``earlier``; the gated group's ``waiting``)."""
    found: list[Problem] = []
    if "on_timeout" in entry and "timeout" not in entry:
        found.append(Problem(where, "after", f"{name}: on_timeout: has no effect without a timeout"))
    if entry.get("on_timeout") == "escalate" and not waiting.get("escalate_to"):
        message = f'{name}: on_timeout = "escalate" tells this group\'s escalate_to, which is empty; name who to tell'
        found.append(Problem(where, "after", message))
    if earlier.get("ack", default) == "none":
        message = f'{name}: acknowledged: {name} asks for no acknowledgement (ack = "none"), so it can never be reached'
        return [*found, Problem(where, "after", message)]
    count = _read(_COUNT, entry.get("acknowledged"))
    reachable = _reachable(earlier.get("to"), owners)
    if count is not None and reachable is not None and count > reachable:
        people = "person" if reachable == 1 else "people"
        message = f"{name}: acknowledged: {count} can never be reached; {name} is sent to {reachable} {people}"
        found.append(Problem(where, "after", message))
    return found


def _reachable(to: object, owners: Mapping[str, str]) -> int | None:
    """How many people could ever acknowledge a group sent to ``to`` (None: no bound, or unreadable); a person
    the ``[people]`` table lists under two ids counts once."""
    if not isinstance(to, list):
        return None
    people: set[str] = set()
    for text in to:
        try:
            destination = parse_destination(text) if isinstance(text, str) else None
        except ValueError:
            destination = None
        if destination is None or destination.kind in _UNBOUNDED:
            return None
        if destination.person is not None:
            people.add(owners.get(destination.person, destination.person))
    return len(people)


def _read(adapter: TypeAdapter[T], value: object) -> T | None:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None
