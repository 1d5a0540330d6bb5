"""Announcer scopes: a person limited to some groups, or a group limited to some announcers, on every step."""

from __future__ import annotations

import pytest

from bot.domain.audit import Outcome
from bot.domain.errors import PlanError
from bot.service.planfile import parse_plan
from tests.service.conftest import PLAN, World, make_world, notices

SCOPED = PLAN.replace(
    'approvers = ["shell:lead"]',
    'approvers = ["shell:lead"]\nscopes = { "shell:dana" = ["engineering"] }',
)


def _refusals(world: World) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in world.store.audit if e.outcome is Outcome.REFUSED]


async def _sent(world: World) -> None:
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    await world.herald.engine.run_until_idle()


async def test_a_scoped_announcer_acts_for_their_groups_only_and_each_refusal_is_audited() -> None:
    """Dana, scoped to engineering: may approve it, not support; may not announce, send or retract the whole."""
    world = make_world(SCOPED)

    announce = await world.say("announce 2.4", actor="shell:dana")
    await world.say("announce 2.4")
    await world.say("confirm 2.4")
    own = await world.say("approve 2.4 engineering", actor="shell:dana")
    other = await world.say("approve 2.4 support", actor="shell:dana")
    await world.say("approve 2.4 support")
    send = await world.say("send 2.4", actor="shell:dana")

    assert notices(announce) == [
        "You cannot announce this release: your scope in the plan is engineering, and this touches support. "
        "Someone whose scope covers it must do it."
    ]
    assert not own.failed, notices(own)
    assert other.failed
    assert "and this touches support" in notices(other)[0]
    assert send.failed
    assert world.store.releases["2.4"].communiques["engineering"].approved
    assert _refusals(world) == [
        ("shell:dana", "announce_release"),
        ("shell:dana", "approve_communique"),
        ("shell:dana", "request_send"),
    ]


async def test_after_sending_a_scoped_announcer_corrects_their_group_but_not_another_nor_retracts() -> None:
    """Dana may correct engineering; correcting support or retracting the release is refused and audited."""
    world = make_world(SCOPED)
    await _sent(world)

    own = await world.say("correct 2.4 engineering Acme Cloud 2.4 is live (corrected).", actor="shell:dana")
    other = await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live (corrected).", actor="shell:dana")
    retract = await world.say("retract 2.4 rolled back", actor="shell:dana")

    assert not own.failed, notices(own)
    assert "and this touches support" in notices(other)[0]
    assert "You cannot retract this release" in notices(retract)[0]
    assert world.store.releases["2.4"].retraction is None
    assert _refusals(world)[-2:] == [("shell:dana", "correct_communique"), ("shell:dana", "retract_release")]


async def test_a_groups_own_announcers_alone_act_for_it_with_the_approvers() -> None:
    """Support names dana as its announcer: the deployer may not approve it; dana and the approver may."""
    world = make_world(PLAN.replace('after = ["engineering"]', 'after = ["engineering"]\nannouncers = ["shell:dana"]'))
    await world.say("announce 2.4", actor="shell:dana")

    deployer = await world.say("approve 2.4 support")
    lead = await world.say("approve 2.4 support", actor="shell:lead")

    assert notices(deployer) == [
        "You cannot approve the support communiqué: only support's own announcers may act for it. "
        "Someone whose scope covers it must do it."
    ]
    assert not lead.failed, notices(lead)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('approvers = ["shell:lead"]', 'approvers = ["shell:lead"]\nscopes = { "shell:dana" = ["ops"] }'),
            "[access]: scopes: shell:dana: names unknown group 'ops'",
        ),
        (
            ('approvers = ["shell:lead"]', 'approvers = ["shell:lead"]\nscopes = { "shell:kim" = ["support"] }'),
            "[access]: scopes: shell:kim: is neither an announcer nor an approver, so a scope gives them nothing",
        ),
        (
            ('after = ["engineering"]', 'after = ["engineering"]\nannouncers = ["shell:kim"]'),
            "group 'support': announcers: shell:kim is not in [access] announcers",
        ),
    ],
    ids=["unknown group", "nobody", "group announcer not an announcer"],
)
def test_plan_check_reports_scopes_that_name_unknown_groups_or_people(change: tuple[str, str], expected: str) -> None:
    """Each mistake is one sentence naming the place."""
    with pytest.raises(PlanError) as raised:
        parse_plan(PLAN.replace(*change))
    assert f"  - {expected}" in str(raised.value)
