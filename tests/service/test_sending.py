"""The delivery engine: each target once, in the plan's order, every outcome recorded."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.domain.delivery import DeliveryStatus
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.domain.release import ReleaseState
from bot.service.engine import DeliveryEngine
from bot.service.ports import OutgoingMessage
from bot.service.retry import RetryPolicy
from tests.fakes import permanent
from tests.service.conftest import PLAN, World, make_world


async def _approved(world: World) -> None:
    await world.ready_to_send()
    await world.say("send 2.4")
    reply = await world.say("approve 2.4", actor="shell:lead")
    assert not reply.failed


def _engine(world: World, **options: object) -> DeliveryEngine:
    desk = world.herald.desk
    return DeliveryEngine(plan=desk.plan, uow=desk._uow, links=desk.links, clock=world.clock, **options)  # type: ignore[arg-type]


async def test_every_target_gets_its_communique_once(world: World) -> None:
    """One message per target, with the approved text, and the release ends sent."""
    await _approved(world)
    await world.herald.engine.run_until_idle()
    assert sorted(world.messenger.targets()) == sorted(d.target for d in world.store.deliveries.values())
    assert {m.text for m in world.messenger.sent if m.group_id == "support"} == {"Support: Acme Cloud 2.4 is live."}
    assert world.store.releases["2.4"].state is ReleaseState.SENT


async def test_running_the_engine_again_sends_nothing_more(world: World) -> None:
    """A retried or restarted engine finds nothing due and sends nothing."""
    await _approved(world)
    await world.herald.engine.run_until_idle()
    count = len(world.messenger.sent)
    assert await world.herald.engine.run_until_idle() == 0
    assert len(world.messenger.sent) == count


async def test_concurrent_engines_never_send_a_target_twice(world: World) -> None:
    """Two workers on the same ledger split the work; no target is sent twice."""
    await _approved(world)
    await asyncio.gather(world.herald.engine.run_until_idle(), _engine(world).run_until_idle())
    targets = world.messenger.targets()
    assert len(targets) == len(set(targets)) == 6


async def test_groups_wait_for_the_groups_they_come_after(world: World) -> None:
    """While engineering's communiqué is unsettled, nothing of support is claimed."""
    await _approved(world)
    await world.herald.engine.run_once()
    assert {m.group_id for m in world.messenger.sent} == {"engineering"}
    await world.herald.engine.run_until_idle()
    assert [m.group_id for m in world.messenger.sent].count("support") == 4


async def test_channels_go_before_dms_within_a_group(world: World) -> None:
    """Within a group the channel post leaves before the direct messages."""
    await _approved(world)
    await world.herald.engine.run_until_idle()
    support = [m.kind.value for m in world.messenger.sent if m.group_id == "support"]
    assert support[0] == "channel"
    assert set(support[1:]) == {"dm"}


