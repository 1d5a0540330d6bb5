"""Properties: whatever people type or write in a plan, Herald answers with a result or a sentence.

Each parser either returns its value or raises its own error type; nothing else escapes.
"""

from __future__ import annotations

import copy
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.commands import Command, EditCommunique, parse_release_command
from bot.domain.destinations import Destination, parse_destination
from bot.domain.durations import format_duration, parse_duration
from bot.domain.errors import CommandError, PlanError
from bot.domain.plan import Plan
from bot.service.planfile import parse_plan

FAST = settings(max_examples=200, deadline=None, database=None)
ACTOR = "shell:deployer"

# -- /release commands -------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "/release", "announce", "announcement", "confirm", "approve", "edit", "reject", "sendback", "send-back",
        "send", "cancel", "status", "help", "2.4", "v2.4", "3.0.0-rc.1", "2..4", "all", "ALL", "support",
        "Bad!Group", "\n", "\t", " ", "\u00a0", "{{", "“", "",
    ]
)  # fmt: skip
COMMAND_TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=7).map(" ".join),
    st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=7).map("".join),
)


@FAST
@given(COMMAND_TEXT)
def test_any_text_is_a_command_or_a_command_error(text: str) -> None:
    """Parsing any text returns a command for the person who typed it, or raises CommandError."""
    try:
        outcome: Command | CommandError = parse_release_command(text, ACTOR)
    except CommandError as error:
        outcome = error

    if isinstance(outcome, CommandError):
        assert str(outcome).strip()
    else:
        assert isinstance(outcome, Command)
        assert outcome.actor == ACTOR


@FAST
@given(st.text().filter(lambda t: t.strip() and "\u00a0" not in t))
def test_edit_keeps_the_new_text_exactly(text: str) -> None:
    """Whatever follows ``edit VERSION GROUP`` on the next lines is the new text, bar outer whitespace."""
    command = parse_release_command(f"edit 2.4 support\n{text}", ACTOR)

    assert isinstance(command, EditCommunique)
    assert command.text == text.strip()


# -- destinations ------------------------------------------------------------------------

_PLATFORMS = st.sampled_from(["slack", "discord", "email", "webhook", "shell", "teams", ""])
_DESTINATION_REST = st.one_of(
    st.text(max_size=30),
    st.tuples(
        st.sampled_from(["#", "@", "usergroup:", "email:", "channel:", "user:", "role:", "https://", "C", "U", "S"]),
        st.text(alphabet="abcABC019_.-@/:#", max_size=25),
    ).map("".join),
)
DESTINATION_TEXT = st.one_of(st.text(), st.tuples(_PLATFORMS, _DESTINATION_REST).map(":".join))


@FAST
@given(DESTINATION_TEXT)
def test_any_text_is_a_destination_or_a_value_error(text: str) -> None:
    """Parsing any text returns a Destination or raises ValueError."""
    try:
        destination = parse_destination(text)
    except ValueError:
        return
    assert isinstance(destination, Destination)


@FAST
@given(DESTINATION_TEXT)
def test_a_parsed_destination_parses_back_to_itself(text: str) -> None:
    """A destination's written form is a destination equal to it."""
    try:
        destination = parse_destination(text)
    except ValueError:
        return
    assert parse_destination(str(destination)) == destination


# -- durations ---------------------------------------------------------------------------

DURATION_TEXT = st.one_of(
    st.text(max_size=12),
    st.tuples(
        st.sampled_from(["", " ", "-", "0", "+"]),
        st.integers(min_value=0, max_value=10**8).map(str),
        st.sampled_from(["", " ", "\t"]),
        st.sampled_from(["s", "m", "h", "d", "H", "w", "", "ms"]),
        st.sampled_from(["", " ", "\n", "x"]),
    ).map("".join),
)


@FAST
@given(DURATION_TEXT)
def test_any_text_is_a_positive_duration_or_a_value_error(text: str) -> None:
    """Parsing any text returns a positive duration or raises ValueError."""
    try:
        duration = parse_duration(text)
    except ValueError:
        return
    assert isinstance(duration, timedelta)
    assert duration > timedelta(0)


@FAST
@given(st.integers(min_value=1, max_value=999_999), st.sampled_from("smhd"))
def test_a_formatted_duration_parses_back_to_itself(amount: int, unit: str) -> None:
    """Writing a duration the plan's way and reading it again gives the same duration."""
    duration = parse_duration(f"{amount}{unit}")

    assert parse_duration(format_duration(duration)) == duration


