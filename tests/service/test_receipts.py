"""Receipts: once per person per communiqué, only from the people it was meant for."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.shell.render import render_status
from bot.domain.commands import Acknowledge
from bot.domain.receipt import Receipt, ReceiptSource
from bot.service.views import StatusView
from storage.memory import _Receipts
from tests.service.conftest import PLAN, World, make_world, notices


async def _sent(world: World) -> dict[str, str]:
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    await world.herald.engine.run_until_idle()
    return {d.target: d.message_ref or "" for d in world.store.deliveries.values()}


def _ack(person: str, ref: str, source: ReceiptSource = ReceiptSource.BUTTON) -> Acknowledge:
    return Acknowledge(actor=person, message_ref=ref, source=source)


async def test_an_acknowledgement_is_counted_with_the_live_tally(world: World) -> None:
    """The person is thanked with the group's count of acknowledged of expected."""
    refs = await _sent(world)
    reply = await world.do(_ack("shell:sam", refs["shell:@sam"]))
    assert notices(reply) == ["Thanks, sam: acknowledgement recorded (Customer Support: 1 of 4 acknowledged)."]


async def test_a_person_is_counted_once_whatever_the_source(world: World) -> None:
    """A reaction, a click and a retry of either count as one receipt."""
    refs = await _sent(world)
    await world.do(_ack("shell:sam", refs["shell:#support"], ReceiptSource.REACTION))
    await world.do(_ack("shell:sam", refs["shell:@sam"]))
    again = await world.do(_ack("shell:sam", refs["shell:@sam"]))
    assert notices(again) == ["Your acknowledgement was already recorded (Customer Support: 1 of 4 acknowledged)."]
    assert len(world.store.receipts) == 1


async def test_simultaneous_duplicates_are_counted_once(world: World) -> None:
    """The same click delivered three times at once is one receipt."""
    refs = await _sent(world)
    await asyncio.gather(*(world.do(_ack("slack:U1", refs["slack:@U1"])) for _ in range(3)))
    assert list(world.store.receipts) == [("2.4", "support", "slack:U1")]


async def test_someone_else_acknowledging_a_dm_is_not_counted(world: World) -> None:
    """An acknowledgement on a DM from anyone but its recipient is refused."""
    refs = await _sent(world)
    reply = await world.do(_ack("shell:mallory", refs["shell:@sam"]))
    assert notices(reply) == ["That message was not addressed to you, so your acknowledgement is not counted."]
    assert world.store.receipts == {}
    refusal = world.store.audit[-1]
    assert (refusal.actor, refusal.version, refusal.outcome.value) == ("shell:mallory", "2.4", "refused")


async def test_a_channel_members_reaction_counts_for_the_channels_group(world: World) -> None:
    """Reacting to the channel post records a receipt for that group."""
    refs = await _sent(world)
    await world.do(_ack("shell:jo", refs["shell:#support"], ReceiptSource.REACTION))
    status = await world.herald.desk.status("2.4")
    support = next(g for g in status.groups if g.id == "support")
    assert (support.acknowledged, support.expected) == (1, 4)
    assert "shell:jo" not in support.not_acknowledged


async def test_a_reaction_from_outside_the_audience_is_recorded_but_not_counted(world: World) -> None:
    """Someone not in #support when it was sent, nor otherwise in the group, is listed apart, never counted."""
    refs = await _sent(world)
    before = next(g for g in (await world.herald.desk.status("2.4")).groups if g.id == "support")

    reply = await world.do(_ack("shell:newcomer", refs["shell:#support"], ReceiptSource.REACTION))
    again = await world.do(_ack("shell:newcomer", refs["shell:#support"]))

    assert notices(reply) == [
        "Thanks, newcomer: noted. This communiqué was not meant for you (you were not in the channel's audience "
        "when it was sent), so it is not counted."
    ]
    assert reply.recorded is False
    assert notices(again)[0].startswith("Your acknowledgement was already recorded")
    status = await world.herald.desk.status("2.4")
    support = next(g for g in status.groups if g.id == "support")
    assert (support.acknowledged, support.expected, support.outside) == (before.acknowledged, before.expected, 1)
    assert support.not_acknowledged == before.not_acknowledged
    assert "0/4 acknowledged, also by 1 outside the audience" in support.figures()
    assert "also acknowledged by 1 outside the audience (not counted)" in render_status(status)
    assert status.as_json()["groups"][1]["acknowledged_outside"] == 1
    assert world.store.receipts[("2.4", "support", "shell:newcomer")].outside is True
    assert world.store.audit[-1].detail == "support by reaction, outside the audience (not counted)"


