"""The whole loop in Slack, over HTTP, as Slack drives it: command, thread, approvals, edit, send, receipts."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

from adapters.slack import translate
from bot.domain.delivery import Purpose
from bot.domain.destinations import Platform
from tests.adapters.slack.conftest import SECRET, SlackWorld
from tests.fakes import HeldDesk
from tests.fakes.slack import block_action, event_callback, reaction_added, slash_command, view_submission


async def _command(world: SlackWorld, text: str, user: str = "U0ANNOUNCE1", name: str = "cmd") -> None:
    response = await world.post(
        slash_command(
            SECRET, text=text, user_id=user, channel_id="C0RELEASE", response_url=world.slack.response_url(name)
        )
    )
    assert response.status == 200


async def _click(world: SlackWorld, message: dict[str, Any], action_id: str, user: str = "U0ANNOUNCE1") -> None:
    response = await world.post(
        block_action(
            SECRET,
            user_id=user,
            action_id=action_id,
            channel_id=message.get("channel", "C0RELEASE"),
            message_ts=message["ts"],
            response_url=world.slack.response_url("click"),
            message=message,
        )
    )
    assert response.status == 200


def _thread(world: SlackWorld) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    messages = world.slack.messages("C0RELEASE")
    parent = next(m for m in messages if "thread_ts" not in m or m["thread_ts"] == m["ts"])
    return parent, world.slack.replies("C0RELEASE", parent["ts"])


def _text(message: dict[str, Any]) -> str:
    return str(message.get("blocks", ""))


def _support(world: SlackWorld) -> Any:
    return world.store.releases["2.4"].communiques["support"]


async def _announced(world: SlackWorld) -> None:
    await _command(world, "announce 2.4")
    await world.until(lambda: "2.4" in world.store.releases and world.store.releases["2.4"].thread is not None)


async def _approved(world: SlackWorld) -> None:
    await _announced(world)
    parent, replies = _thread(world)
    await _click(world, parent, translate.CONFIRM)
    await world.until(lambda: world.store.releases["2.4"].confirmed_by is not None)
    for reply in replies:
        await _click(world, world.slack.message("C0RELEASE", reply["ts"]), translate.APPROVE)
    await world.until(lambda: all(c.approved for c in world.store.releases["2.4"].communiques.values()))
    parent, _ = _thread(world)
    await _click(world, world.slack.message("C0RELEASE", parent["ts"]), translate.SEND)
    await world.until(lambda: world.store.releases["2.4"].state.value == "awaiting_approval")
    parent, _ = _thread(world)
    await world.until(lambda: translate.FINAL in _text(world.slack.message("C0RELEASE", parent["ts"])))
    await _click(world, world.slack.message("C0RELEASE", parent["ts"]), translate.FINAL, user="U0APPROVE1")
    await world.until(lambda: world.store.releases["2.4"].state.value == "sending")


async def _sent(world: SlackWorld) -> None:
    await _approved(world)
    await world.herald.engine.run_until_idle()


async def test_announce_opens_a_thread_with_each_communique_and_its_buttons(slack_world: SlackWorld) -> None:
    """/release announce posts the release's parent message and one reply per group, with Approve/Edit/Send back."""
    await _announced(slack_world)
    parent, replies = _thread(slack_world)
    assert "Acme Cloud 2.4" in parent["text"]
    assert len(replies) == 2
    engineering = _text(replies[0])
    assert ":rocket: *Acme Cloud 2.4* is live." in engineering
    assert all(action in engineering for action in (translate.APPROVE, translate.EDIT, translate.REJECT))
    release = slack_world.store.releases["2.4"]
    assert release.thread == translate.message_ref("C0RELEASE", parent["ts"])
    summary = _text(slack_world.slack.message("C0RELEASE", parent["ts"]))
    assert "Engineering: 1 channel, 2 people expected to acknowledge" in summary
    assert "Customer Support: 4 DMs, 4 people expected to acknowledge" in summary


async def test_announcing_again_points_at_the_existing_thread(slack_world: SlackWorld) -> None:
    """A second /release announce 2.4 answers privately and posts no second thread."""
    await _announced(slack_world)
    await _command(slack_world, "announce 2.4", name="again")
    await slack_world.until(lambda: slack_world.slack.responses_to("again"))
    assert "already being announced in <#C0RELEASE>" in slack_world.slack.responses_to("again")[0]["text"]
    assert len(slack_world.slack.messages("C0RELEASE")) == 3


