"""A correction in Slack: "Send a correction" once sent, a second person's approval, each copy updated once."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from adapters.slack import translate
from adapters.slack.messenger import SlackMessenger
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.service.engine.corrections import follow_up
from bot.service.messages import outgoing
from tests.adapters.slack.conftest import SECRET, SlackWorld
from tests.adapters.slack.test_scenario import _approved, _click, _text, _thread
from tests.fakes.slack import view_submission

PEOPLE = 297  # in the support user group: with Sam, the lead and #eng-announce, 300 copies
CORRECTED = "Support: Acme Cloud 2.4 is live. The FAQ moved: https://example.com/faq/2.4. Please acknowledge."


def _big_support_group(world: SlackWorld) -> None:
    people = [f"U1{i:06d}" for i in range(PEOPLE)]
    for person in people:
        world.slack.add_user(person, f"person{person}")
    world.slack.add_usergroup("S0SUPPORT", people)


def _corrections(world: SlackWorld) -> Counter[tuple[str, str]]:
    """chat.update calls that carry a correction's mark, by the message they changed."""
    return Counter(
        (str(call.params["channel"]), str(call.params["ts"]))
        for call in world.slack.calls_to("chat.update")
        if "|correction-" in str(((call.params.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
    )


async def _propose(world: SlackWorld, text: str, user: str = "U0ANNOUNCE1") -> dict[str, Any]:
    """Press the support communiqué's edit button ("Send a correction" once sent) and save ``text`` in its modal."""
    _, replies = _thread(world)
    support = replies[1]
    opened = len(world.slack.views)
    await _click(world, support, translate.EDIT, user=user)
    await world.until(lambda: len(world.slack.views) > opened)
    modal = world.slack.views[-1]
    await world.post(
        view_submission(
            SECRET,
            user_id=user,
            callback_id=translate.EDIT_VIEW,
            private_metadata=modal.view["private_metadata"],
            values={translate.EDIT_BLOCK: {translate.EDIT_INPUT: {"type": "plain_text_input", "value": text}}},
        )
    )
    await world.until(lambda: world.store.releases["2.4"].communiques["support"].correction is not None)
    # Redrawn with the correction and its buttons: Approve correction, Edit correction, Drop correction.
    await world.until(lambda: "Approve correction" in _text(world.slack.message("C0RELEASE", support["ts"])))
    return world.slack.message("C0RELEASE", support["ts"])


async def test_a_correction_after_a_300_copy_send_updates_every_copy_once(slack_world: SlackWorld) -> None:
    """300 copies sent; the correction, approved by the approver, is one chat.update per copy and no new post."""
    _big_support_group(slack_world)
    await _approved(slack_world)
    await slack_world.herald.engine.run_until_idle()
    copies = {d.message_ref: d for d in slack_world.store.deliveries.values() if d.purpose is Purpose.COMMUNIQUE}
    assert len(copies) == 300
    posts = len(slack_world.slack.calls_to("chat.postMessage"))
    _, replies = _thread(slack_world)
    await slack_world.until(
        lambda: "Send a correction" in _text(slack_world.slack.message("C0RELEASE", replies[1]["ts"]))
    )

    support = await _propose(slack_world, CORRECTED)
    await _click(slack_world, support, translate.APPROVE, user="U0APPROVE1")
    await slack_world.until(lambda: slack_world.store.releases["2.4"].communiques["support"].revision == 2)
    await slack_world.herald.engine.run_until_idle()
    await slack_world.herald.engine.run_until_idle()

    support_copies = {translate.parse_message_ref(ref or "") for ref, d in copies.items() if d.group_id == "support"}
    updated = _corrections(slack_world)
    assert set(updated) == support_copies
    assert len(updated) == 299
    assert set(updated.values()) == {1}, "a copy was updated more than once"
    posted = slack_world.slack.calls_to("chat.postMessage")[posts:]
    assert [call.params.get("channel") for call in posted if call.params.get("channel") != "C0RELEASE"] == []
    channel, ts = next(iter(support_copies))
    shown = slack_world.slack.message(channel, ts)
    assert "The FAQ moved" in shown["text"]
    assert "Corrected: revision 2" in _text(shown)
    corrections = [d for d in slack_world.store.deliveries.values() if d.purpose is Purpose.CORRECTION]
    assert {d.status for d in corrections} == {DeliveryStatus.SENT}
    assert slack_world.slack.untabled_calls == []
    assert slack_world.slack.early_calls == []


async def test_the_corrector_cannot_approve_their_own_correction_and_hears_why(slack_world: SlackWorld) -> None:
    """Four eyes: the announcer who wrote the correction is told privately that someone else must approve it."""
    await _approved(slack_world)
    await slack_world.herald.engine.run_until_idle()
    support = await _propose(slack_world, CORRECTED)
    told = len(slack_world.slack.ephemerals)

    await _click(slack_world, support, translate.APPROVE, user="U0ANNOUNCE1")

    await slack_world.until(lambda: len(slack_world.slack.ephemerals) > told)
    assert "someone else must approve it" in slack_world.slack.ephemerals[-1]["text"]
    assert slack_world.store.releases["2.4"].communiques["support"].revision == 1
    assert _corrections(slack_world) == Counter()


async def test_an_edit_in_doubt_that_landed_is_found_on_the_copy_and_not_made_again(slack_world: SlackWorld) -> None:
    """carries() reads the one message: before the edit it lacks the correction's mark, after it has it."""
    await _approved(slack_world)
    await slack_world.herald.engine.run_until_idle()
    copy = slack_world.store.deliveries["2.4|support|slack:@U0SUPPORT1"]
    messenger = SlackMessenger(slack_world.front.gateway)
    correction = replace(
        copy, key="2.4|support|correction-2|slack:@U0SUPPORT1", purpose=Purpose.CORRECTION, replaces=copy.key
    )
    message = outgoing(slack_world.herald.plan, correction, CORRECTED)
    assert message is not None

    before = await messenger.carries(message, copy.message_ref or "")
    await messenger.edit(message, copy.message_ref or "")
    after = await messenger.carries(message, copy.message_ref or "")

    assert (before, after) == (False, True)
    assert follow_up(message).text.startswith("Correction: this replaces the earlier Customer Support message")


async def test_a_copy_slack_no_longer_has_is_a_permanent_failure_of_its_correction_not_retried(
    slack_world: SlackWorld,
) -> None:
    """chat.update answers message_not_found (the copy was deleted): the correction fails once, with the reason."""
    await _approved(slack_world)
    await slack_world.herald.engine.run_until_idle()
    copy = slack_world.store.deliveries["2.4|support|slack:@U0SUPPORT1"]
    channel, ts = translate.parse_message_ref(copy.message_ref or "") or ("", "")
    slack_world.slack._messages[channel] = [m for m in slack_world.slack.messages(channel) if m["ts"] != ts]
    support = await _propose(slack_world, CORRECTED)
    await _click(slack_world, support, translate.APPROVE, user="U0APPROVE1")
    await slack_world.until(lambda: slack_world.store.releases["2.4"].communiques["support"].revision == 2)

    await slack_world.herald.engine.run_until_idle()

    correction = slack_world.store.deliveries["2.4|support|correction-2|slack:@U0SUPPORT1"]
    assert (correction.status, correction.permanent) == (DeliveryStatus.FAILED, True)
    assert "message_not_found" in (correction.error or "")
    tries = [c for c in slack_world.slack.calls_to("chat.update") if c.params.get("ts") == ts]
    assert len(tries) == 1
