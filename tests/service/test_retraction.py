"""Retraction: a release withdrawn after sending began, approved like a send, every copy reached once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app.bootstrap import memory_storage, wire
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.destinations import Platform
from bot.domain.errors import CommandError
from bot.domain.release import ReleaseState
from bot.service.actions import communique_actions, release_actions
from bot.service.clock import FixedClock
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from storage.memory import MemoryStore
from tests.fakes import FakeDirectory, FakeMessenger
from tests.service.conftest import PLAN, World, notices
from tests.service.test_corrections import CHASED, FakeEditor

REASON = "rolled back: the migration failed on EU-west"


def _world(plan: str = CHASED) -> tuple[World, FakeEditor, FakeMessenger]:
    """Shell copies can be edited; Slack's here cannot (a stand-in for e-mail): they get a notice."""
    store, editor, mailer = MemoryStore(), FakeEditor(), FakeMessenger()
    directory = FakeDirectory(
        members={
            "shell:#engineering": ("shell:alex", "shell:kim"),
            "shell:#support": ("shell:sam", "shell:jo"),
            "slack:usergroup:S0SUPPORT": ("slack:U1", "slack:U2"),
        }
    )
    links = {Platform.SHELL: PlatformLink(directory, editor), Platform.SLACK: PlatformLink(directory, mailer)}
    clock = FixedClock()
    herald = wire(plan=parse_plan(plan), storage=memory_storage(store), links=links, clock=clock)
    return World(herald, store, editor, directory, clock), editor, mailer


async def _sending(world: World) -> None:
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")


async def test_a_retraction_waits_for_an_approver_other_than_its_author() -> None:
    """Proposed by the announcer: nothing changes; the announcer cannot approve it; the lead can."""
    world, editor, _ = _world()
    await _sending(world)
    await world.herald.engine.run_until_idle()

    proposed = await world.say(f"retract 2.4 {REASON}")
    own = await world.say("approve 2.4", actor="shell:deployer")

    assert "Nothing changes until an approver other than you approves it" in notices(proposed)[0]
    assert own.failed
    assert world.store.releases["2.4"].state is ReleaseState.SENT
    assert editor.edits == []

    approved = await world.say("approve 2.4", actor="shell:lead")

    assert not approved.failed, notices(approved)
    assert world.store.releases["2.4"].state is ReleaseState.RETRACTED


async def test_once_retracted_every_copy_is_struck_through_or_notified_once_and_reminders_stop() -> None:
    """Shell copies are edited (struck through under the reason), Slack DMs get one notice; no reminder follows."""
    world, editor, mailer = _world()
    await _sending(world)
    await world.herald.engine.run_until_idle()
    copies = {d.key: d for d in world.store.deliveries.values() if d.purpose is Purpose.COMMUNIQUE}

    await world.say(f"retract 2.4 {REASON}")
    await world.say("approve 2.4", actor="shell:lead")
    for _ in range(2):
        await world.herald.engine.run_until_idle()

    edited = sorted(ref for ref, _ in editor.edits)
    assert edited == sorted(d.message_ref or "" for d in copies.values() if d.target.startswith("shell:"))
    assert all(m.text.startswith(f"**Retracted:** {REASON}\n\n~~") and m.retracted == REASON for _, m in editor.edits)
    assert all(m.ack.value == "none" for _, m in editor.edits)  # nothing left to acknowledge
    withdrawn = [m for m in mailer.sent if m.purpose is Purpose.RETRACTION]
    assert sorted(m.target for m in withdrawn) == ["slack:@U1", "slack:@U2"]
    assert withdrawn[0].text.startswith(f"Retracted: {REASON}\n\nThis withdraws the earlier Customer Support message")
    retractions = [d for d in world.store.deliveries.values() if d.purpose is Purpose.RETRACTION]
    assert {d.status for d in retractions} == {DeliveryStatus.SENT}
    assert len(retractions) == len(copies)

    world.clock.advance(timedelta(hours=3))
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()
    assert [d for d in world.store.deliveries.values() if d.purpose in (Purpose.REMINDER, Purpose.ESCALATION)] == []


