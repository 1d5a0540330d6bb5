"""Announce rules per group: the smallest release a group hears of, and whether it hears of pre-releases."""

from __future__ import annotations

import pytest

from bot.domain.errors import PlanError
from bot.domain.plan import ReleaseLevel, Versioning
from bot.service.announce_rules import level_of
from bot.service.planfile import parse_plan
from tests.service.conftest import World, make_world, notices

RULES = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]

[[group]]
id = "engineering"
to = ["shell:#engineering"]
message = "Acme Cloud {{ version }} is live."

[[group]]
id = "customers"
to = ["shell:@cy"]
announce_for = "minor"
prereleases = false
message = "Acme Cloud {{ version }} is available."

[[group]]
id = "testers"
to = ["shell:@tess"]
announce_for = "major"
message = "Acme Cloud {{ version }}: please try it."
"""


async def _announced(world: World, version: str) -> None:
    for line in (f"announce {version}", f"confirm {version}", f"approve {version} all", f"send {version}"):
        reply = await world.say(line)
        assert not reply.failed, notices(reply)
    await world.herald.engine.run_until_idle()


def _reached(world: World, version: str) -> set[str]:
    return {m.group_id for m in world.messenger.sent if m.version == version}


async def test_a_patch_release_skips_the_groups_that_hear_of_minor_releases_and_says_why() -> None:
    """2.4.1 after 2.4.0: engineering hears of it, customers (minor and up) and testers (major) are skipped."""
    world = make_world(RULES)
    await _announced(world, "2.4.0")
    reply = await world.say("announce 2.4.1")

    view = next(v for v in reply.views if hasattr(v, "checks"))
    skipped = [c.message for c in view.checks if c.code == "skipped"]  # type: ignore[attr-defined]
    assert skipped == [
        "customers is skipped: 2.4.1 is a patch release, and customers hears of minor releases and up "
        '(announce_for = "minor")',
        "testers is skipped: 2.4.1 is a patch release, and testers hears of major releases and up "
        '(announce_for = "major")',
    ]
    await _announced_rest(world, "2.4.1")
    assert _reached(world, "2.4.1") == {"engineering"}


async def _announced_rest(world: World, version: str) -> None:
    for line in (f"confirm {version}", f"approve {version} all", f"send {version}"):
        reply = await world.say(line)
        assert not reply.failed, notices(reply)
    await world.herald.engine.run_until_idle()


async def test_a_pre_release_reaches_only_the_groups_that_take_pre_releases() -> None:
    """2.5.0-rc.1 after 2.4.0 is a minor pre-release: customers take none; testers hear of majors only."""
    world = make_world(RULES)
    await _announced(world, "2.4.0")
    await _announced(world, "2.5.0-rc.1")

    assert _reached(world, "2.5.0-rc.1") == {"engineering"}
    assert world.store.releases["2.5.0-rc.1"].skipped["customers"].endswith("hears of none (prereleases = false)")


async def test_a_major_release_reaches_every_group() -> None:
    """3.0.0 after 2.4.0 is a major release: everyone hears of it."""
    world = make_world(RULES)
    await _announced(world, "2.4.0")
    await _announced(world, "3.0.0")

    assert _reached(world, "3.0.0") == {"engineering", "customers", "testers"}


@pytest.mark.parametrize(
    ("version", "earlier", "scheme", "expected"),
    [
        ("2.4.1", ["2.4.0"], Versioning.SEMVER, (ReleaseLevel.PATCH, False)),
        ("2.5.0", ["2.4.0", "2.4.1"], Versioning.SEMVER, (ReleaseLevel.MINOR, False)),
        ("3.0.0", ["2.9.9", "3.1.0"], Versioning.SEMVER, (ReleaseLevel.MAJOR, False)),
        ("2.5.0-rc.1", ["2.4.0"], Versioning.SEMVER, (ReleaseLevel.MINOR, True)),
        ("2.5.0", ["2.5.0-rc.1", "2.4.0"], Versioning.SEMVER, (ReleaseLevel.MINOR, False)),
        ("2.4", [], Versioning.SEMVER, (ReleaseLevel.MINOR, False)),
        ("2.5.0rc1", ["2.4.0"], Versioning.PEP440, (ReleaseLevel.MINOR, True)),
        ("2.4.1.post1", ["2.4.1"], Versioning.PEP440, (ReleaseLevel.PATCH, False)),
        ("not.a.version!", [], Versioning.SEMVER, None),
    ],
)
def test_a_releases_level_is_read_against_the_release_before_it(
    version: str, earlier: list[str], scheme: Versioning, expected: tuple[ReleaseLevel, bool] | None
) -> None:
    """Against the highest earlier version (a pre-release of the same version does not make it a patch)."""
    assert level_of(version, earlier, scheme) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('announce_for = "minor"', 'announce_for = "weekly"'), "announce_for: 'weekly' is not one of"),
        (("prereleases = false", 'prereleases = "no"'), "prereleases: must be true or false"),
        (('product = "Acme Cloud"', 'product = "Acme Cloud"\nversioning = "calver"'), "versioning: 'calver' is not"),
    ],
)
def test_each_wrong_rule_is_told_in_one_sentence(change: tuple[str, str], expected: str) -> None:
    """plan check validates every rule."""
    with pytest.raises(PlanError) as raised:
        parse_plan(RULES.replace(*change))
    assert expected in str(raised.value)


COMPONENTS = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]

[[group]]
id = "api-users"
to = ["shell:@ada"]
components = ["api"]
message = "Acme {{ version }}: the API changed."

[[group]]
id = "web-users"
to = ["shell:@wes"]
components = ["web"]
message = "Acme {{ version }}: the web app changed."

[[group]]
id = "everyone"
to = ["shell:#all"]
message = "Acme {{ version }} is out."
"""


@pytest.mark.parametrize(
    ("line", "reached"),
    [
        ("announce 2.4.0 web", {"web-users", "everyone"}),
        ("announce api-v2.4.0", {"api-users", "everyone"}),
        ("announce 2.4.0 api,web", {"api-users", "web-users", "everyone"}),
        ("announce 2.4.0", {"api-users", "web-users", "everyone"}),  # the whole product
    ],
)
async def test_a_group_limited_to_components_hears_of_releases_of_them(line: str, reached: set[str]) -> None:
    """A release names its components (a word after the version, or a monorepo's tag): groups of others skip it."""
    world = make_world(COMPONENTS)
    reply = await world.say(line)
    assert not reply.failed, notices(reply)
    await _announced_rest(world, "2.4.0")

    assert _reached(world, "2.4.0") == reached
    skipped = world.store.releases["2.4.0"].skipped
    assert set(skipped) == {"api-users", "web-users", "everyone"} - reached
    assert all(why.endswith("only (components)") for why in skipped.values())