async def test_someone_without_a_role_is_told_privately_and_nothing_changes(slack_world: SlackWorld) -> None:
    """An outsider's Approve click gets an ephemeral explanation and an audit entry; the communiqué stays pending."""
    await _announced(slack_world)
    _, replies = _thread(slack_world)
    await _click(slack_world, replies[0], translate.APPROVE, user="U0OUTSIDER")
    await slack_world.until(lambda: slack_world.slack.ephemerals)
    assert "Only announcers and approvers can approve a communiqué." in slack_world.slack.ephemerals[-1]["text"]
    assert not slack_world.store.releases["2.4"].communiques["engineering"].approved
    assert slack_world.store.audit[-1].outcome.value == "refused"


async def test_edit_opens_a_modal_and_the_new_text_is_checked_again(slack_world: SlackWorld) -> None:
    """Edit opens a modal in the click's trigger window; the saved text replaces the preview and is re-checked."""
    await _announced(slack_world)
    _, replies = _thread(slack_world)
    await _click(slack_world, replies[1], translate.EDIT)
    await slack_world.until(lambda: slack_world.slack.views)
    opened = slack_world.slack.views[-1]
    metadata = opened.view["private_metadata"]
    new_text = "Support: Acme Cloud 2.4 is live. TODO add FAQ <!channel>"
    await slack_world.post(
        view_submission(
            SECRET,
            user_id="U0ANNOUNCE1",
            callback_id=translate.EDIT_VIEW,
            private_metadata=metadata,
            values={translate.EDIT_BLOCK: {translate.EDIT_INPUT: {"type": "plain_text_input", "value": new_text}}},
        )
    )
    await slack_world.until(lambda: slack_world.store.releases["2.4"].communiques["support"].revision == 2)
    await slack_world.until(lambda: "TODO add FAQ" in _text(slack_world.slack.message("C0RELEASE", replies[1]["ts"])))
    shown = _text(slack_world.slack.message("C0RELEASE", replies[1]["ts"]))
    assert "&lt;!channel&gt;" in shown  # the mention is neutralised in the preview
    assert "leftover placeholder" in shown
    assert "is not allowed for this group" in shown


async def test_send_back_asks_why_and_the_reason_is_shown_with_the_communique(slack_world: SlackWorld) -> None:
    """Send back opens a modal for the reason; an empty one is refused in the modal, a real one is kept and shown."""
    await _announced(slack_world)
    _, replies = _thread(slack_world)
    await _click(slack_world, replies[1], translate.REJECT, user="U0APPROVE1")
    await slack_world.until(lambda: slack_world.slack.views)
    opened = slack_world.slack.views[-1]
    assert opened.view["callback_id"] == translate.SEND_BACK_VIEW

    def reason(text: str) -> dict[str, Any]:
        return {translate.SEND_BACK_BLOCK: {translate.SEND_BACK_INPUT: {"type": "plain_text_input", "value": text}}}

    metadata = opened.view["private_metadata"]
    submit = {"user_id": "U0APPROVE1", "callback_id": translate.SEND_BACK_VIEW, "private_metadata": metadata}
    empty = await slack_world.post(view_submission(SECRET, values=reason("   "), **submit))
    assert empty.status == 200
    assert (await empty.json())["response_action"] == "errors"  # the modal stays open, saying what is missing
    assert _support(slack_world).review.value == "pending"

    await slack_world.post(view_submission(SECRET, values=reason("Name the FAQ\n  link, please."), **submit))
    await slack_world.until(lambda: _support(slack_world).review.value == "sent_back")
    assert _support(slack_world).note == "Name the FAQ link, please."
    assert _support(slack_world).reviewed_by == "slack:U0APPROVE1"
    reply_ts = replies[1]["ts"]
    await slack_world.until(lambda: "Name the FAQ link" in _text(slack_world.slack.message("C0RELEASE", reply_ts)))


async def test_the_four_eyes_rule_holds_in_slack(slack_world: SlackWorld) -> None:
    """The announcer's own final approval is refused; the approver's starts sending."""
    await _announced(slack_world)
    parent, replies = _thread(slack_world)
    await _click(slack_world, parent, translate.CONFIRM)
    for reply in replies:
        await _click(slack_world, reply, translate.APPROVE)
    await slack_world.until(lambda: all(c.approved for c in slack_world.store.releases["2.4"].communiques.values()))
    await _click(slack_world, slack_world.slack.message("C0RELEASE", parent["ts"]), translate.SEND)
    await slack_world.until(lambda: slack_world.store.releases["2.4"].state.value == "awaiting_approval")
    await slack_world.until(lambda: translate.FINAL in _text(slack_world.slack.message("C0RELEASE", parent["ts"])))
    latest = slack_world.slack.message("C0RELEASE", parent["ts"])
    await _click(slack_world, latest, translate.FINAL, user="U0ANNOUNCE1")
    await slack_world.until(lambda: any("second person" in e["text"] for e in slack_world.slack.ephemerals))
    assert slack_world.store.releases["2.4"].state.value == "awaiting_approval"
    await _click(slack_world, latest, translate.FINAL, user="U0APPROVE1")
    await slack_world.until(lambda: slack_world.store.releases["2.4"].state.value == "sending")


