"""Destinations: every form a plan may name, and the ones it may not."""

from __future__ import annotations

import re

import pytest

from bot.domain.destinations import Destination, Kind, Platform, parse_destination, person_id


@pytest.mark.parametrize(
    ("text", "platform", "kind", "address"),
    [
        ("slack:#eng-announce", Platform.SLACK, Kind.CHANNEL, "#eng-announce"),
        ("slack:#release.notes_2", Platform.SLACK, Kind.CHANNEL, "#release.notes_2"),
        ("slack:C0123ABCD", Platform.SLACK, Kind.CHANNEL, "C0123ABCD"),
        ("slack:G0123ABCD", Platform.SLACK, Kind.CHANNEL, "G0123ABCD"),
        ("slack:@U0SUPPORT1", Platform.SLACK, Kind.DM, "U0SUPPORT1"),
        ("slack:@W0ENTERPRISE", Platform.SLACK, Kind.DM, "W0ENTERPRISE"),
        ("slack:usergroup:S0SUPPORT", Platform.SLACK, Kind.GROUP, "S0SUPPORT"),
        ("slack:email:lead@example.com", Platform.SLACK, Kind.DM, "email:lead@example.com"),
        ("discord:channel:222222222222222222", Platform.DISCORD, Kind.CHANNEL, "222222222222222222"),
        ("discord:user:333333333333333333", Platform.DISCORD, Kind.DM, "333333333333333333"),
        (
            "discord:role:111111111111111111/444444444444444444",
            Platform.DISCORD,
            Kind.GROUP,
            "111111111111111111/444444444444444444",
        ),
        ("email:support@example.com", Platform.EMAIL, Kind.EMAIL, "support@example.com"),
        ("email:first.last+tag@mail.example.co.uk", Platform.EMAIL, Kind.EMAIL, "first.last+tag@mail.example.co.uk"),
        (
            "webhook:https://hooks.example.com/releases",
            Platform.WEBHOOK,
            Kind.WEBHOOK,
            "https://hooks.example.com/releases",
        ),
        (
            "webhook:http://intranet.example.com/hook",
            Platform.WEBHOOK,
            Kind.WEBHOOK,
            "http://intranet.example.com/hook",
        ),
        ("shell:#engineering", Platform.SHELL, Kind.CHANNEL, "engineering"),
        ("shell:@sam", Platform.SHELL, Kind.DM, "sam"),
        ("web:releases", Platform.WEB, Kind.CHANNEL, "releases"),
    ],
)
def test_every_documented_form_parses(text: str, platform: Platform, kind: Kind, address: str) -> None:
    """Each documented destination form parses to its platform, kind and address."""
    destination = parse_destination(text)

    assert (destination.platform, destination.kind, destination.address) == (platform, kind, address)


@pytest.mark.parametrize(
    "text",
    [
        "slack:#eng-announce",
        "slack:@U0SUPPORT1",
        "discord:role:111111111111111111/444444444444444444",
        "shell:@sam",
    ],
)
def test_a_destination_writes_back_as_it_was_written(text: str) -> None:
    """``str()`` of a destination is the text the plan wrote."""
    assert str(parse_destination(text)) == text


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("email:Support@Example.COM", "support@example.com"),
        ("slack:email:Lead@Example.com", "email:lead@example.com"),
    ],
)
def test_email_addresses_are_kept_in_lower_case(text: str, address: str) -> None:
    """Mail addresses compare case-insensitively, so the address is kept in lower case."""
    assert parse_destination(text).address == address


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("email:Support@Example.COM", "email:support@example.com"),
        ("slack:email:Lead@Example.com", "slack:email:lead@example.com"),
    ],
)
def test_an_email_destination_writes_back_in_lower_case(text: str, written: str) -> None:
    """Two spellings of one mailbox write back alike, so a plan can spot the duplicate."""
    assert str(parse_destination(text)) == written
    assert parse_destination(text) == parse_destination(written)


