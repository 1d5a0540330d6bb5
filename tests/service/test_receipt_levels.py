"""Receipt levels: what completes a reader of a group is delivered, read, or acknowledged (the default)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app.bootstrap import memory_storage
from bot.domain.commands import Acknowledge
from bot.domain.delivery import Purpose
from bot.domain.errors import PlanError
from bot.domain.receipt import ReceiptSource
from bot.service.planfile import parse_plan
from tests.service.conftest import PLAN, World, make_world

_CHASE = 'ack_within = "2h"\nremind_every = "30m"\nescalate_to = ["shell:@lead"]'


def _at(level: str) -> World:
    """The conftest plan, support asked for ``level`` and chased every 30 minutes."""
    return make_world(
        PLAN.replace('after = ["engineering"]', f'after = ["engineering"]\nrequire = "{level}"\n{_CHASE}')
    )


async def _sent(world: World) -> None:
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    await world.herald.engine.run_until_idle()


async def _read_by(world: World, target: str) -> None:
    """The copy to ``target`` reported displayed by its reader's mail client (an MDN)."""
    async with memory_storage(world.store).uow() as uow:
        delivery = await uow.deliveries.get(f"2.4|support|{target}")
        assert delivery is not None
        await uow.deliveries.update(delivery.read(world.clock.now()))
        await uow.commit()


def _reminded(world: World) -> list[str]:
    return sorted(d.target for d in world.store.deliveries.values() if d.purpose is Purpose.REMINDER)


async def test_at_read_a_read_receipt_completes_a_reader_and_only_the_others_are_reminded() -> None:
    """Sam's copy is read (an MDN): sam is done; the delivered-only readers are reminded, sam is not."""
    world = _at("read")
    await _sent(world)
    await _read_by(world, "shell:@sam")

    support = next(g for g in (await world.herald.desk.status("2.4")).groups if g.id == "support")
    world.clock.advance(timedelta(minutes=31))
    await world.herald.reminders.sweep()

    assert support.figures().endswith("· 1/4 read, 0 acknowledged")
    assert "shell:sam" not in support.not_acknowledged
    assert _reminded(world) == ["shell:@jo", "slack:@U1", "slack:@U2"]


async def test_an_acknowledgement_meets_the_read_level_too() -> None:
    """A receipt meets every level: jo, who acknowledged, counts as read."""
    world = _at("read")
    await _sent(world)
    ref = world.store.deliveries["2.4|support|shell:#support"].message_ref or ""
    await world.do(Acknowledge(actor="shell:jo", message_ref=ref, source=ReceiptSource.BUTTON))

    support = next(g for g in (await world.herald.desk.status("2.4")).groups if g.id == "support")

    assert (support.met, support.acknowledged) == (1, 1)
    assert "shell:jo" not in support.not_acknowledged


async def test_at_delivered_every_sent_copy_completes_its_reader_and_nobody_is_reminded() -> None:
    """Delivered is enough: all four are done once sent, and no reminder or escalation follows."""
    world = _at("delivered")
    await _sent(world)

    support = next(g for g in (await world.herald.desk.status("2.4")).groups if g.id == "support")
    for minutes in (31, 61, 121):
        world.clock.advance(timedelta(minutes=minutes))
        await world.herald.reminders.sweep()

    assert support.figures().endswith("· 4/4 delivered, 0 acknowledged")
    assert support.not_acknowledged == ()
    assert [d for d in world.store.deliveries.values() if d.purpose in (Purpose.REMINDER, Purpose.ESCALATION)] == []


async def test_a_receipt_gate_counts_the_earlier_groups_level() -> None:
    """Customers waits for 100% of support at its level (delivered): it goes once support is sent."""
    plan = PLAN.replace('after = ["engineering"]', 'after = ["engineering"]\nrequire = "delivered"') + (
        '\n[[group]]\nid = "customers"\nto = ["shell:@cy"]\n'
        'after = [{ group = "support", acknowledged = "all" }]\nmessage = "Acme Cloud {{ version }} is live."\n'
    )
    world = make_world(plan)
    await _sent(world)
    await world.herald.engine.run_until_idle()

    assert any(m.group_id == "customers" for m in world.messenger.sent)


def test_require_with_no_receipt_asked_is_a_plan_error() -> None:
    """``require`` means nothing when the group asks for no receipt, and an unknown level is named."""
    with pytest.raises(PlanError) as none:
        parse_plan(PLAN.replace('ack = "optional"', 'ack = "none"\nrequire = "read"'))
    with pytest.raises(PlanError) as unknown:
        parse_plan(PLAN.replace('ack = "optional"', 'ack = "optional"\nrequire = "seen"'))
    assert "group 'engineering': require: has no effect with ack = \"none\"" in str(none.value)
    assert 'group \'engineering\': require: \'seen\' is not one of "delivered", "read", "acknowledged"' in str(
        unknown.value
    )


async def test_resend_unread_sends_again_to_exactly_those_reached_and_not_yet_at_the_level_once() -> None:
    """Read level: sam read it; jo, U1 and U2 were reached but have not: they get it again, once for two presses."""
    world = _at("read")
    await _sent(world)
    await _read_by(world, "shell:@sam")

    first = await world.say("resend 2.4 support unread")
    second = await world.say("resend 2.4 support unread")  # a double press in the same moment
    await world.herald.engine.run_until_idle()

    assert "Sending again to 3 unread" in str(first.views)
    assert not second.failed
    assert _reminded(world) == ["shell:@jo", "slack:@U1", "slack:@U2"]
    again = [m for m in world.messenger.sent if m.purpose is Purpose.REMINDER]
    assert len(again) == 3
    assert all("Support: Acme Cloud 2.4 is live." in m.text for m in again)