async def test_broadcast_reaches_channels_dms_usergroups_and_email_users(slack_world: SlackWorld) -> None:
    """Each target gets one message with an Acknowledge button: channel, DM, the group's members, the e-mail user."""
    await _sent(slack_world)
    slack = slack_world.slack
    assert len(slack.messages("C0ENG")) == 1
    for user in ("U0SUPPORT1", "U0SUP2", "U0SUP3", "U0LEAD"):
        [dm] = slack.messages(slack.dm_channel(user))
        assert "Support: Acme Cloud 2.4 is live." in dm["text"]
        assert translate.ACK in _text(dm)
    posts = slack.calls_to("chat.postMessage")
    assert all(call.params.get("unfurl_links") in (False, "false", "0", 0) for call in posts[3:])
    assert slack_world.store.releases["2.4"].state.value == "sent"


def _receipt_in_place(world: SlackWorld) -> dict[str, Any] | None:
    """The last redraw of a DM through the click's response_url, if any."""
    posted = world.slack.responses_to("click")
    return posted[-1] if posted else None


async def test_acknowledge_click_and_reaction_count_once_each_person(slack_world: SlackWorld) -> None:
    """A click in a DM turns the copy into the receipt; a reaction delivered four times (Slack's retries) is one."""
    await _sent(slack_world)
    slack = slack_world.slack
    dm = slack.dm_channel("U0SUPPORT1")
    [message] = slack.messages(dm)
    message["channel"] = dm
    await _click(slack_world, message, translate.ACK, user="U0SUPPORT1")
    await slack_world.until(lambda: _receipt_in_place(slack_world) is not None)
    redrawn = _receipt_in_place(slack_world)
    assert redrawn is not None
    assert redrawn["replace_original"] is True
    assert translate.ACK not in str(redrawn["blocks"])  # the button is gone
    assert "acknowledgement recorded" in str(redrawn["blocks"])
    assert str(message["blocks"][0]) == str(redrawn["blocks"][0])  # the communiqué itself is unchanged
    assert not [e for e in slack.ephemerals if e["user"] == "U0SUPPORT1"]  # nothing else is said to them
    [shared] = slack.messages("C0ENG")
    shared["channel"] = "C0ENG"
    await _click(slack_world, shared, translate.ACK, user="U0ENG2")  # a channel post is everyone's copy:
    await slack_world.until(lambda: any(e["user"] == "U0ENG2" for e in slack.ephemerals))  # thanks in private
    assert len(slack.responses_to("click")) == 1  # and the post is left as it is
    [post] = slack.messages("C0ENG")
    event = reaction_added(user="U0ENG1", reaction="white_check_mark", channel="C0ENG", ts=post["ts"])
    for retry in (None, 1, 2, 3):
        response = await slack_world.post(
            event_callback(
                SECRET, event=event, event_id="Ev0ACK1", retry_num=retry, retry_reason="http_timeout" if retry else None
            )
        )
        assert response.status == 200
    await slack_world.until(lambda: ("2.4", "engineering", "slack:U0ENG1") in slack_world.store.receipts)
    assert sorted(slack_world.store.receipts) == [
        ("2.4", "engineering", "slack:U0ENG1"),
        ("2.4", "engineering", "slack:U0ENG2"),
        ("2.4", "support", "slack:U0SUPPORT1"),
    ]