@pytest.mark.parametrize(
    "text",
    [
        "web:Releases",  # a page name is lower case
        "web:",
        "slack:#Eng",  # channel names are lower case
        "slack:#",
        "slack:#-eng",
        "slack:eng",  # a channel name needs its #
        "slack:c0123abcd",
        "slack:@u0support1",
        "slack:@S0SUPPORT",  # a user group is not a user
        "slack:U0SUPPORT1",  # a user needs its @
        "slack:usergroup:U0SUPPORT1",
        "slack:usergroup:",
        "slack:email:not-an-address",
        "slack:",
        "discord:channel:123",  # too short for a snowflake
        "discord:channel:#general",
        "discord:user:abc",
        "discord:role:111111111111111111",  # the guild needs its role
        "discord:role:111111111111111111/",
        "discord:222222222222222222",
        "discord:member:222222222222222222",
        "email:not-an-address",
        "email:someone@localhost",
        "email:",
        "email:" + "a" * 250 + "@example.com",  # longer than a mailbox may be
        "webhook:ftp://example.com/hook",
        "webhook:https://",
        "webhook:example.com/hook",
        "webhook:https://exa mple.com",
        "shell:sam",
        "shell:#",
        "shell:@Sam",
        "shell:@",
    ],
)
def test_malformed_destinations_are_refused(text: str) -> None:
    """A destination that matches none of its platform's forms is refused, naming the forms."""
    with pytest.raises(ValueError, match="not a valid destination; expected"):
        parse_destination(text)


@pytest.mark.parametrize("text", ["teams:#general", "SLACK:#eng", "irc:#releases", ":#eng"])
def test_an_unknown_platform_is_refused_with_the_known_ones(text: str) -> None:
    """A destination on a platform Herald does not know lists the ones it does."""
    with pytest.raises(
        ValueError,
        match=r"unknown platform .*; use one of slack, discord, email, webhook, shell, apprise, web, subscribers$",
    ):
        parse_destination(text)


@pytest.mark.parametrize("text", ["", "#releases", "support@example.com"])
def test_text_without_a_platform_is_refused(text: str) -> None:
    """Text with no ``platform:`` prefix is refused with an example of one."""
    with pytest.raises(ValueError, match=re.escape("must start with a platform, e.g. slack:#releases")):
        parse_destination(text)


def test_a_value_that_is_not_text_is_refused() -> None:
    """A number or a table from the plan is refused as a ValueError, not a crash."""
    with pytest.raises(ValueError, match="not a destination"):
        parse_destination(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["slack:#eng\n", "slack:C0123ABCD\n", "discord:user:333333333333333333\n", "email:a@example.com\n", "shell:@sam\n"],
)
def test_a_trailing_newline_is_not_part_of_a_destination(text: str) -> None:
    """A destination followed by a line break is refused rather than kept with the break in it."""
    with pytest.raises(ValueError, match="not a valid destination"):
        parse_destination(text)


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("slack:@U0SUPPORT1", "slack:U0SUPPORT1"),
        ("discord:user:333333333333333333", "discord:333333333333333333"),
        ("shell:@sam", "shell:sam"),
        ("email:Support@Example.com", "email:support@example.com"),
    ],
)
def test_a_direct_destination_names_the_person_it_reaches(text: str, person: str) -> None:
    """DMs and mailboxes reach one person, named the way the access lists name people."""
    assert parse_destination(text).person == person


@pytest.mark.parametrize(
    "text",
    [
        "slack:#eng-announce",
        "slack:usergroup:S0SUPPORT",
        "discord:channel:222222222222222222",
        "discord:role:111111111111111111/444444444444444444",
        "webhook:https://hooks.example.com/releases",
        "shell:#engineering",
    ],
)
def test_channels_groups_and_webhooks_reach_no_single_person(text: str) -> None:
    """Destinations read by many (or by nobody) have no person."""
    assert parse_destination(text).person is None


def test_person_id_qualifies_a_user_with_the_platform() -> None:
    """A person id is ``platform:user``."""
    assert person_id(Platform.DISCORD, "333333333333333333") == "discord:333333333333333333"


def test_equal_texts_give_equal_destinations() -> None:
    """Two parses of the same text are equal and hash alike, so a plan can spot a duplicate."""
    first, second = parse_destination("shell:#support"), parse_destination("shell:#support")

    assert first == second
    assert len({first, second}) == 1
    assert isinstance(first, Destination)
