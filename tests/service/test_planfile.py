"""Loading the plan: the example means what its comments say, and every problem is reported at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.destinations import Kind, Platform
from bot.domain.errors import PlanError, Problem
from bot.domain.plan import AckPolicy, Plan
from bot.service.planfile import load_plan, load_release_vars, parse_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ACCESS = """
[access]
announcers = ["shell:deployer"]
approvers = ["shell:lead"]
"""
SUPPORT = """
[[group]]
id = "support"
to = ["shell:#support"]
message = "Acme Cloud {{ version }} is live."
"""


def plan_text(*groups: str, top: str = 'product = "Acme Cloud"\n', access: str = ACCESS, tables: str = "") -> str:
    """A plan: top-level keys, ``[access]``, other tables, then the groups (one support group if none given)."""
    return top + access + tables + "".join(groups or (SUPPORT,))


def group(
    group_id: str, *lines: str, to: str = '["shell:#support"]', message: str | None = "Acme {{ version }}"
) -> str:
    """One ``[[group]]`` table; ``lines`` are extra ``key = value`` lines."""
    body = [f'id = "{group_id}"', f"to = {to}"] if to else [f'id = "{group_id}"']
    if message is not None:
        body.append(f'message = "{message}"')
    return "\n[[group]]\n" + "\n".join([*body, *lines]) + "\n"


def problems_of(text: str, base_dir: Path | None = None) -> list[Problem]:
    """The problems a plan text is refused with."""
    with pytest.raises(PlanError) as caught:
        parse_plan(text, base_dir=base_dir)
    return caught.value.problems


def reported(problems: list[Problem], expected: str) -> bool:
    """Whether a problem ``where: field: …`` with that part of the message is among ``problems``."""
    where, field, fragment = expected.split(": ", 2)
    return any(p.where == where and p.field == field and fragment in p.message for p in problems)


# -- the example plan --------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> Plan:
    """examples/release-comms.toml, loaded as ``herald plan check`` loads it."""
    return load_plan(EXAMPLES / "release-comms.toml")


def test_the_example_plan_loads(example: Plan) -> None:
    """The shipped example is a valid plan for Acme Cloud, remembering where it came from."""
    assert example.product == "Acme Cloud"
    assert example.source == str(EXAMPLES / "release-comms.toml")
    assert example.base_dir == str(EXAMPLES)


def test_the_example_has_engineering_then_support(example: Plan) -> None:
    """The example has two groups, engineering and support, in file order."""
    assert [g.id for g in example] == ["engineering", "support"]
    assert [g.name for g in example] == ["Engineering", "Customer Support"]


def test_the_example_sends_support_after_engineering(example: Plan) -> None:
    """Support waits for engineering's communiqué."""
    assert example.group("support").after == ("engineering",)
    assert example.send_order() == ["engineering", "support"]


def test_the_example_support_group_is_chased_within_two_hours(example: Plan) -> None:
    """Support must acknowledge within 2h, reminded every 30m, escalating to its leads."""
    support = example.group("support")

    assert (support.ack, support.ack_within, support.remind_every) == (
        AckPolicy.REQUIRED,
        timedelta(hours=2),
        timedelta(minutes=30),
    )
    assert [str(d) for d in support.escalate_to] == ["slack:@U0SUPLEAD1", "shell:@lead"]


def test_the_example_engineering_ack_is_optional_with_the_default_timings(example: Plan) -> None:
    """Engineering's acknowledgement is optional and it takes the defaults of 24h and 4h."""
    engineering = example.group("engineering")

    assert (engineering.ack, engineering.ack_within, engineering.remind_every) == (
        AckPolicy.OPTIONAL,
        timedelta(hours=24),
        timedelta(hours=4),
    )


def test_the_example_needs_a_second_approval(example: Plan) -> None:
    """The example names approvers, so a second person must approve before sending."""
    assert example.approvers == {"slack:U0APPROVE1", "shell:lead"}
    assert example.announcers == {"slack:U0ANNOUNCE1", "discord:111111111111111111", "shell:deployer"}
    assert example.needs_second_approval