async def test_receipts_are_answered_at_once_and_recorded_when_the_ledger_frees(slack_world: SlackWorld) -> None:
    """Slack gets its 200 while the desk is still busy; the click and the reaction land afterwards, once each."""
    await _sent(slack_world)
    slack, front = slack_world.slack, slack_world.front
    await front.flush()  # nothing left from the sending
    held = HeldDesk(front.flow.desk)
    front.flow.desk = held  # type: ignore[assignment]
    dm = slack.dm_channel("U0SUPPORT1")
    [message] = slack.messages(dm)
    message["channel"] = dm
    await _click(slack_world, message, translate.ACK, user="U0SUPPORT1")  # asserts the 200
    [post] = slack.messages("C0ENG")
    event = reaction_added(user="U0ENG1", reaction="white_check_mark", channel="C0ENG", ts=post["ts"])
    response = await slack_world.post(event_callback(SECRET, event=event, event_id="Ev0HELD1"))
    assert response.status == 200
    await slack_world.until(lambda: held.waiting == 2)
    assert not slack_world.store.receipts  # both answered, neither recorded yet
    asyncio.get_running_loop().call_later(0.05, held.release)
    await front.flush()  # what shutdown does: it waits for the work handed off, which finishes
    assert sorted(slack_world.store.receipts) == [
        ("2.4", "engineering", "slack:U0ENG1"),
        ("2.4", "support", "slack:U0SUPPORT1"),
    ]
    assert "acknowledgement recorded" in str(_receipt_in_place(slack_world))


async def test_reactions_from_outside_the_audience_or_other_emoji_do_not_count(slack_world: SlackWorld) -> None:
    """An outsider reacting to someone's DM, or a member reacting with another emoji, records nothing."""
    await _sent(slack_world)
    slack = slack_world.slack
    dm = slack.dm_channel("U0SUP2")
    [message] = slack.messages(dm)
    [post] = slack.messages("C0ENG")
    for event in (
        reaction_added(user="U0OUTSIDER", reaction="white_check_mark", channel=dm, ts=message["ts"]),
        reaction_added(user="U0ENG2", reaction="tada", channel="C0ENG", ts=post["ts"]),
        reaction_added(user="U0ENG2", reaction="white_check_mark::skin-tone-3", channel="C0ENG", ts=post["ts"]),
    ):
        await slack_world.post(event_callback(SECRET, event=event))
    await slack_world.until(lambda: ("2.4", "engineering", "slack:U0ENG2") in slack_world.store.receipts)
    assert sorted(slack_world.store.receipts) == [("2.4", "engineering", "slack:U0ENG2")]


async def test_the_parent_message_shows_live_counts(slack_world: SlackWorld) -> None:
    """After receipts, the release's message is redrawn with acknowledged of expected per group."""
    await _sent(slack_world)
    slack = slack_world.slack
    [post] = slack.messages("C0ENG")
    await slack_world.post(
        event_callback(
            SECRET, event=reaction_added(user="U0ENG1", reaction="white_check_mark", channel="C0ENG", ts=post["ts"])
        )
    )
    await slack_world.until(lambda: slack_world.store.receipts)
    await slack_world.front.flush()
    parent, _ = _thread(slack_world)
    shown = _text(slack.message("C0RELEASE", parent["ts"]))
    assert "*Engineering*: 1/1 sent · 1/2 acknowledged" in shown
    assert "*Customer Support*: 4/4 sent · 0/4 acknowledged" in shown
    assert "1 of 2 acknowledged" in _text(slack.message("C0ENG", post["ts"]))  # the channel copy's own count
    assert translate.ACK in _text(slack.message("C0ENG", post["ts"]))  # and it can still be acknowledged


async def test_a_burst_of_receipts_is_one_redraw(slack_world: SlackWorld) -> None:
    """Many receipts at once update the parent message once per interval, and the last figures land."""
    await _sent(slack_world)
    await slack_world.front.flush()
    slack = slack_world.slack
    before = len(slack.calls_to("chat.update"))
    for user in ("U0SUPPORT1", "U0SUP2", "U0SUP3", "U0LEAD"):
        dm = slack.dm_channel(user)
        [message] = slack.messages(dm)
        event = reaction_added(user=user, reaction="white_check_mark", channel=dm, ts=message["ts"])
        await slack_world.post(event_callback(SECRET, event=event))
    await slack_world.until(lambda: len(slack_world.store.receipts) == 4)
    await slack_world.front.flush()
    assert len(slack.calls_to("chat.update")) - before <= 2
    parent, _ = _thread(slack_world)
    assert "*Customer Support*: 4/4 sent · 4/4 acknowledged" in _text(slack.message("C0RELEASE", parent["ts"]))


async def test_reminders_and_escalation_arrive_as_dms(slack_world: SlackWorld) -> None:
    """After remind_every the silent get a reminder DM; at ack_within the escalation lists who never answered."""
    await _sent(slack_world)
    slack = slack_world.slack
    slack_world.clock.advance(timedelta(minutes=31))
    await slack_world.herald.reminders.sweep()
    await slack_world.herald.engine.run_until_idle()
    assert "Reminder: please acknowledge" in slack.messages(slack.dm_channel("U0SUP2"))[-1]["text"]
    slack_world.clock.advance(timedelta(hours=2))
    await slack_world.herald.reminders.sweep()
    await slack_world.herald.engine.run_until_idle()
    [escalation] = slack.messages(slack.dm_channel("U0SUPLEAD1"))
    assert escalation["text"].startswith("Escalation: 4 of the Customer Support recipients have not acknowledged")
    kinds = {d.purpose for d in slack_world.store.deliveries.values()}
    assert kinds == {Purpose.COMMUNIQUE, Purpose.REMINDER, Purpose.ESCALATION}


