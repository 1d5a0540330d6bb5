"""Who a group comes from: ``from``, ``slack_username`` and ``slack_icon``, in a group or in ``[defaults]``."""

from __future__ import annotations

import pytest

from bot.domain.plan import Sender
from bot.service.planfile import parse_plan
from tests.service.test_planfile import group, plan_text, problems_of, reported

_FROM = 'from = "Release Team <releases@example.com>"'


def test_a_group_names_its_from_address_slack_name_and_icon() -> None:
    """The three keys become the group's sender, carried to every message it sends."""
    plan = parse_plan(plan_text(group("support", _FROM, 'slack_username = "Release Bot"', 'slack_icon = ":rocket:"')))

    sender = plan.group("support").sender
    assert sender == Sender(email_from="Release Team <releases@example.com>", username="Release Bot", icon=":rocket:")
    assert (sender.icon_emoji, sender.icon_url) == (":rocket:", None)


def test_a_group_that_names_nobody_keeps_each_platforms_sender() -> None:
    """Without the keys (here or in [defaults]) the group has no sender of its own."""
    assert parse_plan(plan_text()).group("support").sender is None


def test_defaults_name_the_sender_of_every_group_and_a_group_overrides_each_key() -> None:
    """``[defaults]`` gives each key to the groups that leave it out; a group's own value wins, key by key."""
    defaults = f'\n[defaults]\n{_FROM}\nslack_icon = ":mega:"\n'
    plan = parse_plan(
        plan_text(group("eng"), group("support", 'slack_icon = "https://acme.example/bot.png"'), tables=defaults)
    )

    assert plan.group("eng").sender == Sender(email_from="Release Team <releases@example.com>", icon=":mega:")
    support = plan.group("support").sender
    assert support is not None
    assert (support.email_from, support.icon_url, support.icon_emoji) == (
        "Release Team <releases@example.com>",
        "https://acme.example/bot.png",
        None,
    )


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("releases@example.com", "releases@example.com"),
        ('\\"Doe, Jane\\" <jane@example.com>', '"Doe, Jane" <jane@example.com>'),
        ("Équipe Release <releases@example.com>", "Équipe Release <releases@example.com>"),
    ],
)
def test_a_from_address_is_kept_in_its_header_form(written: str, kept: str) -> None:
    """A bare address, a quoted display name and a name outside ASCII are each one valid From."""
    plan = parse_plan(plan_text(group("support", f'from = "{written}"')))
    sender = plan.group("support").sender
    assert sender is not None
    assert sender.email_from == kept


FROM_FORM = 'is not an address such as "Release Team <releases@example.com>"'
BAD = {
    "a name without an address": ('from = "Release Team"', f"group 'support': from: 'Release Team' {FROM_FORM}"),
    "two addresses": ('from = "a@example.com, b@example.com"', f"group 'support': from: {FROM_FORM[:6]}"),
    "an address with no domain": ('from = "Team <team@>"', f"group 'support': from: 'Team <team@>' {FROM_FORM}"),
    "a group of addresses": ('from = "team: a@example.com;"', f"group 'support': from: {FROM_FORM[:6]}"),
    "a non-ASCII mailbox": ('from = "Team <équipe@example.com>"', f"group 'support': from: {FROM_FORM[:6]}"),
    "a line break": (
        'from = "Team <t@example.com>\\r\\nBcc: all@example.com"',
        "group 'support': from: must be one line (a line break would inject an e-mail header)",
    ),
    "not a string": ("from = 7", "group 'support': from: must be an address such as"),
    "an empty Slack name": ('slack_username = " "', "group 'support': slack_username: must be a name of 1 to 80"),
    "a Slack name too long": (
        f'slack_username = "{"x" * 81}"',
        "group 'support': slack_username: is 81 characters long; Slack shows at most 80",
    ),
    "a Slack name over two lines": (
        'slack_username = "Release\\nBot"',
        "group 'support': slack_username: must be one line of printable characters",
    ),
    "an icon that is a word": (
        'slack_icon = "rocket"',
        "group 'support': slack_icon: 'rocket' is not an emoji code such as :rocket: or an https:// URL of an image",
    ),
    "an icon over http": ('slack_icon = "http://acme.example/bot.png"', "group 'support': slack_icon: 'http://"),
}


@pytest.mark.parametrize(("line", "expected"), list(BAD.values()), ids=list(BAD))
def test_a_bad_sender_is_refused_in_a_sentence(line: str, expected: str) -> None:
    """Each bad value is one problem, on its group and key, saying what is expected."""
    problems = problems_of(plan_text(group("support", line)))

    assert reported(problems, expected), [str(p) for p in problems]
    assert len(problems) == 1


def test_a_slack_name_of_eighty_characters_is_accepted() -> None:
    """80 characters is Slack's limit, and allowed."""
    sender = parse_plan(plan_text(group("support", f'slack_username = "{"x" * 80}"'))).group("support").sender
    assert sender is not None
    assert sender.username == "x" * 80


def test_a_bad_default_sender_is_reported_under_defaults() -> None:
    """``[defaults]`` is checked like a group: the problem names ``[defaults]`` and the key."""
    problems = problems_of(plan_text(tables='\n[defaults]\nfrom = "nobody"\nslack_icon = "rocket"\n'))

    assert reported(problems, f"[defaults]: from: 'nobody' {FROM_FORM}")
    assert reported(problems, "[defaults]: slack_icon: 'rocket' is not an emoji code")


def test_the_key_is_from_as_written_never_the_python_name() -> None:
    """``email_from`` is an unknown key, and the list of allowed keys says ``from``."""
    [problem] = problems_of(plan_text(group("support", 'email_from = "a@example.com"')))

    assert (problem.where, problem.field) == ("group 'support'", "email_from")
    assert "from, id," in problem.message
    assert "email_from" not in problem.message
