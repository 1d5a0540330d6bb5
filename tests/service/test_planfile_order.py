"""The plan's ``after`` tables: waiting for an earlier group's receipts, and their error sentences."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.order import OnTimeout, ReceiptGate, Threshold
from bot.service.planfile import parse_plan
from tests.service.test_planfile import group, plan_text, problems_of, reported

_EARLIER = group("eng", to='["shell:#engineering", "shell:@kim"]')
_PEOPLE = group("leads", to='["shell:@ann", "email:bo@example.com", "slack:@U0LEAD1"]')


def _waiting(*after: str, extra: str = "") -> str:
    return group("support", f"after = [{', '.join(after)}]{extra}")


def test_a_table_waits_for_the_earlier_groups_receipts() -> None:
    """A table gives the group an ``after`` entry and a receipt gate with its threshold, timeout and action."""
    plan = parse_plan(
        plan_text(
            _EARLIER,
            _waiting(
                '{ group = "eng", acknowledged = "80%", timeout = "4h", on_timeout = "escalate" }',
                extra='\nescalate_to = ["shell:@lead"]',
            ),
        )
    )
    support = plan.group("support")
    assert support.after == ("eng",)
    assert support.gates == (
        ReceiptGate(
            group="eng", acknowledged=Threshold(percent=80), timeout=timedelta(hours=4), on_timeout=OnTimeout.ESCALATE
        ),
    )


def test_both_forms_mix_and_a_string_keeps_its_meaning() -> None:
    """A plain id waits for the sending only (no gate); ``all`` is 100% and a number is a count; send is the default."""
    plan = parse_plan(
        plan_text(
            _EARLIER,
            _PEOPLE,
            group("ops", 'after = ["eng"]'),
            _waiting('"ops"', '{ group = "eng", acknowledged = "all" }', '{ group = "leads", acknowledged = 2 }'),
        )
    )
    support = plan.group("support")
    assert support.after == ("ops", "eng", "leads")
    assert [(g.group, str(g.acknowledged), g.timeout, g.on_timeout) for g in support.gates] == [
        ("eng", "all", None, OnTimeout.SEND),
        ("leads", "2", None, OnTimeout.SEND),
    ]
    assert plan.group("ops").gates == ()
    assert plan.send_order().index("eng") < plan.send_order().index("support")


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            '{ group = "eng", acknowledged = "120%" }',
            "group 'support': after: acknowledged: '120%' is over 100%; a share is at most 100% (\"all\")",
        ),
        ('{ group = "eng", acknowledged = "0%" }', "group 'support': after: acknowledged: '0%' is zero"),
        (
            '{ group = "eng", acknowledged = "most" }',
            "group 'support': after: acknowledged: 'most' is not a threshold; write a share such as \"80%\"",
        ),
        ('{ group = "eng", acknowledged = 0 }', "group 'support': after: acknowledged: 0 is not a count of people"),
        ('{ group = "eng" }', "group 'support': after: acknowledged: is required"),
        ('{ acknowledged = "all" }', "group 'support': after: group: is required"),
        (
            '{ group = "eng", acknowledged = "all", timeout = "soon" }',
            "group 'support': after: timeout: 'soon' is not a duration",
        ),
        (
            '{ group = "eng", acknowledged = "all", timeout = "1h", on_timeout = "wait" }',
            "group 'support': after: on_timeout: 'wait' is not one of \"send\", \"escalate\"",
        ),
        (
            '{ group = "eng", acknowledged = "all", on_timeout = "send" }',
            "group 'support': after: eng: on_timeout: has no effect without a timeout",
        ),
        (
            '{ group = "eng", acknowledged = "all", timeout = "1h", on_timeout = "escalate" }',
            "group 'support': after: eng: on_timeout = \"escalate\" tells this group's escalate_to, which is empty; "
            "name who to tell",
        ),
        (
            '{ group = "eng", acknowledged = "all", when = "later" }',
            "group 'support': after: when: unknown field (allowed: acknowledged, group, on_timeout, timeout)",
        ),
        ('{ group = "ops", acknowledged = "all" }', "group 'support': after: names unknown group 'ops'"),
        ('{ group = "support", acknowledged = "all" }', "group 'support': after: names the group itself"),
        ('"eng", { group = "eng", acknowledged = 1 }', "group 'support': after: names group 'eng' twice"),
        ("1", "group 'support': after: must be a list of group ids or tables such as { group = "),
    ],
    ids=[
        "over 100%",
        "zero share",
        "not a threshold",
        "zero count",
        "no threshold",
        "no group",
        "bad timeout",
        "bad action",
        "action without timeout",
        "escalate to nobody",
        "unknown key",
        "unknown group",
        "itself",
        "twice",
        "not a table",
    ],
)
def test_each_mistake_in_a_table_is_told_in_heralds_words(entry: str, expected: str) -> None:
    """Every wrong ``after`` table is reported against the waiting group, naming the key at fault."""
    problems = problems_of(plan_text(_EARLIER, _waiting(entry)))
    assert reported(problems, expected), [str(p) for p in problems]


def test_a_count_more_than_a_group_of_people_can_reach_is_an_error() -> None:
    """A group sent only to three people can never have four acknowledgements."""
    problems = problems_of(plan_text(_PEOPLE, group("support", 'after = [{ group = "leads", acknowledged = 4 }]')))
    assert [str(p) for p in problems] == [
        "group 'support': after: leads: acknowledged: 4 can never be reached; leads is sent to 3 people"
    ]


def test_a_count_on_a_group_with_a_channel_has_no_bound() -> None:
    """A channel may hold anyone, so a large count on a group that posts to one is accepted."""
    plan = parse_plan(plan_text(_EARLIER, _waiting('{ group = "eng", acknowledged = 50 }')))
    assert plan.group("support").gates[0].acknowledged == Threshold(count=50)


def test_waiting_for_receipts_of_a_group_that_asks_for_none_is_an_error() -> None:
    """``ack = "none"`` (its own or from [defaults]) means no receipts ever come."""
    earlier = group("eng", 'ack = "none"')
    problems = problems_of(plan_text(earlier, _waiting('{ group = "eng", acknowledged = 1 }')))
    assert reported(problems, "group 'support': after: eng: acknowledged: eng asks for no acknowledgement")
    by_default = plan_text(
        group("eng"), _waiting('{ group = "eng", acknowledged = 1 }'), tables='[defaults]\nack = "none"\n'
    )
    assert reported(problems_of(by_default), "group 'support': after: eng: acknowledged: eng asks for no")


def test_a_cycle_through_both_forms_is_found() -> None:
    """``a`` waits for ``b``'s sending and ``b`` for ``a``'s receipts: a cycle."""
    problems = problems_of(
        plan_text(group("a", 'after = ["b"]'), group("b", 'after = [{ group = "a", acknowledged = "all" }]'))
    )
    assert reported(problems, "group 'a': after: forms a cycle: a -> b -> a")


def test_a_person_listed_under_two_ids_counts_once_towards_what_a_count_can_reach() -> None:
    """Leads reaches ann in the shell and by e-mail: with ``[people]`` naming them one person, 2 is out of reach."""
    people = '[people.ann]\nshell = "ann"\nemail = "bo@example.com"\n'
    text = plan_text(_PEOPLE, _waiting('{ group = "leads", acknowledged = 3 }'), tables=people)
    found = problems_of(text)
    assert reported(found, "group 'support': after: leads: acknowledged: 3 can never be reached; leads is sent to 2")
