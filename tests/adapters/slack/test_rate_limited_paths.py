"""Slack's rate limits on every path Herald takes: a 429 is waited out, never a lost delivery."""

from __future__ import annotations

from adapters.slack import translate
from bot.domain.delivery import DeliveryStatus
from tests.adapters.slack.conftest import SlackWorld
from tests.adapters.slack.test_scenario import _announced, _approved, _click, _command, _sent, _thread
from tests.fakes.slack import FakeSlack


def _heal(slack: FakeSlack, method: str) -> None:
    """Stop answering ``method`` with the error ``fail_always`` set."""
    slack._permanent.pop(method, None)


def _statuses(world: SlackWorld) -> dict[str, DeliveryStatus]:
    return {d.target: d.status for d in world.store.deliveries.values() if d.purpose.value == "communique"}


async def test_a_429_while_listing_a_channels_members_is_waited_out_and_the_channel_gets_its_communique(
    slack_world: SlackWorld,
) -> None:
    """conversations.members answers 429: Herald waits its Retry-After, asks again, and the channel is sent to."""
    slack_world.slack.fail_next("conversations.members", retry_after=1)

    await _sent(slack_world)

    members_calls = slack_world.slack.calls_to("conversations.members")
    assert [call.error for call in members_calls[:2]] == ["ratelimited", None]
    assert _statuses(slack_world)["slack:C0ENG"] is DeliveryStatus.SENT
    assert set(_statuses(slack_world).values()) == {DeliveryStatus.SENT}


async def test_429s_on_every_lookup_at_once_lose_no_destination(slack_world: SlackWorld) -> None:
    """Members, user group and e-mail lookups all rate-limited twice: every target still gets its communiqué."""
    for method in ("conversations.members", "usergroups.users.list", "users.lookupByEmail", "users.list"):
        slack_world.slack.fail_next(method, retry_after=2)
        slack_world.slack.fail_next(method, retry_after=1)

    await _sent(slack_world)

    statuses = _statuses(slack_world)
    assert set(statuses.values()) == {DeliveryStatus.SENT}
    assert {"slack:C0ENG", "slack:@U0SUPPORT1", "slack:@U0SUP2", "slack:@U0SUP3", "slack:@U0LEAD"} <= set(statuses)


async def test_a_direct_message_is_posted_to_the_user_id_without_opening_a_conversation(
    slack_world: SlackWorld,
) -> None:
    """DMs cost no Tier 3 conversations.open: the post names the user, and the DM channel Slack answers is kept."""
    await _sent(slack_world)

    assert slack_world.slack.calls_to("conversations.open") == []
    dm = slack_world.store.deliveries["2.4|support|slack:@U0SUP2"]
    assert dm.message_ref is not None
    assert dm.message_ref.startswith(f"slack:{slack_world.slack.dm_channel('U0SUP2')}:")
    posts = [c.params["channel"] for c in slack_world.slack.calls_to("chat.postMessage")]
    assert "U0SUP2" in posts
    assert len(slack_world.slack.messages(slack_world.slack.dm_channel("U0SUP2"))) == 1


async def test_a_lookup_slack_cannot_answer_holds_the_send_with_a_sentence_and_records_no_failure(
    slack_world: SlackWorld,
) -> None:
    """The user group's members cannot be read: the final approval is refused in words, then goes through later."""
    slack_world.slack.fail_always("usergroups.users.list", "internal_error")
    await _announced(slack_world)
    parent, _ = _thread(slack_world)
    await _click(slack_world, parent, translate.CONFIRM)
    await slack_world.until(lambda: slack_world.store.releases["2.4"].confirmed_by is not None)

    await _command(slack_world, "approve 2.4 all", user="U0ANNOUNCE1", name="approve-all")
    await slack_world.until(lambda: slack_world.slack.responses_to("approve-all"))
    await _command(slack_world, "send 2.4", user="U0ANNOUNCE1", name="send")
    await slack_world.until(lambda: slack_world.store.releases["2.4"].state.value == "awaiting_approval")
    await _command(slack_world, "approve 2.4", user="U0APPROVE1", name="final")
    await slack_world.until(lambda: slack_world.slack.responses_to("final"))

    refusal = str(slack_world.slack.responses_to("final")[-1])
    assert "could not look up" in refusal
    assert "slack:usergroup:S0SUPPORT" in refusal
    assert slack_world.store.releases["2.4"].state.value != "sending"
    assert not slack_world.store.deliveries

    _heal(slack_world.slack, "usergroups.users.list")
    await _command(slack_world, "approve 2.4", user="U0APPROVE1", name="final-again")
    await slack_world.until(lambda: slack_world.store.releases["2.4"].state.value == "sending")
    await slack_world.herald.engine.run_until_idle()
    assert set(_statuses(slack_world).values()) == {DeliveryStatus.SENT}
    assert "slack:@U0SUP2" in _statuses(slack_world)


async def test_a_429_on_the_walkthrough_thread_is_waited_out(slack_world: SlackWorld) -> None:
    """Posting the thread meets a 429: Herald posts again after Retry-After and the walkthrough is whole."""
    slack_world.slack.fail_next("chat.postMessage", retry_after=1)

    await _approved(slack_world)

    _, replies = _thread(slack_world)
    assert len(replies) == 2
