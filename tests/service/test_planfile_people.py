"""The plan's ``[people]`` table: one person's ids across platforms, and the name Herald shows for them."""

from __future__ import annotations

import pytest

from bot.domain.people import People
from bot.service.planfile import parse_plan
from tests.service.test_planfile import plan_text, problems_of, reported

ALICE = """
[people.alice]
slack = "U0123ABC"
discord = "812345678901234567"
email = "Alice@Example.com"
name = "Alice Example"
"""


def test_a_person_is_known_by_each_of_their_ids() -> None:
    """Every id listed under a person leads back to that person's key and name."""
    people = parse_plan(plan_text(tables=ALICE)).people

    ids = ("slack:U0123ABC", "discord:812345678901234567", "email:alice@example.com")
    assert people.ids_of("alice") == ids
    assert {people.person_of(i) for i in ids} == {"alice"}
    assert {people.name_of(i) for i in ids} == {"Alice Example"}


def test_an_email_id_is_matched_as_delivery_writes_it() -> None:
    """An address is kept lower-cased, as a mailbox's person id is."""
    assert parse_plan(plan_text(tables=ALICE)).people.person_of("email:alice@example.com") == "alice"


def test_an_id_nobody_lists_is_nobodys() -> None:
    """An unlisted id has no person and no name; an unknown key has no ids."""
    people = parse_plan(plan_text(tables=ALICE)).people

    assert (people.person_of("slack:U0OTHER"), people.name_of("slack:U0OTHER"), people.ids_of("bob")) == (
        None,
        None,
        (),
    )


def test_every_key_but_one_id_is_optional() -> None:
    """A person may be a single id without a name; the names mapping then leaves them out."""
    people = parse_plan(plan_text(tables='\n[people.sam]\nshell = "sam"\n')).people

    assert (people.ids_of("sam"), people.name_of("shell:sam"), people.names) == (("shell:sam",), None, {})


def test_a_plan_without_people_has_an_empty_directory() -> None:
    """Leaving ``[people]`` out is the same as listing nobody."""
    assert parse_plan(plan_text()).people == People()


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('slack = "U0123ABC"\nteams = "x"', "[people.alice]: teams: unknown field (allowed: discord, email, name,"),
        ('slack = "U 0123"', "[people.alice]: slack: 'U 0123' is not a Slack user id such as U0123ABC"),
        ('discord = "#general"', "[people.alice]: discord: '#general' is not a Discord user id"),
        ('email = "alice"', "[people.alice]: email: 'alice' is not an address such as alice@example.com"),
        ("slack = 42", "[people.alice]: slack: 42 is not a Slack user id"),
        ('name = "Alice"', "[people]: alice: names no id; give at least one of slack, discord, shell, email"),
        ('shell = "alice"\nname = ""', "[people.alice]: name: must be a name of 1 to 80 characters"),
    ],
)
def test_each_problem_of_a_person_names_the_person_and_the_key(table: str, expected: str) -> None:
    """A wrong key or id is told against ``[people.KEY]`` and the key, in Herald's words."""
    problems = problems_of(plan_text(tables=f"\n[people.alice]\n{table}\n"))

    assert reported(problems, expected), problems


def test_a_person_that_is_not_a_table_is_refused() -> None:
    """``[people]`` holds one table per person."""
    assert reported(
        problems_of(plan_text(tables='\n[people]\nalice = "U0123ABC"\n')), "[people]: alice: must be a table"
    )


def test_a_person_key_must_be_a_plain_name() -> None:
    """A key is letters, digits, - or _: what a bare TOML key can be."""
    problems = problems_of(plan_text(tables='\n[people."alice example"]\nshell = "alice"\n'))

    assert reported(problems, "[people]: alice example: is not a valid person key")


def test_the_same_id_under_two_people_names_both() -> None:
    """An id belongs to one person; the second listing is refused, naming the first."""
    tables = '\n[people.alice]\nslack = "U0123ABC"\n\n[people.bob]\nemail = "bob@example.com"\nslack = "U0123ABC"\n'

    assert reported(
        problems_of(plan_text(tables=tables)),
        "[people.bob]: slack: 'slack:U0123ABC' is listed under 'alice' and 'bob'; an id belongs to one person",
    )


def test_a_duplicate_id_is_reported_with_the_other_problems() -> None:
    """The rule between people is checked in the same pass as a wrong field elsewhere."""
    tables = '\n[people.alice]\nemail = "a@example.com"\n[people.bob]\nemail = "A@example.com"\nname = 3\n'
    problems = problems_of(plan_text(tables=tables))

    assert reported(problems, "[people.bob]: email: 'email:a@example.com' is listed under 'alice' and 'bob'")
    assert reported(problems, "[people.bob]: name: must be a name")
