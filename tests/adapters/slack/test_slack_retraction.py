"""A retraction in Slack: typed by the announcer, approved by the approver, every one of 300 copies struck out once."""

from __future__ import annotations

from collections import Counter

from adapters.slack import translate
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.release import ReleaseState
from tests.adapters.slack.conftest import SlackWorld
from tests.adapters.slack.test_scenario import _approved, _command, _text
from tests.adapters.slack.test_slack_corrections import _big_support_group

REASON = "rolled back: the migration failed on EU-west"


def _withdrawn(world: SlackWorld) -> Counter[tuple[str, str]]:
    """chat.update calls that carry a retraction's mark, by the message they changed."""
    return Counter(
        (str(call.params["channel"]), str(call.params["ts"]))
        for call in world.slack.calls_to("chat.update")
        if "|retraction|" in str(((call.params.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
    )


async def test_a_retraction_after_a_300_copy_send_strikes_out_every_copy_once(slack_world: SlackWorld) -> None:
    """300 copies sent; /release retract, then the approver's /release approve: one chat.update per copy, no post."""
    _big_support_group(slack_world)
    await _approved(slack_world)
    await slack_world.herald.engine.run_until_idle()
    copies = {d.message_ref for d in slack_world.store.deliveries.values() if d.purpose is Purpose.COMMUNIQUE}
    assert len(copies) == 300
    posts = len(slack_world.slack.calls_to("chat.postMessage"))

    await _command(slack_world, f"retract 2.4 {REASON}")
    await slack_world.until(lambda: slack_world.store.releases["2.4"].retraction is not None)
    await _command(slack_world, "approve 2.4", user="U0APPROVE1", name="approve")
    await slack_world.until(lambda: slack_world.store.releases["2.4"].state is ReleaseState.RETRACTED)
    await slack_world.herald.engine.run_until_idle()
    await slack_world.herald.engine.run_until_idle()

    withdrawn = _withdrawn(slack_world)
    assert set(withdrawn) == {translate.parse_message_ref(ref or "") for ref in copies}
    assert set(withdrawn.values()) == {1}, "a copy was struck out more than once"
    posted = slack_world.slack.calls_to("chat.postMessage")[posts:]
    assert [c.params.get("channel") for c in posted if c.params.get("channel") != "C0RELEASE"] == []
    channel, ts = next(iter(withdrawn))
    shown = slack_world.slack.message(channel, ts)
    assert shown["text"].startswith(f"*Retracted:* {REASON}")
    assert "~" in shown["text"]
    assert translate.ACK not in _text(shown)  # nothing left to acknowledge
    retractions = [d for d in slack_world.store.deliveries.values() if d.purpose is Purpose.RETRACTION]
    assert {d.status for d in retractions} == {DeliveryStatus.SENT}
    assert slack_world.slack.untabled_calls == []
    assert slack_world.slack.early_calls == []