def test_the_example_support_message_is_read_from_its_file(example: Plan) -> None:
    """Support's template is the text of comms/support.md.j2, named by its relative path."""
    support = example.group("support")

    assert support.template == (EXAMPLES / "comms" / "support.md.j2").read_text(encoding="utf-8")
    assert support.template_name == "comms/support.md.j2"


def test_the_example_destinations_are_parsed(example: Plan) -> None:
    """Every destination of the example is parsed; support reaches six places of five platforms' kinds."""
    engineering, support = example.group("engineering"), example.group("support")

    assert {d.kind for d in engineering.to} == {Kind.CHANNEL}
    assert [d.kind for d in support.to] == [Kind.DM, Kind.GROUP, Kind.DM, Kind.DM, Kind.EMAIL, Kind.DM]
    assert {d.platform for d in support.to} == {Platform.SLACK, Platform.DISCORD, Platform.EMAIL, Platform.SHELL}


def test_the_example_vars_and_release_values_file_are_kept(example: Plan) -> None:
    """The example's [vars] and its per-release values file are kept for rendering."""
    assert example.vars == {"notes_url": "https://example.com/releases/{{ version }}"}
    assert example.vars_file == "releases/{version}.toml"


# -- a valid plan's defaults -------------------------------------------------------------


def test_a_minimal_plan_loads_with_the_documented_defaults() -> None:
    """Without [defaults], groups ask for acknowledgement within 24h, reminded every 4h, and have no approvers."""
    plan = parse_plan(plan_text(access='[access]\nannouncers = ["shell:deployer"]\n'))
    support = plan.group("support")

    assert (support.ack, support.ack_within, support.remind_every) == (
        AckPolicy.REQUIRED,
        timedelta(hours=24),
        timedelta(hours=4),
    )
    assert (support.name, support.after, support.escalate_to, support.allow_broadcast_mentions) == (
        "support",
        (),
        (),
        False,
    )
    assert not plan.needs_second_approval


def test_plan_defaults_apply_to_groups_that_do_not_override_them() -> None:
    """[defaults] sets ack and timings for every group that leaves them out."""
    defaults = '\n[defaults]\nack = "none"\nack_within = "1d"\nremind_every = "6h"\n'
    plan = parse_plan(plan_text(group("support"), group("sales", 'ack = "optional"'), tables=defaults))

    assert (plan.group("support").ack, plan.group("support").ack_within) == (AckPolicy.NONE, timedelta(days=1))
    assert (plan.group("sales").ack, plan.group("sales").remind_every) == (AckPolicy.OPTIONAL, timedelta(hours=6))


def test_a_message_file_is_read_relative_to_the_plan(tmp_path: Path) -> None:
    """``message_file`` is found next to the plan file, whatever the working directory."""
    (tmp_path / "comms").mkdir()
    (tmp_path / "comms" / "ops.j2").write_text("Ops: Acme {{ version }} is live.\n", encoding="utf-8")
    (tmp_path / "plan.toml").write_text(
        plan_text(group("ops", 'message_file = "comms/ops.j2"', message=None)), encoding="utf-8"
    )

    plan = load_plan(tmp_path / "plan.toml")

    assert plan.group("ops").template == "Ops: Acme {{ version }} is live.\n"


# -- every problem, one at a time --------------------------------------------------------

