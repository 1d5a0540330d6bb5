"""Receipt-gated order: a group held until an earlier group's acknowledgements reach a threshold."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.commands import Acknowledge
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.receipt import ReceiptSource
from bot.service.engine import DeliveryEngine
from bot.service.views import GroupStatus
from tests.service.conftest import PLAN, World, make_world, notices

_PLAIN = 'after = ["engineering"]'


def _gated(gate: str) -> World:
    """The conftest plan, support waiting for engineering's receipts (engineering expects alex and kim).

    An escalating gate tells support's ``escalate_to``: the lead.
    """
    told = '\nescalate_to = ["shell:@lead"]' if "escalate" in gate else ""
    return make_world(PLAN.replace(_PLAIN, f"after = [{{ group = {gate} }}]{told}"))


async def _approved(world: World) -> None:
    await world.ready_to_send()
    await world.say("send 2.4")
    assert not (await world.say("approve 2.4", actor="shell:lead")).failed


async def _ack(world: World, person: str, target: str = "shell:#engineering") -> None:
    ref = world.store.deliveries[f"2.4|engineering|{target}"].message_ref or ""
    await world.do(Acknowledge(actor=person, message_ref=ref, source=ReceiptSource.BUTTON))


def _support_sent(world: World) -> int:
    return sum(m.group_id == "support" and m.purpose is Purpose.COMMUNIQUE for m in world.messenger.sent)


async def _support(world: World) -> GroupStatus:
    status = await world.herald.desk.status("2.4")
    return next(g for g in status.groups if g.id == "support")


async def test_a_gated_group_waits_for_the_threshold_after_the_earlier_group_went_out() -> None:
    """Engineering goes out; support stays pending until all of engineering has acknowledged."""
    world = _gated('"engineering", acknowledged = "all"')
    await _approved(world)
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 0
    await _ack(world, "shell:alex")
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 0
    await _ack(world, "shell:kim", "shell:@kim")
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 4


async def test_status_says_what_a_held_group_waits_for() -> None:
    """A held group's figures name the earlier group, its acknowledged of expected, and what it needs."""
    world = _gated('"engineering", acknowledged = "80%"')
    await _approved(world)
    await world.herald.engine.run_until_idle()
    await _ack(world, "shell:alex")
    support = await _support(world)
    assert support.figures() == (
        "0/4 sent, 4 pending · waiting for engineering: 1/2 acknowledged (needs 2) · 0/4 acknowledged"
    )
    assert support.as_json()["waiting_for"] == [
        {"group": "engineering", "acknowledged": 1, "expected": 2, "needed": 2, "timed_out": False}
    ]


async def test_a_count_threshold_lets_the_group_go_at_that_many() -> None:
    """``acknowledged = 1`` releases support at the first acknowledgement."""
    world = _gated('"engineering", acknowledged = 1')
    await _approved(world)
    await world.herald.engine.run_until_idle()
    await _ack(world, "shell:kim", "shell:@kim")
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 4
    assert (await _support(world)).holds == ()


async def test_a_receipt_wakes_the_engine() -> None:
    """Recording an acknowledgement tells the engine to look for work, so a held group goes out promptly."""
    world = _gated('"engineering", acknowledged = 1')
    await _approved(world)
    await world.herald.engine.run_until_idle()
    wake = world.herald.engine._wake
    wake.clear()
    await _ack(world, "shell:alex")
    assert wake.is_set()


async def test_after_the_timeout_the_group_goes_anyway_by_default() -> None:
    """With ``timeout = "4h"`` and nobody acknowledging, support leaves four hours after engineering went out."""
    world = _gated('"engineering", acknowledged = "all", timeout = "4h"')
    await _approved(world)
    await world.herald.engine.run_until_idle()
    world.clock.advance(timedelta(hours=3, minutes=59))
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 0
    world.clock.advance(timedelta(minutes=1))
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 4


async def test_an_escalating_timeout_keeps_the_group_held_and_says_so() -> None:
    """``on_timeout = "escalate"``: past the timeout support stays held, status says so, and receipts still free it."""
    world = _gated('"engineering", acknowledged = "all", timeout = "4h", on_timeout = "escalate"')
    await _approved(world)
    await world.herald.engine.run_until_idle()
    await _ack(world, "shell:alex")
    world.clock.advance(timedelta(hours=5))
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 0
    assert (await _support(world)).figures() == (
        "0/4 sent, 4 pending · held: engineering reached 1/2 of 2 needed by its 4h timeout; "
        "it goes once engineering reaches 2 · 0/4 acknowledged"
    )
    await _ack(world, "shell:kim", "shell:@kim")
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 4


