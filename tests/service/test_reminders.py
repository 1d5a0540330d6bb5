"""Chasing receipts: reminders every remind_every until ack_within, then one escalation."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.commands import Acknowledge
from bot.domain.delivery import Purpose
from bot.domain.receipt import ReceiptSource
from bot.service.reminders import Reminders
from tests.service.conftest import PLAN, World, make_world, notices

CHASED = PLAN.replace(
    'after = ["engineering"]',
    'after = ["engineering"]\nack_within = "2h"\nremind_every = "30m"\nescalate_to = ["shell:@lead"]',
)


async def _sent() -> World:
    world = make_world(CHASED)
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    await world.herald.engine.run_until_idle()
    return world


def _chasers(world: World, purpose: Purpose) -> list[str]:
    return sorted(d.target for d in world.store.deliveries.values() if d.purpose is purpose)


async def _sweep_and_send(world: World) -> None:
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()


async def test_nobody_is_reminded_before_remind_every_has_passed() -> None:
    """Right after sending, a sweep writes no reminder."""
    world = await _sent()
    world.clock.advance(timedelta(minutes=29))
    await _sweep_and_send(world)
    assert _chasers(world, Purpose.REMINDER) == []


async def test_those_who_have_not_acknowledged_are_reminded_by_dm() -> None:
    """After remind_every, each person still expected gets one reminder; those who acknowledged do not."""
    world = await _sent()
    sam = world.store.deliveries["2.4|support|shell:@sam"].message_ref or ""
    await world.do(Acknowledge(actor="shell:sam", message_ref=sam, source=ReceiptSource.BUTTON))
    world.clock.advance(timedelta(minutes=30))
    await _sweep_and_send(world)
    assert _chasers(world, Purpose.REMINDER) == ["shell:@jo", "slack:@U1", "slack:@U2"]
    reminder = next(m for m in world.messenger.sent if m.purpose is Purpose.REMINDER)
    assert reminder.text.startswith("Reminder: please acknowledge the Customer Support communiqué for Acme Cloud 2.4.")


async def test_sweeping_twice_or_from_two_replicas_reminds_once() -> None:
    """Every round's reminders are written once, whoever sweeps and however often."""
    world = await _sent()
    world.clock.advance(timedelta(minutes=31))
    desk = world.herald.desk
    other = Reminders(plan=desk.plan, uow=desk._uow, links=desk.links, clock=world.clock)
    await world.herald.reminders.sweep()
    await other.sweep()
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()
    reminded = [m.target for m in world.messenger.sent if m.purpose is Purpose.REMINDER]
    assert sorted(reminded) == ["shell:@jo", "shell:@sam", "slack:@U1", "slack:@U2"]


async def test_rounds_missed_while_down_are_sent_once_not_in_a_burst() -> None:
    """After 1h45m of downtime, each person gets one reminder (the latest round), not three."""
    world = await _sent()
    world.clock.advance(timedelta(minutes=105))
    await _sweep_and_send(world)
    reminded = [m.target for m in world.messenger.sent if m.purpose is Purpose.REMINDER]
    assert reminded.count("shell:@sam") == 1
    assert {d.via for d in world.store.deliveries.values() if d.purpose is Purpose.REMINDER} == {"reminder-3"}


async def test_a_new_round_reminds_again() -> None:
    """The second round, an hour in, reminds the people who are still silent."""
    world = await _sent()
    world.clock.advance(timedelta(minutes=30))
    await _sweep_and_send(world)
    world.clock.advance(timedelta(minutes=30))
    await _sweep_and_send(world)
    reminded = [m.target for m in world.messenger.sent if m.purpose is Purpose.REMINDER]
    assert reminded.count("slack:@U1") == 2


async def test_acknowledging_a_reminder_counts() -> None:
    """The Acknowledge button on a reminder records the receipt for the group."""
    world = await _sent()
    world.clock.advance(timedelta(minutes=30))
    await _sweep_and_send(world)
    ref = world.store.deliveries["2.4|support|reminder-1|slack:@U1"].message_ref or ""
    reply = await world.do(Acknowledge(actor="slack:U1", message_ref=ref, source=ReceiptSource.BUTTON))
    assert notices(reply) == ["Thanks, slack:U1: acknowledgement recorded (Customer Support: 1 of 4 acknowledged)."]


async def test_at_the_deadline_the_silent_are_escalated_once() -> None:
    """After ack_within, escalate_to gets one message naming who has not acknowledged; reminders stop."""
    world = await _sent()
    world.clock.advance(timedelta(hours=2))
    await _sweep_and_send(world)
    world.clock.advance(timedelta(minutes=30))
    await _sweep_and_send(world)
    escalations = [m for m in world.messenger.sent if m.purpose is Purpose.ESCALATION]
    assert [m.target for m in escalations] == ["shell:@lead"]
    assert escalations[0].text == (
        "Escalation: 4 of the Customer Support recipients have not acknowledged Acme Cloud 2.4 within 2h: "
        "jo, sam, slack:U1, slack:U2."
    )
    assert _chasers(world, Purpose.REMINDER) == []
    status = await world.herald.desk.status("2.4")
    assert next(g for g in status.groups if g.id == "support").escalated is True


async def test_nobody_is_escalated_when_everyone_acknowledged() -> None:
    """A group whose people all acknowledged is not escalated."""
    world = await _sent()
    for person, target in (
        ("shell:sam", "shell:@sam"),
        ("shell:jo", "shell:#support"),
        ("slack:U1", "slack:@U1"),
        ("slack:U2", "slack:@U2"),
    ):
        ref = world.store.deliveries[f"2.4|support|{target}"].message_ref or ""
        await world.do(Acknowledge(actor=person, message_ref=ref, source=ReceiptSource.REACTION))
    world.clock.advance(timedelta(hours=3))
    await _sweep_and_send(world)
    assert _chasers(world, Purpose.ESCALATION) == []


async def test_optional_groups_are_never_chased() -> None:
    """Engineering's acknowledgement is optional: no reminders, no escalation."""
    world = await _sent()
    world.clock.advance(timedelta(days=2))
    await _sweep_and_send(world)
    assert {d.group_id for d in world.store.deliveries.values() if d.purpose is not Purpose.COMMUNIQUE} <= {"support"}


async def test_remind_now_reminds_the_silent_at_once() -> None:
    """/release remind 2.4 sends reminders straight away."""
    world = await _sent()
    reply = await world.say("remind 2.4")
    assert notices(reply) == ["Sending 4 reminders to those who have not acknowledged."]
    await world.herald.engine.run_until_idle()
    assert sorted(m.target for m in world.messenger.sent if m.purpose is Purpose.REMINDER) == [
        "shell:@jo",
        "shell:@sam",
        "slack:@U1",
        "slack:@U2",
    ]


async def test_escalation_messages_ask_for_no_acknowledgement() -> None:
    """Reacting to an escalation is not a receipt."""
    world = await _sent()
    world.clock.advance(timedelta(hours=2))
    await _sweep_and_send(world)
    ref = world.store.deliveries["2.4|support|escalation|shell:@lead"].message_ref or ""
    reply = await world.do(Acknowledge(actor="shell:lead", message_ref=ref, source=ReceiptSource.REACTION))
    assert notices(reply) == ["No acknowledgement is asked for that message."]