CASES: dict[str, tuple[str, str]] = {
    # what is wrong: (the plan text, the problem expected as "where: field: part of the message")
    "unknown top-level field": (
        plan_text(top='product = "Acme"\ncolour = "blue"\n'),
        "plan: colour: unknown field "
        "(allowed: access, defaults, group, notes, people, product, releases, vars, versioning)",
    ),
    "unknown [access] field": (
        plan_text(access=ACCESS + 'owners = ["shell:x"]\n'),
        "[access]: owners: unknown field (allowed: announcers, approvers, scopes, viewers)",
    ),
    "unknown [defaults] field": (
        plan_text(tables='\n[defaults]\nremind = "1h"\n'),
        "[defaults]: remind: unknown field",
    ),
    "unknown [releases] field": (
        plan_text(tables='\n[releases]\nfolder = "r"\n'),
        "[releases]: folder: unknown field (allowed: vars_file)",
    ),
    "unknown group field": (plan_text(group("support", 'colour = "red"')), "group 'support': colour: unknown field"),
    "missing product": (plan_text(top=""), "plan: product: is required"),
    "blank product": (plan_text(top='product = "  "\n'), "plan: product: must be a non-empty string"),
    "access not a table": (plan_text(top='product = "Acme"\naccess = 3\n', access=""), "plan: access: must be a table"),
    "no announcers": (plan_text(access="[access]\n"), "[access]: announcers: is required; name at least one person"),
    "empty announcers": (
        plan_text(access="[access]\nannouncers = []\n"),
        "[access]: announcers: is empty; name at least one person",
    ),
    "announcer not a person": (
        plan_text(access='[access]\nannouncers = ["deployer"]\n'),
        "[access]: announcers: 'deployer' is not a person",
    ),
    "email approver": (
        plan_text(access='[access]\nannouncers = ["shell:a"]\napprovers = ["email:b@example.com"]\n'),
        "[access]: approvers: only slack, discord and shell people",
    ),
    "announcers not a list": (
        plan_text(access='[access]\nannouncers = "shell:deployer"\n'),
        "[access]: announcers: must be a list of strings",
    ),
    "bad default ack": (
        plan_text(tables='\n[defaults]\nack = "mandatory"\n'),
        '[defaults]: ack: \'mandatory\' is not one of "required", "optional", "none"',
    ),
    "bad default duration": (
        plan_text(tables='\n[defaults]\nack_within = "1 week"\n'),
        "[defaults]: ack_within: '1 week' is not a duration",
    ),
    "numeric duration": (
        plan_text(tables="\n[defaults]\nremind_every = 3600\n"),
        "[defaults]: remind_every: 3600 is not a duration",
    ),
    "bad group duration": (
        plan_text(group("support", 'remind_every = "soon"')),
        "group 'support': remind_every: 'soon' is not a duration",
    ),
    "zero group duration": (plan_text(group("support", 'ack_within = "0h"')), "group 'support': ack_within: is zero"),
    "bad group ack": (plan_text(group("support", 'ack = "always"')), "group 'support': ack: 'always' is not one of"),
    "bad var name": (
        plan_text(tables='\n[vars]\n"notes url" = "x"\n'),
        "[vars]: notes url: is not a valid variable name",
    ),
    "reserved var": (plan_text(tables='\n[vars]\nversion = "2.4"\n'), "[vars]: version: is set by Herald itself"),
    "non-string var": (plan_text(tables="\n[vars]\nn = 3\n"), "[vars]: n: must be a string"),
    "var template does not parse": (
        plan_text(tables='\n[vars]\nnotes_url = "https://example.com/{{ version }"\n'),
        "[vars]: notes_url: template does not parse (line 1)",
    ),
    "vars_file without {version}": (
        plan_text(tables='\n[releases]\nvars_file = "releases/current.toml"\n'),
        "[releases]: vars_file: must contain {version}",
    ),
    "bad destination": (
        plan_text(group("support", to='["slack:#Eng-Announce"]')),
        "group 'support': to: 'slack:#Eng-Announce' is not a valid destination; expected slack:#name",
    ),
    "unknown platform": (
        plan_text(group("support", to='["teams:#general"]')),
        "group 'support': to: unknown platform 'teams'",
    ),
    "destination twice": (
        plan_text(group("support", to='["shell:@sam", "shell:@sam"]')),
        "group 'support': to: 'shell:@sam' is listed twice",
    ),
    "bad escalation": (
        plan_text(group("support", 'escalate_to = ["lead"]')),
        "group 'support': escalate_to: 'lead' is not a destination",
    ),
    "no destinations": (
        plan_text(group("support", to="[]")),
        "group 'support': to: has no destinations; a group must be sent somewhere",
    ),
    "to missing": (plan_text(group("support", to="")), "group 'support': to: has no destinations"),
    "to not a list": (
        plan_text(group("support", to='"shell:#support"')),
        "group 'support': to: must be a list of strings",
    ),
    "duplicate group id": (
        plan_text(group("support"), group("support")),
        "group 'support': id: is used by another group; ids must be unique",
    ),
    "group id not lower case": (
        plan_text(group("Support")),
        "group 'Support': id: must be lower-case letters, digits, - or _",
    ),
    "group id reserved": (plan_text(group("all")), "group 'all': id: reserved"),
    "group without id": (plan_text('\n[[group]]\nto = ["shell:#x"]\nmessage = "x"\n'), "group #1: id: is required"),
    "group not an array": (
        plan_text("", top='product = "Acme"\ngroup = 1\n'),
        "plan: group: must be an array of tables ([[group]])",
    ),
    "no groups": (plan_text(""), "plan: group: no [[group]] is defined"),
    "after unknown group": (
        plan_text(group("support", 'after = ["engineering"]')),
        "group 'support': after: names unknown group 'engineering'",
    ),
    "after itself": (
        plan_text(group("support", 'after = ["support"]')),
        "group 'support': after: names the group itself",
    ),
    "after not a list": (
        plan_text(group("support", 'after = "engineering"')),
        "group 'support': after: must be a list of group ids or tables such as { group = ",
    ),
    "after cycle": (
        plan_text(group("a", 'after = ["b"]'), group("b", 'after = ["a"]')),
        "group 'a': after: forms a cycle: a -> b -> a",
    ),
    "message does not parse": (
        plan_text(group("support", message="{% if %}")),
        "group 'support': message: template does not parse (line 1)",
    ),
    "blank message": (
        plan_text(group("support", message="  ")),
        "group 'support': message: must be a non-empty string",
    ),
    "message and message_file": (
        plan_text(group("support", 'message_file = "x.j2"')),
        "group 'support': message: give exactly one of message or message_file",
    ),
    "neither message nor file": (
        plan_text(group("support", message=None)),
        "group 'support': message: give exactly one of message or message_file",
    ),
    "missing message_file": (
        plan_text(group("support", 'message_file = "comms/missing.md.j2"', message=None)),
        "group 'support': message_file: comms/missing.md.j2: file not found",
    ),
    "only approver is only announcer": (
        plan_text(access='[access]\nannouncers = ["shell:a"]\napprovers = ["shell:a"]\n'),
        "[access]: approvers: can never be given",
    ),
    "mentions flag not boolean": (
        plan_text(group("support", 'allow_broadcast_mentions = "yes"')),
        "group 'support': allow_broadcast_mentions: must be true or false",
    ),
    "read receipt flag a number": (
        plan_text(group("support", "read_receipt = 1")),
        "group 'support': read_receipt: must be true or false",
    ),
    "numeric group duration": (
        plan_text(group("support", "ack_within = 24")),
        "group 'support': ack_within: 24 is not a duration; write a number and a unit: 30s, 30m, 4h, 2d",
    ),
    "duration as a table": (
        plan_text(group("support", "ack_within = { hours = 2 }")),
        "group 'support': ack_within: {'hours': 2} is not a duration",
    ),
    "defaults not a table": (
        plan_text(top='product = "Acme"\ndefaults = "none"\n'),
        "plan: defaults: must be a table",
    ),
    "a single [group] table": (
        plan_text("", tables='\n[group]\nid = "support"\nto = ["shell:#support"]\nmessage = "x"\n'),
        "plan: group: must be an array of tables ([[group]])",
    ),
    "destination not a string": (
        plan_text(group("support", to='["shell:#support", 3]')),
        "group 'support': to: must be a list of strings",
    ),
    "send_at not a date": (
        plan_text(group("support", 'send_at = "tomorrow"')),
        "group 'support': send_at: 'tomorrow' is not a date and time; write e.g. 2026-12-01T09:00:00Z",
    ),
    "subject over two lines": (
        plan_text(group("support", 'subject = "Acme\\nBcc: x@example.com"')),
        "group 'support': subject: must be one line",
    ),
}


