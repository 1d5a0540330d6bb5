"""Subscribing in Discord: ``/release subscribe`` through a real discord.py client, the subscriber's DM with its
Unsubscribe button, and the click."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.discord import translate
from bot.domain.commands import parse_release_command
from bot.service.clock import FixedClock
from storage.memory import MemoryStore
from tests.adapters.discord.conftest import ANNOUNCER, ENG, ENGINEER, RELEASES, DiscordWorld, seed, start_herald
from tests.fakes.discord import BOT_USER_ID, FakeDiscord, FakeMessage, InteractionResponse

PLAN = f"""
product = "Acme Cloud"

[access]
announcers = ["discord:{ANNOUNCER}"]

[[group]]
id = "team"
to = ["discord:channel:{ENG}"]
ack = "none"
message = "Acme Cloud {{{{ version }}}} is live."

[[group]]
id = "api-news"
to = ["subscribers:api"]
components = ["api", "web"]
ack = "none"
message = "Acme Cloud {{{{ version }}}}: the API changed."
"""


@pytest.fixture
async def world(fake_discord_patched: None) -> AsyncIterator[DiscordWorld]:
    async with FakeDiscord(members_intent_granted=True) as fake:
        seed(fake)
        running = await start_herald(fake, MemoryStore(), FixedClock(), PLAN)
        try:
            yield running
        finally:
            await running.service.close()


def _said(response: InteractionResponse) -> str:
    if response.content:
        return response.content
    return str(response.followups[-1].get("content", "")) if response.followups else ""


async def _released(world: DiscordWorld, line: str) -> None:
    version = line.split()[0]
    for said in (f"announce {line}", f"confirm {version}", f"approve {version} all", f"send {version}"):
        reply = await world.herald.desk.handle(parse_release_command(said, f"discord:{ANNOUNCER}"))
        assert not reply.failed, said
    await world.herald.engine.run_until_idle()


def _dms(world: DiscordWorld) -> list[FakeMessage]:
    channel = world.fake.dm_channel_of(ENGINEER)
    if channel is None:
        return []
    return [m for m in world.fake.messages_in(channel) if m.author_id == BOT_USER_ID and m.interaction_id is None]


async def test_a_discord_subscriber_hears_only_of_api_majors_and_leaves_with_the_button(world: DiscordWorld) -> None:
    response = await world.fake.slash_command(
        ENGINEER, RELEASES, "release", {"component": "api", "level": "major"}, subcommand="subscribe"
    )
    await world.until(lambda: _said(response))
    assert _said(response) == (
        "Subscribed: you will hear here of api (major releases). To stop, type /release unsubscribe api."
    )

    await _released(world, "2.4.0")
    await _released(world, "2.5.0 web")
    await _released(world, "2.6.0 api")
    assert _dms(world) == []
    await _released(world, "3.0.0 api")
    [dm] = _dms(world)
    assert "Acme Cloud 3.0.0: the API changed." in dm.content
    assert dm.custom_ids() == [f"{translate.UNSUBSCRIBE}:api"]

    clicked = await world.fake.click(ENGINEER, dm.id, f"{translate.UNSUBSCRIBE}:api")
    await world.until(lambda: _said(clicked))
    assert _said(clicked) == "Unsubscribed from api (major releases)."
    assert world.store.subscriptions == {}
    await _released(world, "4.0.0 api")
    assert len(_dms(world)) == 1
