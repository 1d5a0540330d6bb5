"""Retract… in Slack: asked why in a modal, approved by a second person, each copy struck through once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from adapters.slack import translate
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.release import ReleaseState
from tests.adapters.slack.conftest import SECRET, SlackWorld
from tests.adapters.slack.test_scenario import _approved, _click, _text, _thread
from tests.fakes.slack import view_submission

WHY = "The 2.4 rollout broke single sign-on; rolled back to 2.3"


def _head(world: SlackWorld) -> dict[str, Any]:
    """The release's message (the thread's head) as it stands now."""
    parent, _ = _thread(world)
    return world.slack.message("C0RELEASE", parent["ts"])


def _buttons(message: dict[str, Any]) -> list[str]:
    """The action ids of a message's buttons, in order."""
    return [
        str(element.get("action_id"))
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def _withdrawals(world: SlackWorld) -> Counter[tuple[str, str]]:
    """chat.update calls that carry a retraction's delivery key, by the message they changed."""
    return Counter(
        (str(call.params["channel"]), str(call.params["ts"]))
        for call in world.slack.calls_to("chat.update")
        if "|retraction|" in str(((call.params.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
    )


def _reason(text: str) -> dict[str, Any]:
    return {translate.RETRACT_BLOCK: {translate.RETRACT_INPUT: {"type": "plain_text_input", "value": text}}}


async def _sent(world: SlackWorld) -> None:
    """Release 2.4 sent to every copy, its message offering Remind now and Retract…."""
    await _approved(world)
    await world.herald.engine.run_until_idle()
    await world.until(lambda: _buttons(_head(world)) == ["herald:remind", translate.RETRACT])


async def _retract_modal(world: SlackWorld, user: str = "U0ANNOUNCE1") -> dict[str, Any]:
    """Press Retract… on the release's message; the modal it opens."""
    opened = len(world.slack.views)
    await _click(world, _head(world), translate.RETRACT, user=user)
    await world.until(lambda: len(world.slack.views) > opened)
    return world.slack.views[-1].view


async def test_retract_asks_why_then_waits_for_an_approver_who_withdraws_every_copy_once(
    slack_world: SlackWorld,
) -> None:
    """Retract… opens its own modal on the release; the reason shows with Approve/Drop retraction; the approver's
    click retracts the release and the engine then updates each copy exactly once."""
    await _sent(slack_world)
    copies = {
        translate.parse_message_ref(d.message_ref or "")
        for d in slack_world.store.deliveries.values()
        if d.purpose is Purpose.COMMUNIQUE and d.status is DeliveryStatus.SENT
    }
    assert len(copies) == 5  # #eng-announce, and the DMs of sam, jo, kai and the lead

    modal = await _retract_modal(slack_world)
    assert modal["callback_id"] == translate.RETRACT_VIEW
    assert modal["private_metadata"] == "2.4||C0RELEASE"  # the release's, no communiqué
    await slack_world.post(
        view_submission(
            SECRET,
            user_id="U0ANNOUNCE1",
            callback_id=translate.RETRACT_VIEW,
            private_metadata=modal["private_metadata"],
            values=_reason(WHY),
        )
    )
    await slack_world.until(lambda: slack_world.store.releases["2.4"].retraction_waiting)
    await slack_world.until(lambda: _buttons(_head(slack_world)) == ["herald:remind", translate.FINAL, translate.DROP])
    assert f"Retraction proposed: {WHY}. An approver approves it or drops it." in _text(_head(slack_world))
    assert "Approve retraction" in _text(_head(slack_world))
    assert _withdrawals(slack_world) == Counter()

    await _click(slack_world, _head(slack_world), translate.FINAL, user="U0APPROVE1")

    await slack_world.until(lambda: slack_world.store.releases["2.4"].state is ReleaseState.RETRACTED)
    await slack_world.until(lambda: f"Retracted: {WHY}" in _text(_head(slack_world)))
    assert _buttons(_head(slack_world)) == []
    assert "Retraction proposed" not in _text(_head(slack_world))
    await slack_world.herald.engine.run_until_idle()
    await slack_world.herald.engine.run_until_idle()
    withdrawn = _withdrawals(slack_world)
    assert set(withdrawn) == copies
    assert set(withdrawn.values()) == {1}, "a copy was withdrawn more than once"
    channel, ts = next(iter(sorted(copies)))
    assert WHY in slack_world.slack.message(channel, ts)["text"]


async def test_an_empty_reason_is_refused_in_the_retract_modal(slack_world: SlackWorld) -> None:
    """The modal stays open saying why is missing; nothing is proposed and Send back's modal is not involved."""
    await _sent(slack_world)
    modal = await _retract_modal(slack_world)
    submit = {"user_id": "U0ANNOUNCE1", "callback_id": translate.RETRACT_VIEW}

    empty = await slack_world.post(
        view_submission(SECRET, private_metadata=modal["private_metadata"], values=_reason("  \n "), **submit)
    )

    assert empty.status == 200
    answer = await empty.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {translate.RETRACT_BLOCK: "Say why it is withdrawn; nothing was changed."}
    await slack_world.front.flush()
    release = slack_world.store.releases["2.4"]
    assert release.retraction is None
    assert release.state is ReleaseState.SENT


async def test_drop_retraction_puts_retract_back_and_withdraws_nothing(slack_world: SlackWorld) -> None:
    """Drop retraction (a cancel while it waits) clears the proposal; the release stays sent, its copies untouched."""
    await _sent(slack_world)
    modal = await _retract_modal(slack_world)
    await slack_world.post(
        view_submission(
            SECRET,
            user_id="U0ANNOUNCE1",
            callback_id=translate.RETRACT_VIEW,
            private_metadata=modal["private_metadata"],
            values=_reason(WHY),
        )
    )
    await slack_world.until(lambda: translate.DROP in _buttons(_head(slack_world)))

    await _click(slack_world, _head(slack_world), translate.DROP, user="U0APPROVE1")

    await slack_world.until(lambda: slack_world.store.releases["2.4"].retraction is None)
    await slack_world.until(lambda: _buttons(_head(slack_world)) == ["herald:remind", translate.RETRACT])
    assert "Retraction proposed" not in _text(_head(slack_world))
    await slack_world.herald.engine.run_until_idle()
    assert slack_world.store.releases["2.4"].state is ReleaseState.SENT
    assert _withdrawals(slack_world) == Counter()