@pytest.mark.parametrize(("text", "expected"), list(CASES.values()), ids=list(CASES))
def test_each_problem_names_its_place_and_field(text: str, expected: str, tmp_path: Path) -> None:
    """Each kind of mistake is reported against the table or group it is in and the field at fault."""
    problems = problems_of(text, base_dir=tmp_path)

    assert reported(problems, expected), [str(p) for p in problems]


def test_a_message_file_that_does_not_parse_is_reported_against_the_file(tmp_path: Path) -> None:
    """A template file with a syntax error is reported as a message_file problem with its line."""
    (tmp_path / "broken.j2").write_text("Hello\n{{ product }\n", encoding="utf-8")

    problems = problems_of(plan_text(group("support", 'message_file = "broken.j2"', message=None)), tmp_path)

    assert reported(problems, "group 'support': message_file: template does not parse (line 2)")


def test_an_empty_message_file_is_reported(tmp_path: Path) -> None:
    """A template file holding only whitespace is refused."""
    (tmp_path / "empty.j2").write_text("\n  \n", encoding="utf-8")

    problems = problems_of(plan_text(group("support", 'message_file = "empty.j2"', message=None)), tmp_path)

    assert reported(problems, "group 'support': message_file: empty.j2 is empty")


def test_invalid_toml_is_one_problem_with_its_position() -> None:
    """Text that is not TOML is refused as a whole, saying where the parser stopped."""
    problems = problems_of('product = "Acme\n[access]\n')

    assert len(problems) == 1
    assert (problems[0].where, problems[0].field) == ("plan", "")
    assert "is not valid TOML" in problems[0].message
    assert "line 1" in problems[0].message