def _escalations(world: World) -> list[str]:
    return [m.text for m in world.messenger.sent if m.purpose is Purpose.ESCALATION]


async def test_an_escalating_timeout_tells_escalate_to_once_with_how_to_send_it() -> None:
    """Past the timeout the lead gets one message naming the hold and the command; later sweeps add none."""
    world = _gated('"engineering", acknowledged = "all", timeout = "4h", on_timeout = "escalate"')
    await _approved(world)
    await world.herald.engine.run_until_idle()
    await _ack(world, "shell:alex")
    world.clock.advance(timedelta(hours=3))
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()
    assert _escalations(world) == []

    world.clock.advance(timedelta(hours=2))
    for _ in range(3):
        await world.herald.reminders.sweep()
        await world.herald.engine.run_until_idle()

    assert _escalations(world) == [
        "Escalation: Customer Support is held: engineering reached 1/2 of 2 needed by its 4h timeout; it goes once "
        "engineering reaches 2 (Acme Cloud 2.4). To send it now anyway: /release send 2.4 support"
    ]
    assert [m.target for m in world.messenger.sent if m.purpose is Purpose.ESCALATION] == ["shell:@lead"]
    assert _support_sent(world) == 0


async def test_send_with_a_group_sends_a_held_group_now_once_and_it_is_audited() -> None:
    """``/release send 2.4 support`` by an approver: support goes at once, its hold gone; a repeat changes nothing."""
    world = _gated('"engineering", acknowledged = "all", timeout = "4h", on_timeout = "escalate"')
    await _approved(world)
    await world.herald.engine.run_until_idle()

    sent = await world.say("send 2.4 support", actor="shell:lead")
    again = await world.say("send 2.4 support", actor="shell:lead")
    await world.herald.engine.run_until_idle()

    assert notices(sent) == ["Sending support now: it no longer waits for the earlier group's acknowledgements."]
    assert "already released" in notices(again)[0]
    assert _support_sent(world) == 4
    assert (await _support(world)).holds == ()
    entry = next(e for e in world.store.audit if e.action == "request_send" and "by hand" in e.detail)
    assert entry.actor == "shell:lead"
    world.clock.advance(timedelta(hours=5))
    await world.herald.reminders.sweep()
    assert [d for d in world.store.deliveries.values() if "held-by" in d.key] == []


async def test_send_with_a_group_is_refused_for_a_group_nothing_holds_or_an_outsider() -> None:
    """Engineering waits for no receipts; someone not in the plan may not release anything."""
    world = _gated('"engineering", acknowledged = "all"')
    await _approved(world)

    plain = await world.say("send 2.4 engineering", actor="shell:lead")
    outsider = await world.say("send 2.4 support", actor="shell:mallory")

    assert notices(plain) == ["engineering waits for no earlier group's receipts, so nothing holds it."]
    assert notices(outsider) == ["Only announcers and approvers can send a held group."]


async def test_a_new_engine_on_the_same_store_sends_a_released_group_once() -> None:
    """A crash between claiming and sending the released group: the next engine sends each target once."""
    world = _gated('"engineering", acknowledged = 1')
    await _approved(world)
    await world.herald.engine.run_until_idle()
    await _ack(world, "shell:alex")
    key = "2.4|support|shell:@sam"
    async with world.herald.desk._uow() as uow:  # the first engine claimed it, then died
        now = world.clock.now()
        await uow.deliveries.claim([key], now, now + timedelta(seconds=60), "dead-engine")
        await uow.commit()
    desk = world.herald.desk
    restarted = DeliveryEngine(plan=desk.plan, uow=desk._uow, links=desk.links, clock=world.clock)
    await restarted.run_until_idle()
    world.clock.advance(timedelta(seconds=61))
    await restarted.run_until_idle()
    await world.herald.engine.run_until_idle()
    targets = [m.target for m in world.messenger.sent if m.group_id == "support"]
    assert sorted(targets) == sorted(set(targets))
    assert len(targets) == 4
    assert world.store.deliveries[key].status is DeliveryStatus.SENT


async def test_a_plain_after_still_waits_only_for_the_sending(world: World) -> None:
    """``after = ["engineering"]`` keeps its meaning: support goes once engineering is sent, no receipts needed."""
    await _approved(world)
    await world.herald.engine.run_until_idle()
    assert _support_sent(world) == 4
