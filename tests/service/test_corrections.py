"""Corrections: after sending, a corrected text is checked, approved by a second person, and reaches every copy once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.app.bootstrap import memory_storage, wire
from bot.domain.commands import Acknowledge, parse_release_command
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.destinations import Platform
from bot.domain.errors import PlanError
from bot.domain.receipt import ReceiptSource
from bot.service.clock import FixedClock
from bot.service.planfile import parse_plan
from bot.service.ports import OutgoingMessage, PlatformLink
from storage.memory import MemoryStore
from tests.fakes import FakeDirectory, FakeMessenger
from tests.service.conftest import PLAN, World, notices

CHASED = PLAN.replace(
    'after = ["engineering"]',
    'after = ["engineering"]\nack_within = "2h"\nremind_every = "30m"\nescalate_to = ["shell:@lead"]',
)


@dataclass
class FakeEditor(FakeMessenger):
    """A messenger whose copies can be edited in place (as Slack's and Discord's can), counting each edit."""

    edits: list[tuple[str, OutgoingMessage]] = field(default_factory=list)
    marks: dict[str, str] = field(default_factory=dict)  # ref -> the delivery key it carries

    async def send(self, message: OutgoingMessage) -> str:
        ref = await super().send(message)
        self.marks[ref] = message.delivery_key
        return ref

    async def edit(self, message: OutgoingMessage, ref: str) -> None:
        self.edits.append((ref, message))
        self.marks[ref] = message.delivery_key

    async def carries(self, message: OutgoingMessage, ref: str) -> bool:
        return self.marks.get(ref) == message.delivery_key


def _world() -> tuple[World, FakeEditor, FakeMessenger]:
    """Shell copies can be edited; Slack's here cannot (a stand-in for e-mail): they get follow-ups."""
    store = MemoryStore()
    editor, mailer = FakeEditor(), FakeMessenger()
    directory = FakeDirectory(
        members={
            "shell:#engineering": ("shell:alex", "shell:kim"),
            "shell:#support": ("shell:sam", "shell:jo"),
            "slack:usergroup:S0SUPPORT": ("slack:U1", "slack:U2"),
        }
    )
    links = {Platform.SHELL: PlatformLink(directory, editor), Platform.SLACK: PlatformLink(directory, mailer)}
    clock = FixedClock()
    herald = wire(plan=parse_plan(CHASED), storage=memory_storage(store), links=links, clock=clock)
    return World(herald, store, editor, directory, clock), editor, mailer


async def _sent() -> tuple[World, FakeEditor, FakeMessenger]:
    world, editor, mailer = _world()
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    await world.herald.engine.run_until_idle()
    return world, editor, mailer


async def test_editing_after_sending_proposes_a_correction_that_changes_nothing_until_approved() -> None:
    """An edit once sent is a correction proposal: checked, shown, but no copy changes before its approval."""
    world, editor, mailer = await _sent()
    sent_before = len(mailer.sent)

    reply = await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live. Runbook: https://example.com/rb")

    assert not reply.failed, notices(reply)
    assert "Correction of support proposed" in notices(reply)[0]
    assert [d for d in world.store.deliveries.values() if d.purpose is Purpose.CORRECTION] == []
    release = world.store.releases["2.4"]
    assert release.communiques["support"].text == "Support: Acme Cloud 2.4 is live."
    assert editor.edits == []
    assert len(mailer.sent) == sent_before


async def test_the_person_who_wrote_a_correction_cannot_approve_it_under_four_eyes() -> None:
    """The plan names approvers, so the corrector's own approval is refused with the reason."""
    world, _, _ = await _sent()
    await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live (corrected).")

    reply = await world.say("approve 2.4 support")

    assert reply.failed
    assert "someone else must approve it" in notices(reply)[0]