# -- plans -------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """A TOML value, with tables written inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml_document(document: dict[str, Any]) -> str:
    """A TOML document of ``key = value`` lines."""
    return "".join(f"{toml_string(key)} = {toml_value(value)}\n" for key, value in document.items())


FIELDS = [
    "product", "access", "announcers", "approvers", "defaults", "ack", "ack_within", "remind_every", "vars",
    "releases", "vars_file", "group", "id", "name", "to", "escalate_to", "after", "message",
    "allow_broadcast_mentions", "version", "notes_url",
]  # fmt: skip
PLAN_STRINGS = st.sampled_from(
    [
        "", " ", "Acme Cloud", "shell:deployer", "slack:U0ANNOUNCE1", "email:ops@example.com", "deployer",
        "shell:#support", "slack:@U0SUPPORT1", "slack:#Eng", "teams:#general", "discord:channel:222222222222222222",
        "4h", "30m", "0h", "soon", "required", "optional", "none", "support", "engineering", "all", "Support",
        "Acme {{ version }}", "{{ nothing }}", "{% if %}", "{{ product }", "releases/{version}.toml", "current.toml",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    PLAN_STRINGS,
    st.text(max_size=12),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
)
KEYS = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)).filter(lambda k: k != "message_file")
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)
# message_file is read from disk, so it only ever names files in the test's own folder.
MESSAGE_FILES = st.one_of(st.sampled_from(["ok.j2", "empty.j2", "broken.j2", "missing.j2", "", "."]), st.integers())


def _with_extras(fields: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    extras = st.dictionaries(KEYS, VALUES, max_size=2)
    return st.builds(lambda known, extra: {**extra, **known}, fields, extras)


def _list_of(strings: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(strings, max_size=4), VALUES)


GROUPS = _with_extras(
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(PLAN_STRINGS, VALUES),
            "name": st.one_of(PLAN_STRINGS, VALUES),
            "to": _list_of(PLAN_STRINGS),
            "escalate_to": _list_of(PLAN_STRINGS),
            "after": _list_of(st.sampled_from(["support", "engineering", "sales", "Support", ""])),
            "ack": st.one_of(PLAN_STRINGS, VALUES),
            "ack_within": st.one_of(PLAN_STRINGS, VALUES),
            "remind_every": st.one_of(PLAN_STRINGS, VALUES),
            "message": st.one_of(PLAN_STRINGS, VALUES),
            "message_file": MESSAGE_FILES,
            "allow_broadcast_mentions": st.one_of(st.booleans(), VALUES),
        },
    )
)
PLAN_DOCUMENTS = _with_extras(
    st.fixed_dictionaries(
        {},
        optional={
            "product": st.one_of(PLAN_STRINGS, VALUES),
            "access": st.one_of(
                st.fixed_dictionaries(
                    {}, optional={"announcers": _list_of(PLAN_STRINGS), "approvers": _list_of(PLAN_STRINGS)}
                ),
                VALUES,
            ),
            "defaults": st.one_of(
                st.fixed_dictionaries(
                    {}, optional={"ack": PLAN_STRINGS, "ack_within": PLAN_STRINGS, "remind_every": PLAN_STRINGS}
                ),
                VALUES,
            ),
            "vars": st.one_of(st.dictionaries(st.one_of(PLAN_STRINGS, KEYS), SCALARS, max_size=3), VALUES),
            "releases": st.one_of(st.fixed_dictionaries({}, optional={"vars_file": PLAN_STRINGS}), VALUES),
            "group": st.one_of(st.lists(GROUPS, max_size=4), VALUES),
        },
    )
)


VALID_PLAN: dict[str, Any] = {
    "product": "Acme Cloud",
    "access": {"announcers": ["shell:deployer"], "approvers": ["shell:lead"]},
    "defaults": {"ack": "required", "ack_within": "24h", "remind_every": "4h"},
    "vars": {"notes_url": "https://example.com/releases/{{ version }}"},
    "releases": {"vars_file": "releases/{version}.toml"},
    "group": [
        {"id": "engineering", "to": ["shell:#engineering"], "message": "Acme {{ version }}: {{ notes_url }}"},
        {"id": "support", "to": ["shell:@sam"], "after": ["engineering"], "message_file": "ok.j2", "ack": "optional"},
    ],
}
_PATHS: list[tuple[str | int, ...]] = [
    ("product",), ("access",), ("access", "announcers"), ("access", "approvers"), ("access", "extra"),
    ("defaults",), ("defaults", "ack"), ("defaults", "ack_within"), ("defaults", "remind_every"),
    ("vars",), ("vars", "notes_url"), ("vars", "version"), ("releases", "vars_file"), ("group",),
    ("group", 0), ("group", 0, "id"), ("group", 0, "to"), ("group", 0, "message"), ("group", 0, "after"),
    ("group", 0, "escalate_to"), ("group", 0, "allow_broadcast_mentions"), ("group", 1, "id"),
    ("group", 1, "after"), ("group", 1, "message_file"), ("group", 1, "message"), ("group", 1, "ack_within"),
    ("extra",),
]  # fmt: skip
_DELETE = object()


