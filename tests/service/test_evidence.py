"""The evidence pack: the plan as announced, the approvals, every delivery, receipt and refusal, from the ledger."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.commands import Acknowledge
from bot.domain.communique import ReviewState
from bot.domain.errors import AuditChainBroken, NotFound
from bot.domain.receipt import ReceiptSource
from bot.service.evidence import CURRENT_PLAN, EvidencePack, ReviewStep, evidence_pack
from bot.service.planfile import parse_plan
from storage.memory import MemoryUnitOfWork
from tests.service.conftest import PLAN, World, notices


async def _reviewed_and_sent(world: World) -> dict[str, str]:
    """Announce 2.4, send Support's text back, edit and approve it, refuse one step, send, and deliver."""
    for line, actor in (
        ("announce 2.4", "shell:deployer"),
        ("confirm 2.4", "shell:deployer"),
        ("reject 2.4 support too terse", "shell:lead"),
        ("edit 2.4 support Support: Acme Cloud 2.4 is live; notes at https://example.com/releases/2.4", "shell:dana"),
        ("approve 2.4 all", "shell:deployer"),
        ("send 2.4", "shell:deployer"),
        ("approve 2.4", "shell:lead"),
    ):
        reply = await world.say(line, actor)
        assert not reply.failed, notices(reply)
    await world.herald.engine.run_until_idle()
    return {d.target: d.message_ref or "" for d in world.store.deliveries.values()}


async def _pack(world: World, version: str = "2.4") -> EvidencePack:
    return await world.herald.desk.evidence(version)


async def _acknowledge(world: World, person: str, ref: str, source: ReceiptSource = ReceiptSource.BUTTON) -> None:
    await world.do(Acknowledge(actor=person, message_ref=ref, source=source))


async def test_the_pack_keeps_the_plan_the_release_was_announced_under(world: World) -> None:
    """The plan's text and SHA-256 are kept at announce time and shown as announced."""
    await world.say("announce 2.4")

    pack = await _pack(world)

    assert pack.plan.as_announced
    assert pack.plan.label == "as announced"
    assert pack.plan.text == PLAN
    assert pack.plan.sha256 == hashlib.sha256(PLAN.encode()).hexdigest()


async def test_a_plan_changed_after_the_announcement_does_not_change_the_pack(world: World) -> None:
    """The pack shows the plan as it was at announce time, whatever plan Herald runs with now."""
    await world.say("announce 2.4")
    later = parse_plan(PLAN.replace('name = "Engineering"', 'name = "Platform Engineering"'))

    async with MemoryUnitOfWork(world.store) as uow:
        pack = await evidence_pack(uow, later, "2.4", now=world.clock.now())

    assert pack.plan.text == PLAN
    assert pack.plan.as_announced


async def test_a_release_announced_before_snapshots_shows_the_current_plan_marked_so(world: World) -> None:
    """Without a kept plan, the pack gives the current plan's hash, marked "current, not as announced"."""
    await world.say("announce 2.4")
    world.store.plans.clear()  # as a release announced before migration 0009

    pack = await _pack(world)

    assert not pack.plan.as_announced
    assert pack.plan.label == CURRENT_PLAN == "current, not as announced"
    assert pack.plan.sha256 == hashlib.sha256(PLAN.encode()).hexdigest()


async def test_an_unknown_release_has_no_pack(world: World) -> None:
    """Asking for a release never announced raises NotFound with a sentence."""
    with pytest.raises(NotFound, match=r"Release 9\.9 has not been announced"):
        await _pack(world, "9.9")


async def test_each_communique_shows_its_revisions_checks_and_who_reviewed_them(world: World) -> None:
    """Sent back at revision 1, edited to revision 2, approved at revision 2: each step with its actor and time."""
    await _reviewed_and_sent(world)

    pack = await _pack(world)

    support = next(c for c in pack.communiques if c.group_id == "support")
    assert (support.revision, support.review, support.reviewed_by) == (2, ReviewState.APPROVED, "shell:deployer")
    assert support.sha256 == hashlib.sha256(support.text.encode()).hexdigest()
    now = world.clock.now()
    assert support.steps == (
        ReviewStep(at=now, actor="shell:lead", step="sent back", revision=1, note="too terse"),
        ReviewStep(at=now, actor="shell:dana", step="edited", revision=2),
        ReviewStep(at=now, actor="shell:deployer", step="approved", revision=2),
    )
    assert support.checks
    assert all(check.ok for check in support.checks)
    assert {c.code for c in support.checks} >= {"rendered", "placeholders", "version"}
    engineering = next(c for c in pack.communiques if c.group_id == "engineering")
    assert [(s.step, s.revision) for s in engineering.steps] == [("approved", 1)]