async def test_an_approved_correction_edits_each_editable_copy_once_and_follows_up_the_others_once() -> None:
    """Shell copies are edited in place once each; Slack DMs (not editable here) get one follow-up each."""
    world, editor, mailer = await _sent()
    copies = {d.key: d for d in world.store.deliveries.values() if d.group_id == "support"}
    await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live. Runbook: https://example.com/rb")

    reply = await world.say("approve 2.4 support", actor="shell:lead")
    await world.herald.engine.run_until_idle()
    await world.herald.engine.run_until_idle()  # nothing more: each correction went once

    assert not reply.failed, notices(reply)
    edited = sorted(ref for ref, _ in editor.edits)
    assert edited == sorted(d.message_ref or "" for d in copies.values() if d.target.startswith("shell:"))
    assert all(m.correction == 2 and "Runbook" in m.text for _, m in editor.edits)
    follow_ups = [m for m in mailer.sent if m.purpose is Purpose.CORRECTION]
    assert sorted(m.target for m in follow_ups) == ["slack:@U1", "slack:@U2"]
    assert all(m.text.startswith("Correction: this replaces the earlier Customer Support message") for m in follow_ups)
    assert world.store.releases["2.4"].state.value == "sent"
    support = next(g for g in (await world.herald.desk.status("2.4")).groups if g.id == "support")
    assert "revision 2, corrected by deployer: 4/4 copies corrected" in support.figures()


async def test_a_correction_asks_the_group_anew_and_keeps_the_earlier_receipts() -> None:
    """Receipts of revision 1 are kept and listed per revision; the group's count starts again at 0."""
    world, _, _ = await _sent()
    sam = world.store.deliveries["2.4|support|shell:@sam"].message_ref or ""
    await world.do(Acknowledge(actor="shell:sam", message_ref=sam, source=ReceiptSource.BUTTON))
    await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live (corrected).")
    await world.say("approve 2.4 support", actor="shell:lead")
    await world.herald.engine.run_until_idle()

    status = await world.herald.desk.status("2.4")
    async with memory_storage(world.store).uow() as uow:
        earlier = await uow.receipts.per_revision("2.4")
    support = next(g for g in status.groups if g.id == "support")
    assert support.acknowledged == 0
    assert earlier == {"support": {1: 1}}
    assert "0/4 acknowledged, 1 had acknowledged revision 1" in support.figures()

    again = await world.do(Acknowledge(actor="shell:sam", message_ref=sam, source=ReceiptSource.BUTTON))
    assert not again.failed, notices(again)
    status = await world.herald.desk.status("2.4")
    assert next(g for g in status.groups if g.id == "support").acknowledged == 1


async def test_reminders_start_over_from_the_correction() -> None:
    """A correction an hour in: its own reminder round falls due 30 minutes after it, not at the old times."""
    world, _, _ = await _sent()
    world.clock.advance(timedelta(minutes=31))
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()
    first = sum(d.purpose is Purpose.REMINDER for d in world.store.deliveries.values())
    assert first > 0
    await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live (corrected).")
    await world.say("approve 2.4 support", actor="shell:lead")
    await world.herald.engine.run_until_idle()

    world.clock.advance(timedelta(minutes=20))
    await world.herald.reminders.sweep()
    assert sum(d.purpose is Purpose.REMINDER for d in world.store.deliveries.values()) == first
    world.clock.advance(timedelta(minutes=11))
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()
    reminders = [d for d in world.store.deliveries.values() if d.purpose is Purpose.REMINDER]
    assert len(reminders) == 2 * first
    assert any(d.via.startswith("r2-reminder") for d in reminders)


async def test_a_copy_still_on_its_way_is_not_edited_but_goes_out_with_the_corrected_text() -> None:
    """A correction approved while a copy is pending: that copy carries revision 2; its correction does nothing."""
    world, editor, _ = _world()
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    await world.herald.engine.run_once()  # engineering goes first; support waits for it
    await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live (corrected).")
    await world.say("approve 2.4 support", actor="shell:lead")

    await world.herald.engine.run_until_idle()
    await world.herald.engine.run_until_idle()

    support = [m for m in editor.sent if m.group_id == "support" and m.purpose is Purpose.COMMUNIQUE]
    assert support
    assert all("(corrected)" in m.text for m in support)
    assert editor.edits == []
    corrections = [d for d in world.store.deliveries.values() if d.purpose is Purpose.CORRECTION]
    assert corrections
    assert all(d.status is DeliveryStatus.SENT and (d.report or "").startswith("not needed") for d in corrections)