def test_a_missing_plan_file_is_a_plan_error(tmp_path: Path) -> None:
    """Loading a plan that does not exist says so instead of raising an OS error."""
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "nowhere.toml")

    assert [str(p) for p in caught.value.problems] == ["plan: file not found"]


def test_the_plan_error_lists_every_problem_in_its_sentence() -> None:
    """The error's text counts the problems and lists each on its own line."""
    with pytest.raises(PlanError) as caught:
        parse_plan(plan_text(top='product = "Acme"\ncolour = "blue"\n', access="[access]\nannouncers = []\n"))

    assert str(caught.value) == (
        "The plan <plan> has 2 problems:\n"
        "  - plan: colour: unknown field "
        "(allowed: access, defaults, group, notes, people, product, releases, vars, versioning)\n"
        "  - [access]: announcers: is empty; name at least one person who may announce"
    )


WRONG_TYPES = """
product = 1
[access]
announcers = "shell:deployer"
approvers = [1]
viewers = {}
[defaults]
ack = 1
ack_within = 24
remind_every = []
ack_link_valid_for = true
[vars]
notes = 1
[releases]
vars_file = 3
[[group]]
id = "support"
name = []
to = {}
escalate_to = "shell:@lead"
after = [1]
message = 2
allow_broadcast_mentions = "yes"
ack = []
ack_within = 1.5
remind_every = 2026-12-01
ack_link_valid_for = {}
send_at = 2026-12-01
send_after = 15
subject = false
read_receipt = 0
from = 1
slack_username = 2
slack_icon = []
"""


def test_every_field_of_the_wrong_type_is_named_in_heralds_words() -> None:
    """A value of the wrong type in any field is reported against that field, never in pydantic's wording."""
    problems = problems_of(WRONG_TYPES)

    fields = {"product", "announcers", "approvers", "viewers", "ack", "ack_within", "remind_every"}
    fields |= {"ack_link_valid_for", "notes", "vars_file", "name", "to", "escalate_to", "after", "message"}
    fields |= {"allow_broadcast_mentions", "send_at", "send_after", "subject", "read_receipt"}
    fields |= {"from", "slack_username", "slack_icon"}
    assert fields <= {p.field for p in problems}, [str(p) for p in problems]
    assert reported(problems, "group 'support': ack_within: 1.5 is not a duration")
    assert not [p for p in problems if "Input should" in p.message or "error," in p.message]


def test_a_table_that_is_not_a_table_is_reported_once() -> None:
    """``access = 3`` is one problem, not also a missing announcer inside it."""
    problems = problems_of(plan_text(top='product = "Acme"\naccess = 3\n', access=""))

    assert [str(p) for p in problems] == ["plan: access: must be a table"]


