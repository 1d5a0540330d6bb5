"""The send loop: each target once, in the plan's order, every outcome recorded."""

from __future__ import annotations

import asyncio

from bot.domain.delivery import DeliveryStatus
from bot.domain.errors import RetryableDeliveryError
from bot.domain.release import ReleaseState
from bot.service.sender import Sender
from tests.fakes import permanent
from tests.service.conftest import World


async def _approved(world: World) -> None:
    await world.ready_to_send()
    await world.say("send 2.4")
    reply = await world.say("approve 2.4", actor="shell:lead")
    assert not reply.failed


async def test_every_target_gets_its_communique_once(world: World) -> None:
    """One message per target, with the approved text, and the release ends sent."""
    await _approved(world)
    await world.herald.sender.run_until_idle()
    assert sorted(world.messenger.targets()) == sorted(d.target for d in world.store.deliveries.values())
    assert {m.text for m in world.messenger.sent if m.group_id == "support"} == {"Support: Acme Cloud 2.4 is live."}
    assert world.store.releases["2.4"].state is ReleaseState.SENT


async def test_running_the_sender_again_sends_nothing_more(world: World) -> None:
    """A retried or restarted send loop finds nothing pending and sends nothing."""
    await _approved(world)
    await world.herald.sender.run_until_idle()
    count = len(world.messenger.sent)
    assert await world.herald.sender.run_until_idle() == 0
    assert len(world.messenger.sent) == count


async def test_concurrent_senders_never_send_a_target_twice(world: World) -> None:
    """Two workers on the same ledger split the work; no target is sent twice."""
    await _approved(world)
    other = Sender(plan=world.herald.plan, uow=world.herald.desk._uow, links=world.herald.desk.links, clock=world.clock)
    await asyncio.gather(world.herald.sender.run_until_idle(), other.run_until_idle())
    targets = world.messenger.targets()
    assert len(targets) == len(set(targets)) == 6


async def test_groups_wait_for_the_groups_they_come_after(world: World) -> None:
    """Support's communiqué leaves only once engineering's has gone out."""
    await _approved(world)
    await world.herald.sender.run_until_idle()
    groups = [m.group_id for m in world.messenger.sent]
    assert groups == sorted(groups, key=lambda g: g != "engineering")


async def test_a_group_waits_while_its_prerequisite_is_unsettled(world: World) -> None:
    """While an engineering delivery is still pending, nothing of support is ready."""
    await _approved(world)
    sender = world.herald.sender
    first_pass = sender._ready(list(world.store.deliveries.values()))
    assert {d.group_id for d in first_pass} == {"engineering"}


async def test_channels_go_before_dms_within_a_group(world: World) -> None:
    """Within a group the channel post leaves before the direct messages."""
    await _approved(world)
    await world.herald.sender.run_until_idle()
    support = [m.kind.value for m in world.messenger.sent if m.group_id == "support"]
    assert support[0] == "channel"
    assert set(support[1:]) == {"dm"}


async def test_a_permanent_failure_is_recorded_and_the_rest_still_go(world: World) -> None:
    """A blocked DM fails with its reason; every other target is still sent and the release completes."""
    world.messenger.errors["slack:@U2"] = permanent("cannot send messages to this user")
    await _approved(world)
    await world.herald.sender.run_until_idle()
    failed = world.store.deliveries["2.4|support|slack:@U2"]
    assert (failed.status, failed.error, failed.permanent) == (
        DeliveryStatus.FAILED,
        "cannot send messages to this user",
        True,
    )
    assert len(world.messenger.sent) == 5
    assert world.store.releases["2.4"].state is ReleaseState.SENT
    status = await world.herald.desk.status("2.4")
    support = next(g for g in status.groups if g.id == "support")
    assert (support.sent, support.failed, support.failures) == (
        3,
        1,
        (("slack:@U2", "cannot send messages to this user"),),
    )


async def test_a_retryable_failure_is_kept_as_retryable(world: World) -> None:
    """A timeout is recorded as a failure that a retry may fix."""
    world.messenger.errors["shell:@sam"] = RetryableDeliveryError("timed out")
    await _approved(world)
    await world.herald.sender.run_until_idle()
    failed = world.store.deliveries["2.4|support|shell:@sam"]
    assert (failed.status, failed.permanent) == (DeliveryStatus.FAILED, False)


async def test_an_adapter_crash_is_recorded_not_lost(world: World) -> None:
    """An unexpected exception in an adapter ends as a recorded failure."""
    world.messenger.errors["shell:@kim"] = RuntimeError("boom")
    await _approved(world)
    await world.herald.sender.run_until_idle()
    failed = world.store.deliveries["2.4|engineering|shell:@kim"]
    assert (failed.status, failed.error) == (DeliveryStatus.FAILED, "unexpected error: RuntimeError")


async def test_a_delivery_interrupted_mid_send_is_not_sent_again(world: World) -> None:
    """After a crash, a delivery left 'sending' is marked failed for a person to decide, never resent."""
    await _approved(world)
    key = "2.4|engineering|shell:@kim"
    async with world.herald.desk._uow() as uow:
        await uow.deliveries.claim(key, world.clock.now())
        await uow.commit()
    assert await world.herald.sender.recover() == 1
    await world.herald.sender.run_until_idle()
    assert "shell:@kim" not in world.messenger.targets()
    assert "interrupted while sending" in (world.store.deliveries[key].error or "")


async def test_a_group_is_held_when_its_prerequisite_went_nowhere(world: World) -> None:
    """If every engineering delivery failed, support's communiqué is held, not sent."""
    world.messenger.errors["shell:#engineering"] = permanent("channel archived")
    world.messenger.errors["shell:@kim"] = permanent("account inactive")
    await _approved(world)
    await world.herald.sender.run_until_idle()
    assert world.messenger.targets() == []
    status = await world.herald.desk.status("2.4")
    support = next(g for g in status.groups if g.id == "support")
    assert (support.pending, support.sent) == (4, 0)
    assert world.store.releases["2.4"].state is ReleaseState.SENDING
