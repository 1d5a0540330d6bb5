"""Retract… in Discord: asked why in a modal from the release's message, approved by a second person, each copy
struck through once."""

from __future__ import annotations

import re
from collections import Counter

from adapters.discord import translate
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.release import ReleaseState
from tests.adapters.discord.conftest import ANNOUNCER, APPROVER, RELEASES, DiscordWorld
from tests.adapters.discord.test_discord_scenario import _approved, _click, _said
from tests.fakes.discord import InteractionResponse

WHY = "The 2.4 rollout broke single sign-on; rolled back to 2.3"
_PATCH = re.compile(r"/channels/(\d+)/messages/(\d+)")


def _ids(*acts: str) -> list[str]:
    return [translate.custom_id(act, "2.4") for act in acts]


def _head(world: DiscordWorld) -> str:
    """The release message's embed, as text."""
    return str(world.fake.messages[world.release_message().id].embeds)


def _patches(world: DiscordWorld) -> Counter[int]:
    """How many edits of each message Discord accepted."""
    return Counter(
        int(found[2]) for c in world.fake.calls_to("PATCH", _PATCH.pattern) if (found := _PATCH.fullmatch(c.path))
    )


async def _sent(world: DiscordWorld) -> set[int]:
    """Release 2.4 sent, its message offering Remind now and Retract…; the ids of the copies sent."""
    await _approved(world)
    await world.herald.engine.run_until_idle()
    await world.until(lambda: world.release_message().custom_ids() == _ids("remind", "retract"))
    places = [
        translate.parse_message_ref(d.message_ref or "")
        for d in world.store.deliveries.values()
        if d.purpose is Purpose.COMMUNIQUE and d.status is DeliveryStatus.SENT
    ]
    return {place[1] for place in places if place is not None}


async def _retract(world: DiscordWorld, reason: str, user: int = ANNOUNCER) -> InteractionResponse:
    """Press Retract… on the release's message and submit ``reason`` in the modal it opens."""
    head = world.release_message()
    opened = await world.fake.click(user, head.id, translate.custom_id("retract", "2.4"))
    assert opened.type == 9  # a modal, as the first answer
    assert opened.data["custom_id"] == translate.modal_id("retract", "2.4")
    answered = await world.fake.submit_modal(
        user,
        translate.modal_id("retract", "2.4"),
        {translate.RETRACT_INPUT: reason},
        channel_id=RELEASES,
        message_id=head.id,
    )
    await world.until(lambda: answered.type not in (5, 6) or answered.followups)
    return answered


async def test_retract_asks_why_then_waits_for_an_approver_who_withdraws_every_copy_once(
    discord_world: DiscordWorld,
) -> None:
    """The release message's Retract… opens a modal with no communiqué behind it; the reason shows with Approve/Drop
    retraction; the approver's click retracts the release and the engine then edits each copy exactly once."""
    copies = await _sent(discord_world)
    assert len(copies) == 4  # #eng-announce, and the DMs of sam, jo and kai (quinn's DMs are closed)

    said = _said(await _retract(discord_world, WHY))

    assert "proposed" in said
    assert discord_world.store.releases["2.4"].retraction_waiting
    await discord_world.until(lambda: discord_world.release_message().custom_ids() == _ids("remind", "final", "drop"))
    assert f"Retraction proposed: {WHY}. An approver approves it or drops it." in _head(discord_world)
    patched = _patches(discord_world)

    await _click(discord_world, discord_world.release_message(), "final", user=APPROVER)

    assert discord_world.store.releases["2.4"].state is ReleaseState.RETRACTED
    await discord_world.until(lambda: f"Retracted: {WHY}" in _head(discord_world))
    await discord_world.until(lambda: discord_world.release_message().custom_ids() == [])
    await discord_world.herald.engine.run_until_idle()
    await discord_world.herald.engine.run_until_idle()
    edits = _patches(discord_world) - patched
    assert {message: edits[message] for message in copies} == dict.fromkeys(copies, 1)
    for message in copies:
        assert WHY in discord_world.fake.messages[message].content
        assert discord_world.fake.messages[message].custom_ids() == []  # nothing left to acknowledge


async def test_an_empty_reason_changes_nothing_and_says_why(discord_world: DiscordWorld) -> None:
    """A blank reason is refused in the answer to the modal; the release stays sent, with Retract… offered."""
    await _sent(discord_world)

    said = _said(await _retract(discord_world, "   "))

    assert "Say why it is withdrawn; nothing was changed." in said
    release = discord_world.store.releases["2.4"]
    assert release.retraction is None
    assert release.state is ReleaseState.SENT
    assert discord_world.release_message().custom_ids() == _ids("remind", "retract")


async def test_drop_retraction_puts_retract_back(discord_world: DiscordWorld) -> None:
    """Drop retraction clears the waiting proposal; the release stays sent and Retract… is offered again."""
    await _sent(discord_world)
    await _retract(discord_world, WHY)
    await discord_world.until(lambda: _ids("drop")[0] in discord_world.release_message().custom_ids())

    said = _said(await _click(discord_world, discord_world.release_message(), "drop", user=APPROVER))

    assert "Dropped the retraction" in said
    assert discord_world.store.releases["2.4"].retraction is None
    await discord_world.until(lambda: discord_world.release_message().custom_ids() == _ids("remind", "retract"))
    assert "Retraction proposed" not in _head(discord_world)