async def test_the_release_steps_name_who_confirmed_and_who_gave_the_final_approval(world: World) -> None:
    """Announced, confirmed, send requested and the final approval, each with its person; the trail lists every step."""
    await _reviewed_and_sent(world)

    pack = await _pack(world)

    steps = {m.step: m.actor for m in pack.milestones}
    assert steps["announced"] == steps["confirmed live"] == steps["send requested"] == "shell:deployer"
    assert steps["final approval"] == "shell:lead"
    assert [e.action for e in pack.trail][:3] == ["announce_release", "confirm_release", "send_back_communique"]
    assert all(e.action != "acknowledge" for e in pack.trail)


async def test_every_delivery_of_the_ledger_is_in_the_pack(world: World) -> None:
    """The pack lists each delivery once, as the ledger holds it."""
    await _reviewed_and_sent(world)

    pack = await _pack(world)

    assert list(pack.deliveries) == list(world.store.deliveries.values())
    assert len({d.key for d in pack.deliveries}) == len(pack.deliveries) > 0


async def test_receipts_say_whether_they_came_on_time_and_outsiders_are_apart(world: World) -> None:
    """A receipt after the group's deadline is late; one from outside the audience is listed apart, not counted."""
    refs = await _reviewed_and_sent(world)
    await _acknowledge(world, "shell:sam", refs["shell:@sam"])
    await _acknowledge(world, "shell:newcomer", refs["shell:#support"], ReceiptSource.REACTION)
    world.clock.advance(timedelta(hours=24, minutes=1))
    await _acknowledge(world, "slack:U1", refs["slack:@U1"])

    pack = await _pack(world)

    assert [(r.receipt.person, r.late) for r in pack.receipts] == [("shell:sam", False), ("slack:U1", True)]
    assert [(r.receipt.person, r.receipt.outside) for r in pack.outside] == [("shell:newcomer", True)]
    deadline = pack.deadlines["support"]
    assert pack.receipts[0].receipt.at <= deadline < pack.receipts[1].receipt.at
    support = next(g for g in pack.status.groups if g.id == "support")
    assert (support.late, support.outside) == (sum(r.late for r in pack.receipts), len(pack.outside))


async def test_refusals_are_listed_with_who_and_why(world: World) -> None:
    """A refused step (the announcer giving the final approval) is in the pack with its reason."""
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:deployer")

    pack = await _pack(world)

    assert [(e.actor, e.action) for e in pack.refusals] == [("shell:deployer", "approve_release")]
    assert "approver" in pack.refusals[0].detail


async def test_the_counts_are_those_of_status(world: World) -> None:
    """The pack's status is exactly the status report, names included."""
    refs = await _reviewed_and_sent(world)
    await _acknowledge(world, "shell:sam", refs["shell:@sam"])

    pack = await _pack(world)

    assert pack.status == await world.herald.desk.status("2.4")
    assert pack.status.as_json() == (await world.herald.desk.status("2.4")).as_json()


async def test_the_pack_keeps_the_head_of_the_verified_audit_chain(world: World) -> None:
    """The audit head is the hash of the release's last entry, the one the desk vouches for."""
    await _reviewed_and_sent(world)

    pack = await _pack(world)

    entries = [e for e in world.store.audit if e.version == "2.4"]
    assert pack.audit_head == entries[-1].hash == await world.herald.desk.audit_head("2.4")
    assert pack.audit_entries == len(entries)


async def test_a_broken_audit_chain_is_never_vouched_for(world: World) -> None:
    """An entry changed after it was written stops the export with a sentence naming it."""
    await _reviewed_and_sent(world)
    world.store.audit[2] = replace(world.store.audit[2], detail="nobody sent anything back")

    with pytest.raises(AuditChainBroken, match="broken at entry 3"):
        await _pack(world)