def test_rules_between_groups_are_checked_even_when_a_field_is_wrong() -> None:
    """A group with a wrong field still takes part in the id and ``after`` checks of the same pass."""
    problems = problems_of(
        plan_text(group("a", 'ack = "always"', 'after = ["b"]'), group("b", 'after = ["a"]'), group("b"))
    )

    assert reported(problems, "group 'a': ack: 'always' is not one of")
    assert reported(problems, "group 'b': id: is used by another group")
    assert reported(problems, "group 'a': after: forms a cycle: a -> b -> a")


# -- every problem at once ---------------------------------------------------------------

BROKEN = """
product = "Acme Cloud"
owner = "release-team"

[access]
announcers = []
approvers = ["lead"]
deputies = ["shell:sam"]

[defaults]
ack = "mandatory"
ack_within = "1 week"

[vars]
version = "2.4"
notes_url = "https://example.com/{{ version }"

[releases]
vars_file = "releases/current.toml"

[[group]]
id = "engineering"
to = ["slack:#Eng-Announce", "teams:#general"]
after = ["support"]
message = "{{ product }} {{ version }} is live."
colour = "red"

[[group]]
id = "support"
to = ["shell:@sam", "shell:@sam"]
remind_every = "0h"
after = ["engineering", "billing"]
message_file = "comms/missing.md.j2"

[[group]]
id = "support"
to = []
message = "{% if %}"
message_file = "comms/support.md.j2"

[[group]]
id = "sales"
to = ["shell:#sales"]
"""


def test_plan_check_reports_every_problem_at_once(tmp_path: Path) -> None:
    """A plan with many mistakes is refused once, with every mistake named by place and field."""
    problems = problems_of(BROKEN, base_dir=tmp_path)

    expected = [
        "plan: owner: unknown field",
        "[access]: deputies: unknown field",
        "[access]: announcers: is empty",
        "[access]: approvers: 'lead' is not a person",
        "[defaults]: ack: 'mandatory' is not one of",
        "[defaults]: ack_within: '1 week' is not a duration",
        "[vars]: version: is set by Herald itself",
        "[vars]: notes_url: template does not parse",
        "[releases]: vars_file: must contain {version}",
        "group 'engineering': colour: unknown field",
        "group 'engineering': to: 'slack:#Eng-Announce' is not a valid destination",
        "group 'engineering': to: unknown platform 'teams'",
        "group 'support': to: 'shell:@sam' is listed twice",
        "group 'support': remind_every: is zero",
        "group 'support': message_file: comms/missing.md.j2: file not found",
        "group 'support': to: has no destinations",
        "group 'support': message: give exactly one of message or message_file",
        "group 'support': id: is used by another group",
        "group 'sales': message: give exactly one of message or message_file",
        "group 'support': after: names unknown group 'billing'",
        "group 'engineering': after: forms a cycle: engineering -> support -> engineering",
    ]
    missing = [e for e in expected if not reported(problems, e)]
    assert not missing, "\n".join(str(p) for p in problems)


# -- the per-release values file ---------------------------------------------------------


def _plan_with_vars_file(tmp_path: Path) -> Plan:
    (tmp_path / "plan.toml").write_text(
        plan_text(tables='\n[releases]\nvars_file = "releases/{version}.toml"\n'), encoding="utf-8"
    )
    (tmp_path / "releases").mkdir()
    return load_plan(tmp_path / "plan.toml")


def test_release_values_are_read_from_the_versions_file(tmp_path: Path) -> None:
    """The values file named for a version is read, any TOML type kept as is."""
    plan = _plan_with_vars_file(tmp_path)
    (tmp_path / "releases" / "2.4.toml").write_text('summary = "Faster."\nhighlights = ["a", "b"]\n', encoding="utf-8")

    assert load_release_vars(plan, "2.4") == {"summary": "Faster.", "highlights": ["a", "b"]}


def test_a_release_without_a_values_file_has_no_values(tmp_path: Path) -> None:
    """A version with no values file gets no values, and no error."""
    assert load_release_vars(_plan_with_vars_file(tmp_path), "2.5") == {}