async def test_a_group_member_reacting_in_a_channel_they_were_not_in_is_counted(world: World) -> None:
    """U1 gets Support's DM; reacting on the #support post (not one of its members) still counts for Support."""
    refs = await _sent(world)
    reply = await world.do(_ack("slack:U1", refs["shell:#support"], ReceiptSource.REACTION))
    assert reply.recorded is True
    support = next(g for g in (await world.herald.desk.status("2.4")).groups if g.id == "support")
    assert (support.acknowledged, support.outside) == (1, 0)


async def test_a_channel_whose_members_were_not_listed_counts_everyone(world: World) -> None:
    """A channel post with no listed audience cannot tell insiders from outsiders: every reaction counts."""
    refs = await _sent(world)
    key = next(k for k, d in world.store.deliveries.items() if d.target == "shell:#engineering")
    world.store.deliveries[key] = replace(world.store.deliveries[key], audience=())
    await world.do(_ack("shell:newcomer", refs["shell:#engineering"], ReceiptSource.REACTION))
    engineering = next(g for g in (await world.herald.desk.status("2.4")).groups if g.id == "engineering")
    assert (engineering.acknowledged, engineering.outside) == (1, 0)


async def test_a_receipt_after_the_deadline_counts_and_the_report_says_it_came_late(world: World) -> None:
    """Late receipts are receipts: counted, and the status report says how many came after the deadline (24 h)."""
    refs = await _sent(world)
    await world.do(_ack("shell:sam", refs["shell:@sam"]))
    world.clock.advance(timedelta(hours=24, minutes=1))
    reply = await world.do(_ack("slack:U1", refs["slack:@U1"]))
    assert reply.recorded is True
    status = await world.herald.desk.status("2.4")
    support = next(g for g in status.groups if g.id == "support")
    assert (support.acknowledged, support.late) == (2, 1)
    assert "2/4 acknowledged (1 late)" in support.figures()
    assert "acknowledged after the deadline: 1" in render_status(status)


async def test_an_unknown_message_gets_a_sentence(world: World) -> None:
    """Reacting to a message Herald did not send explains there is nothing to acknowledge."""
    await _sent(world)
    reply = await world.do(_ack("shell:sam", "ref-999"))
    assert notices(reply) == ["That message is not a communiqué Herald sent, so there is nothing to acknowledge."]


async def test_status_reports_every_group_as_json(world: World) -> None:
    """The --json status has the documented shape and the real counts."""
    refs = await _sent(world)
    await world.do(_ack("shell:sam", refs["shell:@sam"]))
    await world.do(_ack("shell:alex", refs["shell:#engineering"], ReceiptSource.REACTION))
    data = (await world.herald.desk.status("2.4")).as_json()
    assert data["version"] == "2.4"
    assert data["state"] == "sent"
    support = data["groups"][1]
    assert {
        k: support[k] for k in ("id", "name", "targets", "sent", "failed", "pending", "acknowledged", "expected")
    } == {
        "id": "support",
        "name": "Customer Support",
        "targets": 4,
        "sent": 4,
        "failed": 0,
        "pending": 0,
        "acknowledged": 1,
        "expected": 4,
    }
    assert support["not_acknowledged"] == ["shell:jo", "slack:U1", "slack:U2"]
    engineering = data["groups"][0]
    assert (engineering["acknowledged"], engineering["expected"]) == (1, 2)