async def test_a_permanent_failure_is_recorded_and_the_rest_still_go(world: World) -> None:
    """A blocked DM fails at once with its reason; every other target is sent and the release completes."""
    world.messenger.errors["slack:@U2"] = permanent("cannot send messages to this user")
    await _approved(world)
    await world.herald.engine.run_until_idle()
    failed = world.store.deliveries["2.4|support|slack:@U2"]
    assert (failed.status, failed.error, failed.permanent, failed.attempts) == (
        DeliveryStatus.FAILED,
        "cannot send messages to this user",
        True,
        1,
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


async def test_a_retryable_failure_is_tried_again_after_a_backoff(world: World) -> None:
    """A timeout puts the delivery back for later; once the backoff passes it is sent."""
    world.messenger.script["shell:@sam"] = [RetryableDeliveryError("timed out")]
    await _approved(world)
    await world.herald.engine.run_until_idle()
    waiting = world.store.deliveries["2.4|support|shell:@sam"]
    assert (waiting.status, waiting.error) == (DeliveryStatus.PENDING, "timed out")
    assert waiting.not_before is not None
    assert waiting.not_before > world.clock.now()
    world.clock.advance(timedelta(seconds=5))
    await world.herald.engine.run_until_idle()
    assert world.store.deliveries["2.4|support|shell:@sam"].status is DeliveryStatus.SENT
    assert world.messenger.calls.count("shell:@sam") == 2


async def test_retries_give_up_after_the_limit(world: World) -> None:
    """A target that keeps timing out fails after the policy's attempts, with the count in the reason."""
    world.messenger.errors["shell:@sam"] = RetryableDeliveryError("timed out")
    engine = _engine(world, retry=RetryPolicy(max_attempts=3))
    await _approved(world)
    for _ in range(5):
        await engine.run_until_idle()
        world.clock.advance(timedelta(minutes=10))
    failed = world.store.deliveries["2.4|support|shell:@sam"]
    assert (failed.status, failed.error) == (DeliveryStatus.FAILED, "timed out (gave up after 3 attempts)")
    assert world.messenger.calls.count("shell:@sam") == 3


async def test_a_429_waits_for_retry_after_and_does_not_count_as_an_attempt(world: World) -> None:
    """A rate-limited send comes back after Retry-After, and its attempt is not spent."""
    world.messenger.script["shell:@kim"] = [RateLimited("ratelimited", retry_after=3.0, scope="target")]
    await _approved(world)
    await world.herald.engine.run_until_idle()
    waiting = world.store.deliveries["2.4|engineering|shell:@kim"]
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 0)
    assert waiting.not_before == world.clock.now() + timedelta(seconds=3)
    world.clock.advance(timedelta(seconds=3))
    await world.herald.engine.run_until_idle()
    assert world.store.deliveries["2.4|engineering|shell:@kim"].status is DeliveryStatus.SENT


async def test_an_adapter_crash_is_retried_not_lost(world: World) -> None:
    """An unexpected exception in an adapter is recorded and the delivery tried again later."""
    world.messenger.script["shell:@kim"] = [RuntimeError("boom")]
    await _approved(world)
    await world.herald.engine.run_until_idle()
    waiting = world.store.deliveries["2.4|engineering|shell:@kim"]
    assert (waiting.status, waiting.error) == (DeliveryStatus.PENDING, "unexpected error: RuntimeError")
    world.clock.advance(timedelta(minutes=1))
    await world.herald.engine.run_until_idle()
    assert world.store.deliveries["2.4|engineering|shell:@kim"].status is DeliveryStatus.SENT


async def test_a_delivery_left_sending_by_a_dead_worker_resumes_after_its_lease(world: World) -> None:
    """A claim whose worker died is left alone until the lease runs out, then sent once."""
    await _approved(world)
    key = "2.4|engineering|shell:@kim"
    async with world.herald.desk._uow() as uow:
        now = world.clock.now()
        await uow.deliveries.claim([key], now, now + timedelta(seconds=60), "dead-worker")
        await uow.commit()
    await world.herald.engine.run_until_idle()
    assert "shell:@kim" not in world.messenger.targets()
    world.clock.advance(timedelta(seconds=61))
    await world.herald.engine.run_until_idle()
    assert world.messenger.targets().count("shell:@kim") == 1
    assert world.store.deliveries[key].attempts == 2


async def test_a_late_worker_cannot_overwrite_the_new_owners_outcome(world: World) -> None:
    """Settling with a lost lease is refused, so the ledger keeps the current owner's record."""
    await _approved(world)
    key = "2.4|engineering|shell:@kim"
    async with world.herald.desk._uow() as uow:
        now = world.clock.now()
        [first] = await uow.deliveries.claim([key], now, now + timedelta(seconds=1), "slow-worker")
        world.clock.advance(timedelta(seconds=2))
        [_second] = await uow.deliveries.claim([key], world.clock.now(), world.clock.now() + timedelta(seconds=60), "b")
        stored = await uow.deliveries.settle(first.failed("late", permanent=True, now=now), "slow-worker")
        await uow.commit()
    assert stored is False
    assert world.store.deliveries[key].lease_owner == "b"


