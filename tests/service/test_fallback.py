"""Fallback to another medium: who has not acknowledged by a step's ``after`` gets the communiqué there, once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.domain.commands import Acknowledge
from bot.domain.delivery import Delivery, DeliveryStatus
from bot.domain.destinations import Platform
from bot.domain.fallback import FallbackStep, Medium
from bot.domain.receipt import ReceiptSource
from bot.service.planfile import parse_plan
from bot.service.reminders import Reminders
from tests.service.conftest import World, make_world
from tests.service.test_planfile import group, plan_text, problems_of, reported

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]

[people.sam]
shell = "sam"
email = "sam@example.com"

[people.jo]
shell = "jo"
email = "jo@example.com"

[people.kim]
shell = "kim"

[[group]]
id = "support"
name = "Customer Support"
to = ["shell:@sam", "shell:@jo", "shell:@kim"]
ack_within = "24h"
remind_every = "12h"
fallback = [{ after = "4h", to = "email" }]
message = "Support: Acme Cloud {{ version }} is live."
"""
_MEDIA = (Platform.SHELL, Platform.EMAIL)
_PEOPLE = '\n[people.sam]\nshell = "sam"\nemail = "sam@example.com"\n'


async def _sent(plan: str = PLAN, configured: tuple[Platform, ...] = _MEDIA) -> World:
    world = make_world(plan, configured=configured)
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.herald.engine.run_until_idle()
    return world


async def _sweep_and_send(world: World) -> None:
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()


def _fallbacks(world: World) -> list[Delivery]:
    return sorted((d for d in world.store.deliveries.values() if d.via.startswith("fallback-")), key=lambda d: d.key)


def _mails(world: World) -> list[str]:
    return [m.target for m in world.messenger.sent if m.target.startswith("email:")]


async def _acknowledge(world: World, key: str, actor: str) -> None:
    """Acknowledge the copy ``key`` as ``actor`` (a link names its delivery, as the e-mail's does)."""
    await world.do(Acknowledge(actor=actor, message_ref="", delivery_key=key, source=ReceiptSource.LINK))


async def test_nobody_falls_back_before_the_steps_after() -> None:
    """A sweep before the step's ``after`` writes no fallback copy."""
    world = await _sent()
    world.clock.advance(timedelta(hours=3, minutes=59))
    await _sweep_and_send(world)
    assert _fallbacks(world) == []


async def test_at_after_whoever_has_not_acknowledged_gets_an_email_copy_to_their_listed_address() -> None:
    """Reached by shell DM only, sam gets one e-mail copy at 4h, addressed to him by his canonical id."""
    world = await _sent()
    world.clock.advance(timedelta(hours=4))
    await _sweep_and_send(world)

    sam = world.store.deliveries["2.4|support|fallback-1|email:sam@example.com"]
    assert (sam.audience, sam.via, sam.purpose.value, sam.status) == (
        ("shell:sam",),
        "fallback-1",
        "communique",
        DeliveryStatus.SENT,
    )
    assert _mails(world).count("email:sam@example.com") == 1
    mail = next(m for m in world.messenger.sent if m.target == "email:sam@example.com")
    assert mail.text == "Support: Acme Cloud 2.4 is live."


async def test_a_second_sweep_a_second_replica_and_a_second_engine_run_add_nothing() -> None:
    """Each fallback copy is written and sent exactly once, whoever sweeps and however often."""
    world = await _sent()
    world.clock.advance(timedelta(hours=4))
    desk = world.herald.desk
    other = Reminders(plan=desk.plan, uow=desk._uow, links=desk.links, clock=world.clock)
    await _sweep_and_send(world)
    before = len(world.store.deliveries)

    added = await world.herald.reminders.sweep() + await other.sweep()
    world.clock.advance(timedelta(hours=1))
    added += await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()

    assert added == 0
    assert len(world.store.deliveries) == before
    assert sorted(_mails(world)) == ["email:jo@example.com", "email:sam@example.com"]