async def test_acknowledgements_arriving_together_are_each_answered_and_counted_once(world: World) -> None:
    """A burst of receipts, repeats included, is recorded once per person with one audit entry each."""
    refs = await _sent(world)
    burst = [
        _ack("shell:sam", refs["shell:@sam"]),
        _ack("slack:U1", refs["slack:@U1"]),
        _ack("shell:sam", refs["shell:#support"], ReceiptSource.REACTION),
        _ack("slack:U2", refs["slack:@U2"]),
        _ack("slack:U1", refs["slack:@U1"]),
        _ack("shell:mallory", refs["slack:@U2"]),
    ]
    audited = len(world.store.audit)
    replies = await asyncio.gather(*(world.do(replace(a, with_tally=False)) for a in burst))
    assert [notices(r) for r in replies] == [
        ["Thanks, sam: acknowledgement recorded."],
        ["Thanks, slack:U1: acknowledgement recorded."],
        ["Thanks, sam: acknowledgement already recorded."],
        ["Thanks, slack:U2: acknowledgement recorded."],
        ["Thanks, slack:U1: acknowledgement already recorded."],
        ["That message was not addressed to you, so your acknowledgement is not counted."],
    ]
    assert sorted(world.store.receipts) == [
        ("2.4", "support", "shell:sam"),
        ("2.4", "support", "slack:U1"),
        ("2.4", "support", "slack:U2"),
    ]
    entries = world.store.audit[audited:]
    assert sorted((e.actor, e.outcome.value) for e in entries) == [
        ("shell:mallory", "refused"),
        ("shell:sam", "done"),
        ("slack:U1", "done"),
        ("slack:U2", "done"),
    ]


async def test_a_receipt_whose_transaction_failed_is_recorded_on_the_next_try(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the database fails under a group of receipts, each is tried again and kept once."""
    refs = await _sent(world)
    failures = iter([ConnectionError("the database went away")])
    add_all = _Receipts.add_all

    async def flaky(self: _Receipts, receipts: Sequence[Receipt]) -> list[bool]:
        if (failure := next(failures, None)) is not None:
            raise failure
        return await add_all(self, receipts)

    monkeypatch.setattr(_Receipts, "add_all", flaky)
    replies = await asyncio.gather(
        world.do(_ack("shell:sam", refs["shell:@sam"])), world.do(_ack("slack:U1", refs["slack:@U1"]))
    )
    # Each is thanked once its retry commits; whether the two retries share a group is the
    # scheduler's call, so the tally in each thanks may be 1 or 2.
    said = [notices(r) for r in replies]
    assert [len(s) for s in said] == [1, 1]
    assert said[0][0].startswith("Thanks, sam: acknowledgement recorded (Customer Support: ")
    assert said[1][0].startswith("Thanks, slack:U1: acknowledgement recorded (Customer Support: ")
    status = await world.herald.desk.status("2.4")
    assert next(g for g in status.groups if g.id == "support").acknowledged == 2
    assert sorted(world.store.receipts) == [("2.4", "support", "shell:sam"), ("2.4", "support", "slack:U1")]


async def test_status_names_people_only_to_those_the_plan_lets_see_them(world: World) -> None:
    """/release status from someone outside announcers, approvers and viewers gives counts, no names."""
    await _sent(world)
    outsider = await world.say("status 2.4", actor="shell:mallory")
    [view] = [v for v in outsider.views if isinstance(v, StatusView)]
    assert all(g.not_acknowledged == () for g in view.groups)
    assert notices(outsider) == [
        "Who has and has not acknowledged is shown to the plan's announcers, approvers and viewers."
    ]
    insider = await world.say("status 2.4", actor="shell:lead")
    [view] = [v for v in insider.views if isinstance(v, StatusView)]
    assert any(g.not_acknowledged for g in view.groups)


async def test_a_viewer_in_the_plan_sees_the_names() -> None:
    """[access] viewers may read who has not acknowledged without announcing or approving."""
    world = make_world(
        PLAN.replace('approvers = ["shell:lead"]', 'approvers = ["shell:lead"]\nviewers = ["shell:vic"]')
    )
    await _sent(world)
    reply = await world.say("status 2.4", actor="shell:vic")
    [view] = [v for v in reply.views if isinstance(v, StatusView)]
    assert any(g.not_acknowledged for g in view.groups)
