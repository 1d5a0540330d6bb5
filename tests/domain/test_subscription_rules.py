"""Subscriptions in the domain: the commands, the destination, and which releases a subscription takes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.commands import ShowSubscriptions, Subscribe, Unsubscribe, parse_release_command
from bot.domain.destinations import Kind, Platform, parse_destination
from bot.domain.errors import CommandError
from bot.domain.plan import ReleaseLevel
from bot.domain.subscriptions import ALL, Level, Subscription

MAJOR, MINOR, PATCH = ReleaseLevel.MAJOR, ReleaseLevel.MINOR, ReleaseLevel.PATCH


@pytest.mark.parametrize(
    ("text", "component", "level"),
    [
        ("subscribe", ALL, Level.ALL),
        ("subscribe api", "api", Level.ALL),
        ("subscribe API major", "api", Level.MAJOR),
        ("subscribe major", ALL, Level.MAJOR),
        ("subscribe minor", ALL, Level.MINOR),
        ("subscribe all", ALL, Level.ALL),
        ("subscribe all minor", ALL, Level.MINOR),
        ("subscribe api all", "api", Level.ALL),
    ],
)
def test_subscribe_reads_an_optional_component_and_level(text: str, component: str, level: Level) -> None:
    assert parse_release_command(text, "slack:U1") == Subscribe(actor="slack:U1", component=component, level=level)


def test_unsubscribe_and_the_list_need_no_version() -> None:
    assert parse_release_command("unsubscribe", "shell:a") == Unsubscribe(actor="shell:a")
    assert parse_release_command("unsubscribe web", "shell:a") == Unsubscribe(actor="shell:a", component="web")
    assert parse_release_command("subscriptions", "shell:a") == ShowSubscriptions(actor="shell:a")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("subscribe api weekly", "“weekly” is not a level: say major, minor or all."),
        ("subscribe a/b", "“a/b” is not a component name"),
        ("subscribe api major now", "Too many words after subscribe."),
        ("subscriptions api", "Too many words after subscriptions."),
    ],
)
def test_a_wrong_subscription_command_says_what_to_type(text: str, said: str) -> None:
    with pytest.raises(CommandError, match="Usage: /release") as raised:
        parse_release_command(text, "shell:a")
    assert said in str(raised.value)


def test_subscribers_destinations_name_a_component_or_all() -> None:
    api = parse_destination("subscribers:API")
    assert (api.platform, api.kind, api.address, str(api)) == (
        Platform.SUBSCRIBERS,
        Kind.GROUP,
        "api",
        "subscribers:api",
    )
    assert parse_destination("subscribers:all").address == ALL
    with pytest.raises(ValueError, match="subscribers:COMPONENT"):
        parse_destination("subscribers:#api")


def _sub(component: str = ALL, level: Level = Level.ALL, *, confirmed: bool = True) -> Subscription:
    return Subscription(
        person="slack:U1",
        medium="slack:@U1",
        component=component,
        level=level,
        since=datetime(2026, 12, 7, tzinfo=UTC),
        confirmed=confirmed,
    )


@pytest.mark.parametrize(
    ("level", "release", "pre", "hears"),
    [
        (Level.MAJOR, MAJOR, False, True),
        (Level.MAJOR, MINOR, False, False),
        (Level.MINOR, MINOR, False, True),
        (Level.MINOR, PATCH, False, False),
        (Level.ALL, PATCH, False, True),
        (Level.ALL, MAJOR, True, True),
        (Level.MAJOR, MAJOR, True, False),  # a pre-release reaches only those who take every release
        (Level.MINOR, None, False, False),  # a version that cannot be read is shown to no level but all
    ],
)
def test_a_subscription_takes_releases_of_its_level_and_up(
    level: Level, release: ReleaseLevel | None, pre: bool, hears: bool
) -> None:
    assert _sub(level=level).hears(release, pre, ()) is hears


def test_a_component_subscription_hears_of_its_component_and_of_the_whole_product() -> None:
    api = _sub("api")
    assert api.hears(MAJOR, False, ("api", "web"))
    assert api.hears(MAJOR, False, ())
    assert not api.hears(MAJOR, False, ("web",))
    assert _sub().hears(MAJOR, False, ("web",))
    assert not _sub(confirmed=False).hears(MAJOR, False, ())


def test_subscribers_api_takes_api_and_whole_product_subscriptions_and_all_takes_every_one() -> None:
    api, everything = parse_destination("subscribers:api"), parse_destination("subscribers:all")
    assert _sub("api").within(api)
    assert _sub(ALL).within(api)
    assert not _sub("web").within(api)
    assert _sub("web").within(everything)