async def test_an_acknowledgement_through_the_email_copy_counts_the_person_once() -> None:
    """Sam acknowledges through the e-mail's link: his one receipt; the group still expects him once."""
    world = await _sent()
    world.clock.advance(timedelta(hours=4))
    await _sweep_and_send(world)

    await _acknowledge(world, "2.4|support|fallback-1|email:sam@example.com", "email:sam@example.com")
    again = await world.do(
        Acknowledge(
            actor="shell:sam",
            message_ref=world.store.deliveries["2.4|support|shell:@sam"].message_ref or "",
            source=ReceiptSource.BUTTON,
        )
    )

    support = next(g for g in (await world.herald.desk.status("2.4")).groups if g.id == "support")
    assert (support.acknowledged, support.expected) == (1, 3)
    assert "shell:sam" not in support.not_acknowledged
    assert again.recorded is False


async def test_a_person_who_acknowledged_before_after_gets_no_fallback() -> None:
    """Jo acknowledged at 1h in the shell: at 4h only sam is written to."""
    world = await _sent()
    world.clock.advance(timedelta(hours=1))
    await _acknowledge(world, "2.4|support|shell:@jo", "shell:jo")
    world.clock.advance(timedelta(hours=3))
    await _sweep_and_send(world)
    assert [d.target for d in _fallbacks(world)] == ["email:sam@example.com"]


async def test_a_person_with_no_id_on_the_medium_gets_no_fallback() -> None:
    """Kim lists no e-mail: nothing is written for her, and she stays waiting in the shell."""
    world = await _sent()
    world.clock.advance(timedelta(hours=4))
    await _sweep_and_send(world)
    assert [d.audience for d in _fallbacks(world)] == [("shell:jo",), ("shell:sam",)]


async def test_a_person_the_group_already_reached_on_the_medium_gets_no_second_copy() -> None:
    """Sent to sam's shell DM and his mailbox, the group does not mail him again at 4h."""
    plan = PLAN.replace(
        'to = ["shell:@sam", "shell:@jo", "shell:@kim"]', 'to = ["shell:@sam", "email:sam@example.com"]'
    )
    world = await _sent(plan)
    world.clock.advance(timedelta(hours=4))
    await _sweep_and_send(world)
    assert _fallbacks(world) == []
    assert _mails(world) == ["email:sam@example.com"]


async def test_a_correction_asks_the_group_anew_and_the_steps_count_from_it() -> None:
    """Corrected at 3h, the 4h step falls due at 7h, and carries the corrected text."""
    world = await _sent()
    world.clock.advance(timedelta(hours=3))
    await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live (corrected).")
    await world.say("approve 2.4 support")
    await world.herald.engine.run_until_idle()

    world.clock.advance(timedelta(hours=1))
    await _sweep_and_send(world)
    assert _fallbacks(world) == []
    world.clock.advance(timedelta(hours=3))
    await _sweep_and_send(world)
    mail = next(m for m in world.messenger.sent if m.target == "email:sam@example.com")
    assert mail.text == "Support: Acme Cloud 2.4 is live (corrected)."


