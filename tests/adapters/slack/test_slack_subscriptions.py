"""Subscribing in Slack: the signed slash command, a subscriber's DM with its Unsubscribe button, and the click."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.slack import translate
from adapters.slack.server import HttpServer
from bot.domain.commands import parse_release_command
from tests.adapters.slack.conftest import SECRET, SlackWorld, herald_on, seed
from tests.fakes.slack import FakeSlack, block_action, slash_command
from tests.fakes.slack._interactivity import find_button

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["slack:U0ANNOUNCE1"]

[[group]]
id = "team"
to = ["slack:#eng-announce"]
ack = "none"
message = "Acme Cloud {{ version }} is live."

[[group]]
id = "api-news"
to = ["subscribers:api"]
components = ["api", "web"]
message = "Acme Cloud {{ version }}: the API changed."
"""
KIM = "U0ENG2"


@pytest.fixture
async def world() -> AsyncIterator[SlackWorld]:
    async with FakeSlack() as slack:
        seed(slack)
        herald, front, store, clock = herald_on(slack, {"SLACK_SIGNING_SECRET": SECRET}, PLAN)
        server = HttpServer(front.app, "127.0.0.1", 0, signing_secret=front.signing_secret)
        await server.start()
        try:
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{server.port}/slack/events"
                yield SlackWorld(slack, herald, front, store, clock, url, http)
            await front.flush()
        finally:
            await server.close()


async def _type(world: SlackWorld, text: str, user: str, name: str) -> str:
    """``/release TEXT`` typed by ``user`` in a channel; Herald's private answer."""
    response_url = world.slack.response_url(name)
    request = slash_command(SECRET, text=text, user_id=user, channel_id="C0ENG", response_url=response_url)
    assert (await world.post(request)).status == 200
    await world.until(lambda: world.slack.responses_to(name))
    return str(world.slack.responses_to(name)[-1]["text"])


async def _released(world: SlackWorld, line: str) -> None:
    version = line.split()[0]
    for said in (f"announce {line}", f"confirm {version}", f"approve {version} all", f"send {version}"):
        reply = await world.herald.desk.handle(parse_release_command(said, "slack:U0ANNOUNCE1"))
        assert not reply.failed, said
    await world.herald.engine.run_until_idle()


def _dms(world: SlackWorld) -> list[dict[str, Any]]:
    return world.slack.messages(world.slack.dm_channel(KIM))


async def test_a_slack_subscriber_to_api_at_major_hears_only_of_api_majors_and_leaves_with_one_click(
    world: SlackWorld,
) -> None:
    said = await _type(world, "subscribe api major", KIM, "subscribe")
    assert said == "Subscribed: you will hear here of api (major releases). To stop, type /release unsubscribe api."

    await _released(world, "2.4.0")
    await _released(world, "2.5.0 web")
    await _released(world, "2.6.0 api")  # a minor release of api (one version is one release: not 2.5.0 again)
    assert _dms(world) == []
    await _released(world, "3.0.0 api")
    [dm] = _dms(world)
    assert "Acme Cloud 3.0.0: the API changed." in str(dm["blocks"])
    button = find_button(dm, translate.UNSUBSCRIBE)
    assert button is not None
    block_id, element = button
    assert element["value"] == "api"

    clicked = block_action(
        SECRET,
        user_id=KIM,
        action_id=translate.UNSUBSCRIBE,
        value="api",
        block_id=block_id,
        channel_id=world.slack.dm_channel(KIM),
        message_ts=dm["ts"],
        response_url=world.slack.response_url("unsubscribe"),
        message=dm,
    )
    assert (await world.post(clicked)).status == 200
    await world.until(lambda: world.slack.ephemerals)
    assert world.slack.ephemerals[-1]["text"] == "Unsubscribed from api (major releases)."
    assert world.store.subscriptions == {}

    await _released(world, "4.0.0 api")
    assert len(_dms(world)) == 1
    assert await _type(world, "subscriptions", KIM, "list") == (
        "You are not subscribed to any release announcements here. /release subscribe …"
    )