async def test_send_after_holds_a_group_until_its_time() -> None:
    """A group with send_after = "1h" leaves an hour after the final approval, not before."""
    world = make_world(PLAN.replace('id = "engineering"', 'id = "engineering"\nsend_after = "1h"'))
    await _approved(world)
    await world.herald.engine.run_until_idle()
    assert world.messenger.sent == []
    world.clock.advance(timedelta(hours=1))
    await world.herald.engine.run_until_idle()
    assert len(world.messenger.sent) == 6


async def test_retry_sends_failed_targets_again(world: World) -> None:
    """/release retry resets the failed deliveries and they go out, the rest untouched."""
    world.messenger.errors["slack:@U2"] = permanent("account inactive")
    await _approved(world)
    await world.herald.engine.run_until_idle()
    del world.messenger.errors["slack:@U2"]
    reply = await world.say("retry 2.4")
    assert not reply.failed
    assert world.store.releases["2.4"].state is ReleaseState.SENDING
    await world.herald.engine.run_until_idle()
    assert world.messenger.targets().count("slack:@U2") == 1
    assert len(world.messenger.sent) == 6
    assert world.store.releases["2.4"].state is ReleaseState.SENT


async def test_a_group_is_held_when_its_prerequisite_went_nowhere(world: World) -> None:
    """If every engineering delivery failed, support's communiqué is held, not sent."""
    world.messenger.errors["shell:#engineering"] = permanent("channel archived")
    world.messenger.errors["shell:@kim"] = permanent("account inactive")
    await _approved(world)
    await world.herald.engine.run_until_idle()
    assert world.messenger.sent == []
    status = await world.herald.desk.status("2.4")
    support = next(g for g in status.groups if g.id == "support")
    assert (support.pending, support.sent) == (4, 0)
    assert world.store.releases["2.4"].state is ReleaseState.SENDING


async def test_status_estimates_the_time_left_from_the_recent_rate(world: World) -> None:
    """While messages are pending, status gives an ETA from how fast recent ones went out."""
    await _approved(world)
    await world.herald.engine.run_once()  # engineering: two messages
    async with world.herald.desk._uow() as uow:
        for i, delivery in enumerate(d for d in await uow.deliveries.for_release("2.4") if d.group_id == "engineering"):
            await uow.deliveries.update(replace(delivery, sent_at=world.clock.now() + timedelta(seconds=2 * i)))
        await uow.commit()
    status = await world.herald.desk.status("2.4")
    assert status.eta_seconds == 8.0  # four pending, one every two seconds


async def test_mixed_faults_end_with_every_message_delivered_once_or_failed_permanently(world: World) -> None:
    """Timeouts after acceptance, 5xx, resets and permanent errors: each target ends sent once or failed."""
    accepted: dict[str, int] = {}

    class Flaky:
        """Accepts some messages and then times out, like a connection that dies after the write."""

        def __init__(self) -> None:
            self.plan = {
                "shell:#engineering": ["accept-then-timeout"],
                "shell:@kim": ["503"],
                "shell:@sam": ["reset", "503"],
                "slack:@U1": ["permanent"],
            }

        async def send(self, message: OutgoingMessage) -> str:
            step = self.plan.get(message.target, []).pop(0) if self.plan.get(message.target) else "ok"
            if step == "permanent":
                raise permanent("account_inactive")
            if step in ("503", "reset"):
                raise RetryableDeliveryError(step)
            # The platform dedupes on the idempotency token, as Discord does with a nonce.
            accepted[message.delivery_key] = accepted.get(message.delivery_key, 0) + 1
            if step == "accept-then-timeout":
                raise RetryableDeliveryError("timed out after the platform accepted it")
            return f"ref-{message.delivery_key}"

    desk = world.herald.desk
    links = {platform: replace(link, messenger=Flaky()) for platform, link in desk.links.items()}
    engine = DeliveryEngine(plan=desk.plan, uow=desk._uow, links=links, clock=world.clock)
    await _approved(world)
    for _ in range(10):
        await engine.run_until_idle()
        world.clock.advance(timedelta(minutes=1))
    statuses = {d.target: d.status for d in world.store.deliveries.values()}
    assert statuses.pop("slack:@U1") is DeliveryStatus.FAILED
    assert set(statuses.values()) == {DeliveryStatus.SENT}
    assert accepted["2.4|engineering|shell:#engineering"] == 2  # the ambiguous send was repeated once...
    assert all(n == 1 for key, n in accepted.items() if key != "2.4|engineering|shell:#engineering")