def test_a_plan_without_a_values_file_has_no_release_values() -> None:
    """A plan that names no values file gives every release an empty set of values."""
    assert load_release_vars(parse_plan(plan_text()), "2.4") == {}


@pytest.mark.parametrize("key", ["product", "version"])
def test_a_values_file_cannot_redefine_what_herald_sets(tmp_path: Path, key: str) -> None:
    """A values file that sets product or version is refused, naming the file and the key."""
    plan = _plan_with_vars_file(tmp_path)
    (tmp_path / "releases" / "2.4.toml").write_text(f'{key} = "x"\n', encoding="utf-8")

    with pytest.raises(PlanError) as caught:
        load_release_vars(plan, "2.4")

    assert [(p.where, p.field) for p in caught.value.problems] == [("releases/2.4.toml", key)]


def test_a_values_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    """A values file that does not parse is refused as a plan error, not a crash."""
    plan = _plan_with_vars_file(tmp_path)
    (tmp_path / "releases" / "2.4.toml").write_text("summary = \n", encoding="utf-8")

    with pytest.raises(PlanError, match="cannot be read"):
        load_release_vars(plan, "2.4")


# -- bugs --------------------------------------------------------------------------------


def test_a_group_with_a_bad_id_still_has_its_other_fields_checked() -> None:
    """A group whose id is invalid still has its ack and durations checked in the same pass."""
    problems = problems_of(plan_text(group("Support", 'ack = "always"', 'ack_within = "soon"')))

    assert reported(problems, "group 'Support': ack: 'always' is not one of")
    assert reported(problems, "group 'Support': ack_within: 'soon' is not a duration")


def test_an_empty_group_array_is_refused() -> None:
    """``group = []`` is a plan with no stakeholder group, and is refused."""
    problems = problems_of('product = "Acme"\ngroup = []\n' + ACCESS)

    assert reported(problems, "plan: group: no [[group]] is defined")


def test_a_group_id_with_a_line_break_is_refused() -> None:
    """A group id with a trailing line break is not a valid id."""
    problems = problems_of(plan_text('\n[[group]]\nid = "support\\n"\nto = ["shell:#x"]\nmessage = "x"\n'))

    assert reported(problems, "group 'support\\n': id: must be lower-case letters")


def test_a_template_using_an_unknown_filter_is_reported() -> None:
    """A message using a filter Jinja2 does not have is a problem found by plan check."""
    problems = problems_of(plan_text(group("support", message="{{ version | shout }}")))

    assert reported(problems, "group 'support': message: No filter named 'shout'")


def test_an_absurd_integer_is_a_plan_error() -> None:
    """A number too long for Python to read is reported as a problem, not raised as a crash."""
    problems_of('product = "Acme"\nn = ' + "1" * 5000 + "\n" + ACCESS + SUPPORT)


def test_absurdly_nested_arrays_are_a_plan_error() -> None:
    """A pathologically nested value is reported as a problem, not raised as a crash."""
    problems_of('product = "Acme"\nn = ' + "[" * 5000 + "]" * 5000 + "\n" + ACCESS + SUPPORT)


def test_send_at_and_send_after_are_read_and_exclusive() -> None:
    """A group may say when to send, absolutely or after approval, but not both."""
    from datetime import UTC, datetime, timedelta

    base = 'product = "P"\n[access]\nannouncers = ["shell:a"]\n[[group]]\nid = "g"\nto = ["shell:@x"]\nmessage = "m"\n'
    plan = parse_plan(base + "send_at = 2026-12-01T09:00:00+01:00\n")
    assert plan.groups[0].send_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    plan = parse_plan(base + 'send_after = "15m"\n')
    assert plan.groups[0].not_before(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
    assert plan.groups[0].send_after == timedelta(minutes=15)
    with pytest.raises(PlanError) as caught:
        parse_plan(base + 'send_at = "2026-12-01T09:00:00"\nsend_after = "1h"\n')
    messages = [str(p) for p in caught.value.problems]
    assert "group 'g': send_at: must be a date and time with a UTC offset, e.g. 2026-12-01T09:00:00Z" in messages
