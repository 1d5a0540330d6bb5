"""Load a plan file (TOML), checking everything at once.

Every problem is collected and reported together, each naming the group and
the field, so a person fixes the file in one pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.domain.destinations import Destination, parse_destination
from bot.domain.durations import parse_duration
from bot.domain.errors import PlanError, Problem
from bot.domain.people import parse_person
from bot.domain.plan import DEFAULT_SUBJECT, AckPolicy, Group, Plan
from bot.service.templating import syntax_problem

_TOP = {"product", "access", "defaults", "vars", "releases", "group"}
_ACCESS = {"announcers", "approvers", "viewers"}
_DEFAULTS = {"ack", "ack_within", "remind_every", "ack_link_valid_for"}
_RELEASES = {"vars_file"}
_GROUP = {
    "id",
    "name",
    "to",
    "ack",
    "ack_within",
    "remind_every",
    "escalate_to",
    "after",
    "message",
    "message_file",
    "allow_broadcast_mentions",
    "send_at",
    "send_after",
    "subject",
    "read_receipt",
    "ack_link_valid_for",
}
_GROUP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_RESERVED_VARS = {"product", "version"}


@dataclass(slots=True)
class _Defaults:
    ack: AckPolicy = AckPolicy.REQUIRED
    ack_within: timedelta = timedelta(hours=24)
    remind_every: timedelta = timedelta(hours=4)
    ack_link_valid_for: timedelta = timedelta(days=30)


def load_plan(path: str | Path) -> Plan:
    """Read and validate the plan at ``path``.

    Raises:
        PlanError: listing every problem in the file.
    """
    plan_path = Path(path)
    try:
        text = plan_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(str(plan_path), [Problem("plan", "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlanError(str(plan_path), [Problem("plan", "", f"cannot be read: {error}")]) from None
    return parse_plan(text, source=str(plan_path), base_dir=plan_path.parent)


def parse_plan(text: str, *, source: str = "<plan>", base_dir: Path | None = None) -> Plan:
    """Validate plan text; ``base_dir`` resolves ``message_file`` paths.

    Raises:
        PlanError: listing every problem in the text.
    """
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as error:  # TOMLDecodeError, and what tomllib lets escape
        reason = error if isinstance(error, ValueError) else "it is nested too deeply"
        raise PlanError(source, [Problem("plan", "", f"is not valid TOML: {reason}")]) from None
    loader = _Loader(base_dir or Path("."))
    plan = loader.load(data, source, str(base_dir or Path(".")))
    if loader.problems:
        raise PlanError(source, loader.problems)
    assert plan is not None
    return plan


class _Loader:
    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.problems: list[Problem] = []

    def problem(self, where: str, field: str, message: str) -> None:
        self.problems.append(Problem(where, field, message))

    def unknown(self, where: str, table: Mapping[str, Any], known: set[str]) -> None:
        for key in table:
            if key not in known:
                allowed = ", ".join(sorted(known))
                self.problem(where, key, f"unknown field (allowed: {allowed})")

    def table(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problem(where, key, "must be a table")
            return {}
        return value

    def string(self, data: Mapping[str, Any], key: str, where: str, *, required: bool) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(where, key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(where, key, "must be a non-empty string")
            return None
        return value

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> list[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(where, key, "must be a list of strings")
            return []
        return value

    def duration(self, data: Mapping[str, Any], key: str, where: str, default: timedelta) -> timedelta:
        if key not in data:
            return default
        try:
            return parse_duration(data[key])
        except ValueError as error:
            self.problem(where, key, str(error))
            return default

    def moment(self, data: Mapping[str, Any], key: str, where: str) -> datetime | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                self.problem(where, key, f"{value!r} is not a date and time; write e.g. 2026-12-01T09:00:00Z")
                return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            self.problem(where, key, "must be a date and time with a UTC offset, e.g. 2026-12-01T09:00:00Z")
            return None
        return value.astimezone(UTC)

    def ack(self, data: Mapping[str, Any], where: str, default: AckPolicy) -> AckPolicy:
        if "ack" not in data:
            return default
        try:
            return AckPolicy(data["ack"])
        except ValueError:
            self.problem(where, "ack", f'{data["ack"]!r} is not one of "required", "optional", "none"')
            return default

    def destinations(self, data: Mapping[str, Any], key: str, where: str) -> tuple[Destination, ...]:
        parsed: list[Destination] = []
        for text in self.strings(data, key, where):
            try:
                destination = parse_destination(text)
            except ValueError as error:
                self.problem(where, key, str(error))
                continue
            if destination in parsed:
                self.problem(where, key, f"{text!r} is listed twice")
                continue
            parsed.append(destination)
        return tuple(parsed)

    def people(self, data: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
        people: set[str] = set()
        for text in self.strings(data, key, where):
            try:
                people.add(parse_person(text))
            except ValueError as error:
                self.problem(where, key, str(error))
        return frozenset(people)

    def load(self, data: Mapping[str, Any], source: str, base_dir: str) -> Plan | None:
        self.unknown("plan", data, _TOP)
        product = self.string(data, "product", "plan", required=True) or "?"
        access = self.table(data, "access", "plan")
        self.unknown("[access]", access, _ACCESS)
        announcers = self.people(access, "announcers", "[access]")
        if access.get("announcers") == []:
            self.problem("[access]", "announcers", "is empty; name at least one person who may announce")
        elif "announcers" not in access:
            self.problem("[access]", "announcers", "is required; name at least one person who may announce")
        approvers = self.people(access, "approvers", "[access]")
        if approvers and announcers and len(announcers | approvers) < 2:
            self.problem(
                "[access]",
                "approvers",
                "the only approver is the only announcer, so the final approval by a second person can never be given",
            )
        viewers = self.people(access, "viewers", "[access]")
        defaults = self.load_defaults(self.table(data, "defaults", "plan"))
        variables = self.load_vars(self.table(data, "vars", "plan"))
        releases = self.table(data, "releases", "plan")
        self.unknown("[releases]", releases, _RELEASES)
        vars_file = self.string(releases, "vars_file", "[releases]", required=False)
        if vars_file is not None and "{version}" not in vars_file:
            self.problem("[releases]", "vars_file", "must contain {version}, e.g. releases/{version}.toml")
        groups = self.load_groups(data.get("group"), defaults)
        return Plan(
            product=product,
            announcers=announcers,
            approvers=approvers,
            viewers=viewers,
            groups=tuple(groups),
            vars=variables,
            vars_file=vars_file,
            source=source,
            base_dir=base_dir,
        )

    def load_defaults(self, table: Mapping[str, Any]) -> _Defaults:
        self.unknown("[defaults]", table, _DEFAULTS)
        base = _Defaults()
        return _Defaults(
            ack=self.ack(table, "[defaults]", base.ack),
            ack_within=self.duration(table, "ack_within", "[defaults]", base.ack_within),
            remind_every=self.duration(table, "remind_every", "[defaults]", base.remind_every),
            ack_link_valid_for=self.duration(table, "ack_link_valid_for", "[defaults]", base.ack_link_valid_for),
        )

    def load_vars(self, table: Mapping[str, Any]) -> dict[str, str]:
        variables: dict[str, str] = {}
        for name, value in table.items():
            if not _VAR_NAME.match(name):
                self.problem("[vars]", name, "is not a valid variable name (letters, digits, _)")
            elif name in _RESERVED_VARS:
                self.problem("[vars]", name, "is set by Herald itself and cannot be redefined")
            elif not isinstance(value, str):
                self.problem("[vars]", name, "must be a string")
            else:
                problem = syntax_problem(value, name)
                if problem:
                    self.problem("[vars]", name, problem)
                variables[name] = value
        return variables

    def load_groups(self, raw: Any, defaults: _Defaults) -> list[Group]:
        if raw is None or raw == []:
            self.problem("plan", "group", "no [[group]] is defined; a plan needs at least one stakeholder group")
            return []
        if not isinstance(raw, list) or not all(isinstance(g, dict) for g in raw):
            self.problem("plan", "group", "must be an array of tables ([[group]])")
            return []
        groups: list[Group] = []
        seen: set[str] = set()
        for index, table in enumerate(raw, start=1):
            group = self.load_group(index, table, defaults)
            if group is None:
                continue
            if group.id in seen:
                self.problem(f"group {group.id!r}", "id", "is used by another group; ids must be unique")
                continue
            seen.add(group.id)
            groups.append(group)
        self.check_after(groups)
        return groups

    def load_group(self, index: int, table: Mapping[str, Any], defaults: _Defaults) -> Group | None:
        raw_id = table.get("id")
        where = f"group {raw_id!r}" if isinstance(raw_id, str) else f"group #{index}"
        self.unknown(where, table, _GROUP)
        group_id = self.string(table, "id", where, required=True)
        if group_id is not None and not _GROUP_ID.match(group_id):
            self.problem(where, "id", "must be lower-case letters, digits, - or _ (at most 40)")
            group_id = None
        elif group_id == "all":
            self.problem(where, "id", "“all” is reserved (/release approve VERSION all approves every group)")
            group_id = None
        name = self.string(table, "name", where, required=False) or group_id or "?"
        to = self.destinations(table, "to", where)
        if "to" not in table or (isinstance(table.get("to"), list) and not table["to"]):
            self.problem(where, "to", "has no destinations; a group must be sent somewhere")
        escalate_to = self.destinations(table, "escalate_to", where)
        after = self.strings(table, "after", where)
        template, template_name = self.load_message(table, where)
        mentions = table.get("allow_broadcast_mentions", False)
        if not isinstance(mentions, bool):
            self.problem(where, "allow_broadcast_mentions", "must be true or false")
            mentions = False
        ack = self.ack(table, where, defaults.ack)
        ack_within = self.duration(table, "ack_within", where, defaults.ack_within)
        remind_every = self.duration(table, "remind_every", where, defaults.remind_every)
        link_valid_for = self.duration(table, "ack_link_valid_for", where, defaults.ack_link_valid_for)
        send_at = self.moment(table, "send_at", where)
        send_after = self.duration(table, "send_after", where, timedelta(0)) if "send_after" in table else None
        if send_at is not None and send_after is not None:
            self.problem(where, "send_after", "give send_at or send_after, not both")
        subject = self.load_subject(table, where)
        read_receipt = table.get("read_receipt", False)
        if not isinstance(read_receipt, bool):
            self.problem(where, "read_receipt", "must be true or false")
            read_receipt = False
        if group_id is None:
            return None
        return Group(
            id=group_id,
            name=name,
            to=to,
            template=template,
            template_name=template_name,
            ack=ack,
            ack_within=ack_within,
            remind_every=remind_every,
            escalate_to=escalate_to,
            after=tuple(after),
            allow_broadcast_mentions=mentions,
            send_at=send_at,
            send_after=send_after,
            subject=subject,
            read_receipt=read_receipt,
            ack_link_valid_for=link_valid_for,
        )

    def load_subject(self, table: Mapping[str, Any], where: str) -> str:
        if "subject" not in table:
            return DEFAULT_SUBJECT
        source = self.string(table, "subject", where, required=True)
        if source is None:
            return DEFAULT_SUBJECT
        if "\r" in source or "\n" in source:
            # A line break in a header would start a new header: refuse it, never fold it.
            self.problem(where, "subject", "must be one line (a line break would inject an e-mail header)")
            return DEFAULT_SUBJECT
        problem = syntax_problem(source, f"{where} subject")
        if problem:
            self.problem(where, "subject", problem)
            return DEFAULT_SUBJECT
        return source

    def load_message(self, table: Mapping[str, Any], where: str) -> tuple[str, str]:
        has_inline, has_file = "message" in table, "message_file" in table
        if has_inline == has_file:
            self.problem(where, "message", "give exactly one of message or message_file")
            return "", where
        if has_inline:
            source = self.string(table, "message", where, required=True) or ""
            name = f"{where} message"
        else:
            relative = self.string(table, "message_file", where, required=True)
            if relative is None:
                return "", where
            path = self.base_dir / relative
            try:
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reason = "file not found" if isinstance(error, FileNotFoundError) else str(error)
                self.problem(where, "message_file", f"{relative}: {reason}")
                return "", relative
            name = relative
            if not source.strip():
                self.problem(where, "message_file", f"{relative} is empty")
        problem = syntax_problem(source, name)
        if problem:
            self.problem(where, "message_file" if has_file else "message", problem)
        return source, name

    def check_after(self, groups: list[Group]) -> None:
        ids = {g.id for g in groups}
        for group in groups:
            for other in group.after:
                if other == group.id:
                    self.problem(f"group {group.id!r}", "after", "names the group itself")
                elif other not in ids:
                    self.problem(f"group {group.id!r}", "after", f"names unknown group {other!r}")
        cycle = _find_cycle({g.id: [a for a in g.after if a in ids and a != g.id] for g in groups})
        if cycle:
            path = " -> ".join([*cycle, cycle[0]])
            self.problem(f"group {cycle[0]!r}", "after", f"forms a cycle: {path}")


def _find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
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


def load_release_vars(plan: Plan, version: str) -> dict[str, Any]:
    """Read the optional per-release values file named by ``[releases] vars_file``.

    Returns an empty mapping when the plan names no file or the file does not exist.

    Raises:
        PlanError: when the file exists but cannot be used.
    """
    if plan.vars_file is None:
        return {}
    relative = plan.vars_file.replace("{version}", version)
    path = Path(plan.base_dir) / relative
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise PlanError(str(path), [Problem(relative, "", f"cannot be read: {error}")]) from None
    problems = [
        Problem(relative, key, "is set by Herald itself and cannot be redefined")
        for key in data
        if key in _RESERVED_VARS
    ]
    if problems:
        raise PlanError(str(path), problems)
    return data