async def test_edit_after_sending_is_a_correction_and_its_failing_checks_block_the_approval() -> None:
    """/release edit on a sent release proposes a correction; a text that fails a check cannot be approved."""
    world, editor, _ = await _sent()

    proposed = await world.herald.desk.handle(parse_release_command("edit 2.4 support New text here.", "shell:dana"))
    approved = await world.say("approve 2.4 support", actor="shell:lead")

    assert notices(proposed) == [
        "Correction of support proposed: its checks fail: the text does not mention version 2.4."
    ]
    assert approved.failed
    assert "cannot be approved until its checks pass" in notices(approved)[0]
    assert world.store.releases["2.4"].communiques["support"].revision == 1
    assert editor.edits == []


async def test_dropping_a_correction_keeps_every_copy_as_it_is() -> None:
    """Send back on a sent release drops the waiting correction; approving afterwards finds nothing to approve."""
    world, editor, _ = await _sent()
    await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live (corrected).")

    dropped = await world.say("reject 2.4 support not needed after all", actor="shell:lead")
    approved = await world.say("approve 2.4 support", actor="shell:lead")

    assert not dropped.failed, notices(dropped)
    assert approved.failed
    assert "No correction of the support communiqué is waiting" in notices(approved)[0]
    assert editor.edits == []


async def test_the_evidence_pack_keeps_the_replaced_text_the_earlier_receipts_and_the_correction_steps() -> None:
    """An auditor sees revision 1's text, sam's receipt of it apart, and who proposed and approved revision 2."""
    world, _, _ = await _sent()
    sam = world.store.deliveries["2.4|support|shell:@sam"].message_ref or ""
    await world.do(Acknowledge(actor="shell:sam", message_ref=sam, source=ReceiptSource.BUTTON))
    await world.say("correct 2.4 support Support: Acme Cloud 2.4 is live (corrected).")
    await world.say("approve 2.4 support", actor="shell:lead")

    pack = await world.herald.desk.evidence("2.4")

    assert [(e.group_id, e.revision, e.text) for e in pack.earlier_texts] == [
        ("support", 1, "Support: Acme Cloud 2.4 is live.")
    ]
    assert [(r.receipt.person, r.receipt.superseded) for r in pack.receipts] == [("shell:sam", 1)]
    support = next(c for c in pack.communiques if c.group_id == "support")
    assert [(s.step, s.actor, s.revision) for s in support.steps][-2:] == [
        ("correction proposed", "shell:deployer", 1),
        ("correction approved", "shell:lead", 2),
    ]
    assert support.text == "Support: Acme Cloud 2.4 is live (corrected)."


MAILED = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]
approvers = ["shell:lead"]