async def test_a_step_to_a_platform_herald_is_not_configured_for_is_skipped_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without e-mail configured, no copy is written; the skip is logged on the first sweep only."""
    world = await _sent(configured=(Platform.SHELL,))
    world.clock.advance(timedelta(hours=4))
    with caplog.at_level(logging.WARNING, logger="bot.service.fallback"):
        await _sweep_and_send(world)
        await _sweep_and_send(world)
    assert _fallbacks(world) == []
    assert [r.getMessage() for r in caplog.records if r.name == "bot.service.fallback"] == [
        "support's fallback step 1 is skipped: Herald is not configured for email"
    ]


async def test_a_later_step_reaches_those_still_waiting_on_its_own_medium() -> None:
    """At 8h the second step DMs in the shell whoever the e-mail did not move, under its own key."""
    plan = PLAN.replace('to = ["shell:@sam", "shell:@jo", "shell:@kim"]', 'to = ["email:sam@example.com"]').replace(
        'fallback = [{ after = "4h", to = "email" }]',
        'fallback = [{ after = "4h", to = "email" }, { after = "8h", to = "shell" }]',
    )
    world = await _sent(plan)
    world.clock.advance(timedelta(hours=8))
    await _sweep_and_send(world)
    assert [(d.key, d.audience) for d in _fallbacks(world)] == [("2.4|support|fallback-2|shell:@sam", ("shell:sam",))]


# -- the plan file -----------------------------------------------------------------------


def test_a_groups_fallback_steps_are_loaded_in_order() -> None:
    """Each table becomes a step: its ``after`` as a duration, its ``to`` as a medium."""
    plan = parse_plan(PLAN.replace('"4h", to = "email" }]', '"4h", to = "email" }, { after = "1d", to = "shell" }]'))
    assert plan.group("support").fallback == (
        FallbackStep(after=timedelta(hours=4), to=Medium.EMAIL),
        FallbackStep(after=timedelta(days=1), to=Medium.SHELL),
    )


def test_a_step_to_an_unknown_medium_is_refused() -> None:
    """``to`` names one of the media a person can be reached on."""
    text = plan_text(group("support", 'fallback = [{ after = "4h", to = "fax" }]'), tables=_PEOPLE)
    assert reported(
        problems_of(text), "group 'support': fallback: to: 'fax' is not a medium a person can be reached on"
    )


def test_steps_must_come_in_increasing_after() -> None:
    """A step no later than the one before it is refused, naming both."""
    steps = 'fallback = [{ after = "8h", to = "email" }, { after = "4h", to = "shell" }]'
    problems = problems_of(plan_text(group("support", steps), tables=_PEOPLE))
    expected = "group 'support': fallback: step 2 (after 4h) is not later than step 1 (after 8h)"
    assert reported(problems, expected)


def test_a_step_to_a_medium_nobody_in_people_lists_is_refused() -> None:
    """Fallback reaches people through ``[people]``: a medium on which it lists nobody reaches nobody."""
    problems = problems_of(plan_text(group("support", 'fallback = [{ after = "4h", to = "discord" }]'), tables=_PEOPLE))
    expected = "group 'support': fallback: to discord reaches nobody: no one in [people] lists a discord id"
    assert reported(problems, expected)


def test_fallback_on_a_group_that_asks_for_no_acknowledgement_is_refused() -> None:
    """With ``ack = "none"`` nobody is ever waiting, so a fallback could never happen."""
    lines = ('ack = "none"', 'fallback = [{ after = "4h", to = "email" }]')
    problems = problems_of(plan_text(group("support", *lines), tables=_PEOPLE))
    assert reported(problems, "group 'support': fallback: the group asks for no acknowledgement (ack = \"none\")")


def test_a_step_that_is_not_a_table_is_refused_in_heralds_words() -> None:
    """A medium written alone is told what a step looks like; a key left out or unknown is named."""
    problems = problems_of(plan_text(group("support", 'fallback = ["email", { to = "email", at = "4h" }]')))
    assert reported(problems, "group 'support': fallback: must be a list of tables such as { after = \"4h\"")
    assert reported(problems, "group 'support': fallback: after: is required")
    assert reported(problems, "group 'support': fallback: at: unknown field (allowed: after, to)")


async def test_a_person_who_ignores_slack_gets_the_email_at_the_fallback_time_and_counts_once() -> None:
    """Ann is on Slack and e-mail in [people]: no acknowledgement on Slack by 4h, so the e-mail goes; she
    acknowledges by its link and is counted once (1 of 1)."""
    plan = (
        'product = "Acme Cloud"\n[access]\nannouncers = ["shell:deployer"]\n'
        '[people.ann]\nslack = "U0ANN"\nemail = "ann@example.com"\nname = "Ann"\n'
        '[[group]]\nid = "support"\nto = ["slack:@U0ANN"]\nfallback = [{ after = "4h", to = "email" }]\n'
        'message = "Support: Acme Cloud {{ version }} is live."\n'
    )
    world = await _sent(plan, configured=(Platform.SLACK, Platform.EMAIL, Platform.SHELL))
    world.clock.advance(timedelta(hours=3))
    await _sweep_and_send(world)
    assert _mails(world) == []

    world.clock.advance(timedelta(hours=1))
    await _sweep_and_send(world)
    await _sweep_and_send(world)
    await _acknowledge(world, "2.4|support|fallback-1|email:ann@example.com", "email:ann@example.com")

    assert _mails(world) == ["email:ann@example.com"]
    support = (await world.herald.desk.status("2.4")).groups[0]
    assert (support.acknowledged, support.expected) == (1, 1)