async def test_what_had_not_gone_out_is_stopped_not_sent() -> None:
    """Retracted mid-send: support (waiting for engineering) never goes out; its rows are cancelled, not failed."""
    world, editor, mailer = _world(PLAN.replace('approvers = ["shell:lead"]', "approvers = []"))
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.herald.engine.run_once()  # engineering goes out first

    reply = await world.say(f"retract 2.4 {REASON}")
    for _ in range(2):
        await world.herald.engine.run_until_idle()

    assert "Stopped 4 pending messages" in notices(reply)[0]
    assert [m for m in (*editor.sent, *mailer.sent) if m.group_id == "support"] == []
    support = [d for d in world.store.deliveries.values() if d.group_id == "support"]
    assert {d.status for d in support} == {DeliveryStatus.CANCELLED}
    assert all((d.error or "").startswith("retracted: ") for d in support)
    engineering = [d for d in world.store.deliveries.values() if d.purpose is Purpose.RETRACTION]
    assert {d.group_id for d in engineering} == {"engineering"}
    assert {d.status for d in engineering} == {DeliveryStatus.SENT}


async def test_a_waiting_retraction_can_be_dropped_and_nothing_is_withdrawn() -> None:
    """/release cancel while a retraction waits drops it; the release stays sent."""
    world, editor, _ = _world()
    await _sending(world)
    await world.herald.engine.run_until_idle()
    await world.say(f"retract 2.4 {REASON}")

    dropped = await world.say("cancel 2.4", actor="shell:lead")
    approved = await world.say("approve 2.4", actor="shell:lead")

    assert "Dropped the retraction" in notices(dropped)[0]
    assert approved.failed or "already approved" in notices(approved)[0]
    assert world.store.releases["2.4"].state is ReleaseState.SENT
    assert editor.edits == []


async def test_retracting_needs_a_reason_and_a_release_that_went_out() -> None:
    """No reason: the usage; a release still being validated: cancel it instead."""
    world, _, _ = _world()
    await world.ready_to_send()

    with pytest.raises(CommandError, match="Say why it is withdrawn"):
        await world.say("retract 2.4")
    early = await world.say(f"retract 2.4 {REASON}")

    assert notices(early) == ["Release 2.4 is still being validated; nothing has been sent, so cancel it instead."]


async def test_a_retracted_releases_walkthrough_offers_no_button() -> None:
    """Once retracted, neither the release's message nor any communiqué offers a step: there is none left."""
    world, _, _ = _world(PLAN.replace('approvers = ["shell:lead"]', "approvers = []"))
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.herald.engine.run_until_idle()
    await world.say(f"retract 2.4 {REASON}")

    view = await world.herald.desk.view(world.store.releases["2.4"])

    assert release_actions(view) == ()
    assert [communique_actions(c) for c in view.communiques] == [(), ()]


async def test_a_reschedule_tells_every_copy_the_new_go_live_and_why() -> None:
    """The go-live moves: copies say "Rescheduled to …: REASON" over the struck text; the mails say it too."""
    world, editor, mailer = _world(PLAN.replace('approvers = ["shell:lead"]', "approvers = []"))
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.herald.engine.run_until_idle()

    reply = await world.say("reschedule 2.4 2026-12-09T14:00 the database migration needs a longer window")
    for _ in range(2):
        await world.herald.engine.run_until_idle()

    assert notices(reply)[0].startswith("Rescheduled 2.4 to 2026-12-09 14:00 UTC: the database migration")
    assert editor.edits
    assert all(
        m.text.startswith("**Rescheduled to 2026-12-09 14:00 UTC:** the database migration needs a longer window")
        for _, m in editor.edits
    )
    withdrawn = [m for m in mailer.sent if m.purpose is Purpose.RETRACTION]
    assert all(m.text.startswith("Rescheduled to 2026-12-09 14:00 UTC: the database") for m in withdrawn)
    status = await world.herald.desk.status("2.4")
    assert (status.retraction or "").startswith("Rescheduled to 2026-12-09 14:00 UTC by deployer at ")
    assert world.store.releases["2.4"].state is ReleaseState.RETRACTED


async def test_a_reschedule_to_a_time_that_has_passed_is_refused() -> None:
    """The new go-live must be later than now."""
    world, editor, _ = _world(PLAN.replace('approvers = ["shell:lead"]', "approvers = []"))
    await world.ready_to_send()
    await world.say("send 2.4")

    reply = await world.say("reschedule 2.4 2020-01-01T00:00 too late")

    assert reply.failed
    assert "has passed" in notices(reply)[0]
    assert editor.edits == []