[[group]]
id = "customers"
name = "Customers"
to = ["email:kim@example.com", "shell:@sam"]
message = "Acme Cloud {{ version }} is live."
"""


async def test_a_receipt_through_a_mail_of_the_replaced_text_is_kept_as_that_and_not_counted() -> None:
    """A mail cannot be corrected in place: acknowledging it after the correction records revision 1, not 2."""
    store, mailer = MemoryStore(), FakeMessenger()
    links = {p: PlatformLink(FakeDirectory(), mailer) for p in (Platform.EMAIL, Platform.SHELL)}
    herald = wire(plan=parse_plan(MAILED), storage=memory_storage(store), links=links, clock=FixedClock())
    for line, actor in (
        ("announce 2.4", "shell:deployer"),
        ("confirm 2.4", "shell:deployer"),
        ("approve 2.4 all", "shell:lead"),
        ("send 2.4", "shell:deployer"),
        ("approve 2.4", "shell:lead"),
        ("correct 2.4 customers Acme Cloud 2.4 is live (corrected).", "shell:deployer"),
        ("approve 2.4 customers", "shell:lead"),
    ):
        await herald.engine.run_until_idle()
        reply = await herald.desk.handle(parse_release_command(line, actor))
        assert not reply.failed, notices(reply)
    await herald.engine.run_until_idle()
    mail = store.deliveries["2.4|customers|email:kim@example.com"]

    reply = await herald.desk.handle(
        Acknowledge(actor="email:kim@example.com", message_ref="", delivery_key=mail.key, source=ReceiptSource.LINK)
    )

    assert "a correction has since replaced" in notices(reply)[0]
    assert reply.recorded is False
    customers = (await herald.desk.status("2.4")).groups[0]
    assert customers.acknowledged == 0
    assert customers.earlier == ((1, 1),)
    follow_up = store.deliveries["2.4|customers|correction-2|email:kim@example.com"]
    again = await herald.desk.handle(
        Acknowledge(
            actor="email:kim@example.com", message_ref="", delivery_key=follow_up.key, source=ReceiptSource.LINK
        )
    )
    assert again.recorded is True
    assert (await herald.desk.status("2.4")).groups[0].acknowledged == 1


async def test_with_notify_each_chat_copy_also_gets_a_short_notice_once() -> None:
    """``corrections = { notify = true }``: besides the edit, one notice per chat copy, none per mailbox."""
    store, editor = MemoryStore(), FakeEditor()
    plan = parse_plan(MAILED.replace('message = "Acme', 'corrections = { notify = true }\nmessage = "Acme'))
    links = {p: PlatformLink(FakeDirectory(), editor) for p in (Platform.EMAIL, Platform.SHELL)}
    herald = wire(plan=plan, storage=memory_storage(store), links=links, clock=FixedClock())
    for line, actor in (
        ("announce 2.4", "shell:deployer"),
        ("confirm 2.4", "shell:deployer"),
        ("approve 2.4 all", "shell:lead"),
        ("send 2.4", "shell:deployer"),
        ("approve 2.4", "shell:lead"),
        ("correct 2.4 customers Acme Cloud 2.4 is live (corrected).", "shell:deployer"),
        ("approve 2.4 customers", "shell:lead"),
    ):
        await herald.engine.run_until_idle()
        assert not (await herald.desk.handle(parse_release_command(line, actor))).failed
    await herald.engine.run_until_idle()
    await herald.engine.run_until_idle()

    notices_sent = [m for m in editor.sent if m.purpose is Purpose.NOTICE]
    assert [m.target for m in notices_sent] == ["shell:@sam"]
    assert notices_sent[0].text == (
        "Correction: the Customers message about Acme Cloud 2.4 has been corrected (revision 2). Please read it again."
    )
    assert sorted(ref for ref, _ in editor.edits) == sorted(
        d.message_ref or "" for d in store.deliveries.values() if d.purpose is Purpose.COMMUNIQUE
    )
    customers = (await herald.desk.status("2.4")).groups[0]
    assert (customers.corrected, customers.correcting) == (2, 0)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("{ notifyy = true }", "group 'customers': corrections: notifyy: unknown field (allowed: notify)"),
        ('{ notify = "yes" }', "group 'customers': corrections: notify: must be true or false"),
        ("true", "group 'customers': corrections: must be a table"),
    ],
)
def test_a_wrong_corrections_table_is_told_in_one_sentence(table: str, expected: str) -> None:
    """``corrections`` takes one key, ``notify``, true or false."""
    with pytest.raises(PlanError) as raised:
        parse_plan(MAILED.replace('message = "Acme', f'corrections = {table}\nmessage = "Acme'))
    assert f"  - {expected}" in str(raised.value)
