"""People as the plan's access lists name them: ``platform:id``."""

from __future__ import annotations

import re

import pytest

from bot.domain.people import display_name, parse_announcer, parse_person


@pytest.mark.parametrize(
    "text", ["slack:U0ANNOUNCE1", "discord:111111111111111111", "shell:deployer", "shell:first.last"]
)
def test_a_chat_person_is_accepted_as_written(text: str) -> None:
    """A Slack, Discord or shell person id is returned unchanged."""
    assert parse_person(text) == text


@pytest.mark.parametrize("text", ["deployer", "teams:U1", "slack:", "slack:U 1", "Slack:U1", "", "slack:" + "U" * 121])
def test_text_that_is_not_platform_and_id_is_refused(text: str) -> None:
    """Anything but ``platform:id`` is refused with an example."""
    with pytest.raises(ValueError, match=re.escape("is not a person; write platform:id, e.g. slack:U0ABC123")):
        parse_person(text)


def test_a_mailbox_cannot_announce_or_approve() -> None:
    """An email person is refused: only chat people can announce or approve."""
    with pytest.raises(ValueError, match="only slack, discord and shell people can announce or approve"):
        parse_person("email:lead@example.com")


def test_a_trailing_newline_is_not_part_of_a_person() -> None:
    """A person id followed by a line break is refused."""
    with pytest.raises(ValueError, match="is not a person"):
        parse_person("slack:U0ANNOUNCE1\n")


@pytest.mark.parametrize(
    ("person", "shown"),
    [("shell:sam", "sam"), ("slack:U0ANNOUNCE1", "slack:U0ANNOUNCE1"), ("discord:111", "discord:111")],
)
def test_display_name_drops_only_the_shell_prefix(person: str, shown: str) -> None:
    """Shell people are shown by name; platform people keep their qualified id."""
    assert display_name(person) == shown


def test_a_release_pipeline_may_announce_but_is_no_person() -> None:
    """``api:NAME`` is an announcer (a pipeline's token), never an approver or a viewer."""
    assert parse_announcer("api:ci") == "api:ci"
    assert parse_announcer("slack:U0ANNOUNCE1") == "slack:U0ANNOUNCE1"
    with pytest.raises(ValueError, match="write api:NAME"):
        parse_announcer("api:CI Bot")
    with pytest.raises(ValueError, match="is not a person"):
        parse_person("api:ci")
