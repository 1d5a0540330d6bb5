"""A copy whose fate a crash left in doubt is looked for in Slack's history before it is sent again."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.slack.messenger import SlackMessenger
from bot.app.settings import load_settings
from bot.domain.delivery import DeliveryStatus
from bot.domain.errors import PermanentDeliveryError
from bot.service.messages import outgoing
from tests.adapters.slack.conftest import SlackWorld
from tests.adapters.slack.test_scenario import _approved, _sent
from tests.fakes.slack import FakeSlack


def _left_by_a_dead_worker(world: SlackWorld, key: str) -> None:
    """Put the delivery back as a process that died mid-send leaves it: sending, started, its lease run out."""
    now = world.clock.now()
    delivery = world.store.deliveries[key]
    world.store.deliveries[key] = replace(
        delivery,
        status=DeliveryStatus.SENDING,
        message_ref=None,
        sent_at=None,
        lease_owner="herald-dead/7",
        leased_until=now - timedelta(seconds=1),
        updated_at=now - timedelta(seconds=61),
        in_doubt_since=now - timedelta(seconds=60),
    )


def _posts_to(slack: FakeSlack, channel: str) -> int:
    return sum(1 for call in slack.calls_to("chat.postMessage") if call.params.get("channel") == channel)


async def test_a_channel_copy_the_dead_worker_sent_is_found_and_recorded_not_sent_again(
    slack_world: SlackWorld,
) -> None:
    """The copy is in #eng-announce with its delivery key: Herald records that message and posts nothing."""
    await _sent(slack_world)
    key = "2.4|engineering|slack:C0ENG"
    first_ref = slack_world.store.deliveries[key].message_ref
    _left_by_a_dead_worker(slack_world, key)
    posts = _posts_to(slack_world.slack, "C0ENG")

    await slack_world.herald.engine.run_until_idle()

    stored = slack_world.store.deliveries[key]
    assert (stored.status, stored.message_ref, stored.in_doubt_since) == (DeliveryStatus.SENT, first_ref, None)
    assert _posts_to(slack_world.slack, "C0ENG") == posts
    assert len(slack_world.slack.messages("C0ENG")) == 1
    history = slack_world.slack.calls_to("conversations.history")
    assert [call.params.get("channel") for call in history] == ["C0ENG"]
    assert slack_world.herald.engine.reconciled == 1


async def test_a_dm_the_dead_worker_never_sent_is_looked_for_then_sent_once(slack_world: SlackWorld) -> None:
    """No copy in the person's DM (found with conversations.open after a restart): it is sent, once."""
    await _sent(slack_world)
    key = "2.4|support|slack:@U0SUP2"
    dm = slack_world.slack.dm_channel("U0SUP2")
    slack_world.slack._messages[dm].clear()  # the dead worker's post never reached Slack
    _left_by_a_dead_worker(slack_world, key)
    slack_world.front.gateway._dms.clear()  # a new process knows no DM channel yet

    await slack_world.herald.engine.run_until_idle()

    stored = slack_world.store.deliveries[key]
    assert stored.status is DeliveryStatus.SENT
    assert stored.message_ref is not None
    assert len(slack_world.slack.messages(dm)) == 1
    assert [c.params.get("users") for c in slack_world.slack.calls_to("conversations.open")] == ["U0SUP2"]
    assert [c.params.get("channel") for c in slack_world.slack.calls_to("conversations.history")] == [dm]
    assert slack_world.herald.engine.reconciled == 0


async def test_a_429_while_looking_is_waited_out_and_nothing_is_sent_blind(slack_world: SlackWorld) -> None:
    """conversations.history answers 429: Herald asks again after Retry-After and still finds the copy."""
    await _sent(slack_world)
    key = "2.4|engineering|slack:C0ENG"
    _left_by_a_dead_worker(slack_world, key)
    slack_world.slack.fail_next("conversations.history", retry_after=1)

    await slack_world.herald.engine.run_until_idle()

    assert slack_world.store.deliveries[key].status is DeliveryStatus.SENT
    assert len(slack_world.slack.messages("C0ENG")) == 1
    assert [c.error for c in slack_world.slack.calls_to("conversations.history")] == ["ratelimited", None]


async def test_without_the_history_scope_the_copy_is_sent_again_and_counted_unverified(
    slack_world: SlackWorld,
) -> None:
    """Slack refuses the history (missing_scope): nothing is lost, the resend is counted as unverified."""
    await _sent(slack_world)
    key = "2.4|engineering|slack:C0ENG"
    _left_by_a_dead_worker(slack_world, key)
    slack_world.slack.fail_always("conversations.history", "missing_scope")

    await slack_world.herald.engine.run_until_idle()

    assert slack_world.store.deliveries[key].status is DeliveryStatus.SENT
    assert len(slack_world.slack.messages("C0ENG")) == 2
    assert slack_world.herald.engine.unverified == 1


async def test_herald_slack_reconcile_off_never_reads_history(slack_world: SlackWorld) -> None:
    """With HERALD_SLACK_RECONCILE=off the messenger refuses to look, so the engine resends, unverified."""
    await _sent(slack_world)
    delivery = slack_world.store.deliveries["2.4|engineering|slack:C0ENG"]
    message = outgoing(slack_world.herald.desk.plan, delivery, "Acme Cloud 2.4 is live.")
    assert message is not None

    with pytest.raises(PermanentDeliveryError, match="HERALD_SLACK_RECONCILE"):
        await SlackMessenger(slack_world.front.gateway, reconcile=False).find(message, slack_world.clock.now())

    assert slack_world.slack.calls_to("conversations.history") == []
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "HERALD_SLACK_RECONCILE": "off"}
    )
    assert settings.slack is not None
    assert settings.slack.reconcile is False


async def test_a_post_whose_answer_never_came_is_not_retried_blind_but_looked_for(slack_world: SlackWorld) -> None:
    """The connection drops after Slack took the post: no automatic repeat; the retry finds the copy instead."""
    await _approved(slack_world)
    slack_world.slack.drop_answer_next("chat.postMessage")  # the engine's first copy: the channel's

    await slack_world.herald.engine.run_until_idle()
    slack_world.clock.advance(timedelta(minutes=5))
    await slack_world.herald.engine.run_until_idle()

    assert len(slack_world.slack.messages("C0ENG")) == 1
    assert slack_world.store.deliveries["2.4|engineering|slack:C0ENG"].status is DeliveryStatus.SENT
    assert slack_world.herald.engine.reconciled == 1