async def test_no_more_dms_are_claimed_than_can_be_sent_within_the_lease(world: World) -> None:
    """When reaching people anew is slow (Slack: 50 DMs a minute), a claim takes only what fits in half a lease."""
    from bot.service.limits import Limits, Rate

    desk = world.herald.desk
    slow = Limits(name="slow", ceiling=Rate(100.0, burst=10), direct=Rate(1.0))
    links = {platform: replace(link, limits=slow) for platform, link in desk.links.items()}
    engine = DeliveryEngine(plan=desk.plan, uow=desk._uow, links=links, clock=world.clock, lease=timedelta(seconds=4))
    await _approved(world)
    ready = [d for d in world.store.deliveries.values() if d.group_id == "support"]
    keys = engine._take(ready, room=64)
    dms = [k for k in keys if world.store.deliveries[k].kind.value == "dm"]
    assert len(dms) == 3  # two seconds at one a second, plus the one-token burst
    assert any(world.store.deliveries[k].kind.value == "channel" for k in keys)


class _LostAnswers:
    """A platform that keeps the first copy of each message but whose answer to it never arrives."""

    def __init__(self, *, can_be_asked: bool) -> None:
        self.stored: dict[str, int] = {}
        self.asked: list[str] = []
        self.can_be_asked = can_be_asked

    async def send(self, message: OutgoingMessage) -> str:
        self.stored[message.delivery_key] = self.stored.get(message.delivery_key, 0) + 1
        if self.stored[message.delivery_key] == 1:
            raise RetryableDeliveryError("the platform did not answer: TimeoutError", uncertain=True)
        return f"ref-{message.delivery_key}"

    async def find(self, message: OutgoingMessage, since: object) -> str | None:
        self.asked.append(message.delivery_key)
        if not self.can_be_asked:
            raise PermanentDeliveryError("history cannot be read: missing_scope")
        return f"found-{message.delivery_key}" if message.delivery_key in self.stored else None


async def _sent_twice_over(world: World, platform: _LostAnswers, key: str) -> DeliveryEngine:
    """Send everything through ``platform``, then (its first answers lost, so ``key`` is in doubt) once more."""
    links = {p: replace(link, messenger=platform) for p, link in world.herald.desk.links.items()}
    engine = DeliveryEngine(plan=world.herald.desk.plan, uow=world.herald.desk._uow, links=links, clock=world.clock)
    await _approved(world)
    await engine.run_until_idle()
    assert world.store.deliveries[key].in_doubt_since is not None
    world.clock.advance(timedelta(minutes=5))
    await engine.run_until_idle()
    return engine


async def test_a_send_left_unanswered_is_looked_for_and_recorded_not_sent_again(world: World) -> None:
    """A time-out leaves the message in doubt; the retry finds it on the platform and records it, sending nothing."""
    platform = _LostAnswers(can_be_asked=True)
    key = "2.4|engineering|shell:@kim"

    engine = await _sent_twice_over(world, platform, key)

    stored = world.store.deliveries[key]
    assert (stored.status, stored.message_ref, stored.in_doubt_since) == (DeliveryStatus.SENT, f"found-{key}", None)
    assert platform.stored[key] == 1
    assert key in platform.asked
    assert engine.reconciled >= 1


async def test_a_send_in_doubt_that_cannot_be_looked_for_is_sent_again_and_counted_unverified(world: World) -> None:
    """Where the platform cannot be asked, the retry goes out (nothing is lost) and is counted as unverified."""
    platform = _LostAnswers(can_be_asked=False)
    key = "2.4|engineering|shell:@kim"

    engine = await _sent_twice_over(world, platform, key)

    stored = world.store.deliveries[key]
    assert stored.status is DeliveryStatus.SENT
    assert stored.report is not None
    assert stored.report.startswith("sent again unverified")
    assert "missing_scope" in stored.report
    assert platform.stored[key] == 2
    assert engine.unverified >= 1
