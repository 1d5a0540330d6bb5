"""Subscriptions: people choose which releases they hear of, and where; ``subscribers:…`` reaches exactly them."""

from __future__ import annotations

import pytest

from bot.domain.audit import AuditEntry
from bot.domain.destinations import Platform
from bot.domain.errors import PlanError
from bot.service.planfile import parse_plan
from bot.service.views import ReleaseView
from tests.service.conftest import World, make_world, notices

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]

[people.kim]
slack = "U0KIM"
discord = "812345678901234567"
name = "Kim"

[[group]]
id = "engineering"
to = ["shell:#engineering"]
ack = "none"
message = "Acme Cloud {{ version }} is live."

[[group]]
id = "api-news"
to = ["subscribers:api"]
components = ["api", "web"]
message = "Acme Cloud {{ version }}: the API changed."

[[group]]
id = "web-news"
to = ["subscribers:web"]
message = "Acme Cloud {{ version }}: the web app changed."
"""

KIM_SLACK = "slack:U0KIM"
KIM_DISCORD = "discord:812345678901234567"
EVERY = (Platform.SHELL, Platform.SLACK, Platform.DISCORD, Platform.EMAIL)


async def _send(world: World, release: str) -> str:
    """Announce ``release`` (``3.0.0 api``: of api) and send it; its version."""
    version = release.split()[0]
    for line in (f"announce {release}", f"confirm {version}", f"approve {version} all", f"send {version}"):
        reply = await world.say(line)
        assert not reply.failed, notices(reply)
    await world.herald.engine.run_until_idle()
    return version


def _reached(world: World, version: str) -> list[tuple[str, str]]:
    return sorted((m.group_id, m.target) for m in world.messenger.sent if m.version == version)


async def test_a_subscriber_to_api_at_major_hears_only_of_major_api_releases() -> None:
    world = make_world(PLAN, configured=EVERY)
    await _send(world, "2.4.0")
    reply = await world.say("subscribe api major", actor=KIM_SLACK)
    assert notices(reply) == [
        "Subscribed: you will hear here of api (major releases). To stop, type /release unsubscribe api."
    ]

    await _send(world, "2.5.0 web")
    await _send(world, "2.5.1 api")
    await _send(world, "2.6.0 api")
    assert [t for v in ("2.5.0", "2.5.1", "2.6.0") for t in _reached(world, v) if t[0] != "engineering"] == []

    await _send(world, "3.0.0 api")
    assert _reached(world, "3.0.0") == [("api-news", "slack:@U0KIM"), ("engineering", "shell:#engineering")]


async def test_the_same_person_subscribed_on_slack_and_discord_gets_both_copies_and_counts_once() -> None:
    world = make_world(PLAN, configured=EVERY)
    await _send(world, "2.4.0")
    for actor in (KIM_SLACK, KIM_DISCORD):
        assert not (await world.say("subscribe api major", actor=actor)).failed
    version = await _send(world, "3.0.0 api")

    assert _reached(world, version) == [
        ("api-news", "discord:user:812345678901234567"),
        ("api-news", "slack:@U0KIM"),
        ("engineering", "shell:#engineering"),
    ]
    status = await world.herald.desk.status(version)
    group = next(g for g in status.groups if g.id == "api-news")
    assert group.expected == 1
    assert [m.unsubscribe for m in world.messenger.sent if m.group_id == "api-news"] == ["api", "api"]
    pack = await world.herald.desk.evidence(version)
    assert [(s.medium, s.what) for s in pack.subscriptions] == [
        ("discord:user:812345678901234567", "api (major releases)"),
        ("slack:@U0KIM", "api (major releases)"),
    ]


async def test_a_release_of_the_whole_product_reaches_component_subscribers_and_levels_are_kept() -> None:
    world = make_world(PLAN, configured=EVERY)
    await _send(world, "2.4.0")
    await world.say("subscribe web minor", actor="shell:ann")
    await world.say("subscribe web", actor="shell:bo")  # every release
    await world.say("subscribe api", actor="shell:cy")

    await _send(world, "2.4.1")  # a patch of everything
    assert _reached(world, "2.4.1") == [
        ("api-news", "shell:@cy"),
        ("engineering", "shell:#engineering"),
        ("web-news", "shell:@bo"),
    ]
    await _send(world, "2.5.0 web")
    assert _reached(world, "2.5.0") == [
        ("engineering", "shell:#engineering"),
        ("web-news", "shell:@ann"),
        ("web-news", "shell:@bo"),
    ]


async def test_unsubscribing_stops_the_next_release_and_is_audited() -> None:
    world = make_world(PLAN, configured=EVERY)
    await world.say("subscribe api", actor="shell:ann")
    await world.say("subscribe web", actor="shell:ann")
    assert notices(await world.say("subscriptions", actor="shell:ann")) == [
        "Here you hear of: api (every release); web (every release). /release unsubscribe [COMPONENT] to stop."
    ]
    reply = await world.say("unsubscribe api", actor="shell:ann")
    assert notices(reply) == ["Unsubscribed from api (every release). You still hear here of web (every release)."]
    again = await world.say("unsubscribe api", actor="shell:ann")
    assert notices(again) == ["You were not subscribed here to api; nothing changed."]

    await _send(world, "2.4.0")
    assert _reached(world, "2.4.0") == [("engineering", "shell:#engineering"), ("web-news", "shell:@ann")]
    trail: list[AuditEntry] = [e for e in world.store.audit if e.action in ("subscribe", "unsubscribe")]
    assert [(e.actor, e.action, e.detail) for e in trail] == [
        ("shell:ann", "subscribe", "shell:@ann to api (every release)"),
        ("shell:ann", "subscribe", "shell:@ann to web (every release)"),
        ("shell:ann", "unsubscribe", "shell:@ann from api (every release)"),
    ]


async def test_subscribing_to_a_component_the_plan_does_not_announce_is_refused_with_the_choices() -> None:
    world = make_world(PLAN, configured=EVERY)
    reply = await world.say("subscribe apii", actor="shell:ann")
    assert reply.failed
    assert notices(reply) == [
        "“apii” is not a component this plan announces; choose one of api, web (or none, for every release)."
    ]


async def test_subscribing_under_a_plan_that_sends_nothing_to_subscribers_is_refused() -> None:
    world = make_world()
    reply = await world.say("subscribe", actor="shell:ann")
    assert reply.failed
    assert "sends nothing to subscribers" in notices(reply)[0]


async def test_a_subscriber_who_unsubscribes_before_the_send_is_not_sent_to() -> None:
    world = make_world(PLAN, configured=EVERY)
    await world.say("subscribe api", actor="shell:ann")
    for line in ("announce 2.4.0 api", "confirm 2.4.0", "approve 2.4.0 all"):
        assert not (await world.say(line)).failed
    await world.say("unsubscribe", actor="shell:ann")
    assert not (await world.say("send 2.4.0")).failed
    await world.herald.engine.run_until_idle()
    assert _reached(world, "2.4.0") == [("engineering", "shell:#engineering")]


async def test_the_walkthrough_counts_the_subscribers_this_release_reaches() -> None:
    world = make_world(PLAN, configured=EVERY)
    for actor in (KIM_SLACK, KIM_DISCORD, "shell:ann"):
        await world.say("subscribe api", actor=actor)
    await world.say("subscribe web major", actor="shell:bo")
    reply = await world.say("announce 2.4.0 api")
    view = next(v for v in reply.views if isinstance(v, ReleaseView))
    summary = view.summary
    assert "api-news: 3 DMs, 2 people expected to acknowledge" in summary
    assert "web-news: nothing reachable" in summary


def test_an_escalation_cannot_go_to_subscribers() -> None:
    plan = PLAN.replace('to = ["subscribers:web"]', 'to = ["subscribers:web"]\nescalate_to = ["subscribers:all"]')
    with pytest.raises(PlanError, match="an escalation goes to people or channels named here, not to subscribers"):
        parse_plan(plan)


async def test_a_plan_that_stopped_sending_to_subscribers_still_lets_people_list_and_leave() -> None:
    world = make_world(PLAN, configured=EVERY)
    await world.say("subscribe api", actor="shell:ann")
    later = make_world(configured=EVERY)  # the same ledger under a plan without subscribers:…
    later.store.subscriptions.update(world.store.subscriptions)
    assert notices(await later.say("subscriptions", actor="shell:ann")) == [
        "Here you hear of: api (every release). /release unsubscribe [COMPONENT] to stop."
    ]
    assert notices(await later.say("unsubscribe", actor="shell:ann")) == ["Unsubscribed from api (every release)."]
    assert (await later.say("subscribe api", actor="shell:ann")).failed