async def test_status_command_answers_privately_with_the_table(slack_world: SlackWorld) -> None:
    """/release status 2.4 replies only to the asker, with the per-group figures."""
    await _sent(slack_world)
    await _command(slack_world, "status 2.4", name="status")
    await slack_world.until(lambda: slack_world.slack.responses_to("status"))
    [answer] = slack_world.slack.responses_to("status")
    assert answer["response_type"] == "ephemeral"
    assert "*Customer Support*: 4/4 sent" in str(answer["blocks"])


async def test_a_rate_limited_post_is_retried_after_retry_after(slack_world: SlackWorld) -> None:
    """A 429 on chat.postMessage puts the message back until Retry-After; it is then delivered once."""
    slack_world.slack.fail_next("chat.postMessage", channel="C0ENG", retry_after=3)
    await _approved(slack_world)
    await slack_world.herald.engine.run_until_idle()
    assert slack_world.slack.messages("C0ENG") == []
    slack_world.clock.advance(timedelta(seconds=3))
    await slack_world.herald.engine.run_until_idle()
    assert len(slack_world.slack.messages("C0ENG")) == 1


async def test_template_text_cannot_smuggle_a_mention_to_recipients(slack_world: SlackWorld) -> None:
    """A <!channel> or a mention in a communiqué reaches Slack escaped, unless the group allows mentions.

    A link is a link either way (Slack's ``<url|label>`` or Markdown's ``[label](url)``): the
    approver sees it in the preview, and the links check has vetted it.
    """
    from bot.domain.destinations import Kind
    from bot.domain.plan import AckPolicy
    from bot.service.ports import OutgoingMessage

    messenger = slack_world.herald.desk.links[Platform.SLACK].messenger
    base = OutgoingMessage(
        delivery_key="9.9|engineering|slack:C0ENG",
        version="9.9",
        product="Acme Cloud",
        group_id="engineering",
        group_name="Engineering",
        target="slack:C0ENG",
        kind=Kind.CHANNEL,
        text="Hi <!channel> and <@U0BOSS>, see <https://acme.example|our notes> & [more](https://acme.example/more)",
        ack=AckPolicy.NONE,
    )
    await messenger.send(base)
    await messenger.send(replace(base, delivery_key="9.9|engineering|x", allow_mentions=True))
    escaped, allowed = slack_world.slack.messages("C0ENG")
    links = "see <https://acme.example|our notes> &amp; <https://acme.example/more|more>"
    assert escaped["text"] == f"Hi &lt;!channel&gt; and &lt;@U0BOSS&gt;, {links}"
    assert allowed["text"] == f"Hi <!channel> and <@U0BOSS>, {links.replace('&amp;', '&')}"


async def test_other_bots_in_a_channel_are_not_expected_to_acknowledge(slack_world: SlackWorld) -> None:
    """A channel's expected acknowledgers are its human members: Herald and other bots are left out."""
    await _sent(slack_world)
    status = await slack_world.herald.desk.status("2.4")
    engineering = next(g for g in status.groups if g.id == "engineering")
    assert engineering.not_acknowledged == ("slack:U0ENG1", "slack:U0ENG2")


async def test_the_remind_now_button_on_a_sent_release_sends_reminders(slack_world: SlackWorld) -> None:
    """Once sent, the release message carries Remind now; the announcer's click reminds who has not acknowledged."""
    await _sent(slack_world)
    await slack_world.until(lambda: "herald:remind" in _text(_thread(slack_world)[0]))
    parent, _replies = _thread(slack_world)
    parent["channel"] = "C0RELEASE"
    before = len([c for c in slack_world.slack.calls if c.method == "chat.postMessage"])
    await _click(slack_world, parent, "herald:remind")
    await slack_world.until(lambda: any("reminders" in e["text"] for e in slack_world.slack.ephemerals))
    await slack_world.herald.engine.run_until_idle()
    after = len([c for c in slack_world.slack.calls if c.method == "chat.postMessage"])
    assert after > before  # the reminders went out
    assert any(e.action == "remind_now" for e in slack_world.store.audit)