def _change(path: tuple[str | int, ...]) -> st.SearchStrategy[tuple[tuple[str | int, ...], Any]]:
    values = MESSAGE_FILES if path[-1] == "message_file" else st.one_of(PLAN_STRINGS, VALUES)
    return st.tuples(st.just(path), st.one_of(st.just(_DELETE), values))


def _apply(changes: list[tuple[tuple[str | int, ...], Any]]) -> dict[str, Any]:
    document: Any = copy.deepcopy(VALID_PLAN)
    for path, value in changes:
        try:
            parent = document
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(parent, dict) and not isinstance(path[-1], str):
                continue  # a list index into what an earlier change made a table: TOML keys are strings
            if value is _DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced the place this one would go
    return document


CHANGED_PLANS = st.lists(st.sampled_from(_PATHS).flatmap(_change), max_size=3).map(_apply)


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the only template files a generated plan may name."""
    folder = tmp_path_factory.mktemp("plans")
    (folder / "ok.j2").write_text("Acme {{ version }} is live.\n", encoding="utf-8")
    (folder / "empty.j2").write_text("\n", encoding="utf-8")
    (folder / "broken.j2").write_text("{% for %}\n", encoding="utf-8")
    return folder


def _plan_or_plan_error(text: str, base_dir: Path) -> None:
    try:
        outcome: Plan | PlanError = parse_plan(text, base_dir=base_dir)
    except PlanError as error:
        outcome = error

    if isinstance(outcome, PlanError):
        assert outcome.problems
    else:
        assert isinstance(outcome, Plan)


@FAST
@given(st.one_of(PLAN_DOCUMENTS, CHANGED_PLANS))
def test_the_generators_toml_writer_is_read_back_unchanged(document: dict[str, Any]) -> None:
    """The documents fed to the loader below are TOML that reads back as the value generated."""
    assert tomllib.loads(toml_document(document)) == document


@FAST
@given(PLAN_DOCUMENTS)
def test_any_plan_shaped_document_is_a_plan_or_a_plan_error(plan_dir: Path, document: dict[str, Any]) -> None:
    """A document with plan fields holding good, bad and odd values gives a Plan or a PlanError with problems."""
    _plan_or_plan_error(toml_document(document), plan_dir)


@FAST
@given(CHANGED_PLANS)
def test_a_valid_plan_with_values_changed_is_a_plan_or_a_plan_error(plan_dir: Path, document: dict[str, Any]) -> None:
    """The example-like plan with up to three values replaced or removed gives a Plan or a PlanError."""
    _plan_or_plan_error(toml_document(document), plan_dir)


@FAST
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_any_toml_document_is_a_plan_or_a_plan_error(plan_dir: Path, document: dict[str, Any]) -> None:
    """An arbitrary TOML document of nested tables, lists, strings, numbers and booleans never crashes the loader."""
    _plan_or_plan_error(toml_document(document), plan_dir)


_PLAN_LINES = st.sampled_from(
    [
        'product = "Acme"', "[access]", 'announcers = ["shell:deployer"]', "[[group]]", 'id = "support"',
        'to = ["shell:#support"]', 'message = "Acme {{ version }}"', "[defaults]", 'ack = "none"', "[vars]",
        'x = "{{"', "[[group]]", "group = 1", 'message_file = "ok.j2"', "= 1", '"""', "[", "[access.x]",
    ]
)  # fmt: skip


@FAST
@given(st.one_of(st.text(), st.lists(st.one_of(_PLAN_LINES, st.text(max_size=10)), max_size=12).map("\n".join)))
def test_any_text_is_a_plan_or_a_plan_error(plan_dir: Path, text: str) -> None:
    """Arbitrary text, TOML or not, gives a Plan or a PlanError with problems."""
    _plan_or_plan_error(text, plan_dir)
