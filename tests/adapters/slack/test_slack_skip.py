"""/release skip in Slack: the group is left out, and its walkthrough message says so, with no buttons left."""

from __future__ import annotations

from adapters.slack import translate
from tests.adapters.slack.conftest import SECRET, SlackWorld
from tests.fakes.slack import slash_command


async def _command(world: SlackWorld, text: str, name: str) -> None:
    request = slash_command(
        SECRET, text=text, user_id="U0ANNOUNCE1", channel_id="C0RELEASE", response_url=world.slack.response_url(name)
    )
    assert (await world.post(request)).status == 200


async def test_a_skipped_groups_walkthrough_message_loses_its_buttons_and_says_why(slack_world: SlackWorld) -> None:
    await _command(slack_world, "announce 2.4", "announce")
    await slack_world.until(lambda: slack_world.store.releases.get("2.4") and slack_world.store.releases["2.4"].thread)
    ref = slack_world.store.releases["2.4"].communiques["support"].message_ref
    assert ref is not None
    ts = ref.rsplit(":", 1)[-1]
    assert translate.APPROVE in str(slack_world.slack.message("C0RELEASE", ts)["blocks"])

    await _command(slack_world, "skip 2.4 support nothing for support this time", "skip")

    def redrawn() -> bool:
        return translate.APPROVE not in str(slack_world.slack.message("C0RELEASE", ts)["blocks"])

    await slack_world.until(redrawn)
    shown = str(slack_world.slack.message("C0RELEASE", ts)["blocks"])
    assert "note: left out by slack:U0ANNOUNCE1: nothing for support this time" in shown
    assert "support" not in slack_world.store.releases["2.4"].communiques
