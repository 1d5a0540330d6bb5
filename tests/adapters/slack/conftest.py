"""A Herald serving Slack over HTTP, against the fake Slack Web API, driven by signed requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from adapters.slack.app import SlackFrontDoor
from adapters.slack.server import HttpServer
from bot.app.bootstrap import Herald, memory_storage
from bot.app.platforms import chat_herald
from bot.app.settings import load_settings
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from storage.memory import MemoryBudgets, MemoryStore
from tests.eventually import eventually
from tests.fakes import VirtualTime
from tests.fakes.slack import BOT_TOKEN, BOT_USER_ID, FakeSlack, SignedRequest

SECRET = "herald-signing-secret-for-tests"

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["slack:U0ANNOUNCE1"]
approvers = ["slack:U0APPROVE1"]

[[group]]
id = "engineering"
name = "Engineering"
to = ["slack:#eng-announce"]
ack = "optional"
slack_username = "Release Bot"
slack_icon = ":rocket:"
message = ":rocket: **Acme Cloud {{ version }}** is live. Notes: https://example.com/releases/{{ version }}"

[[group]]
id = "support"
name = "Customer Support"
to = ["slack:@U0SUPPORT1", "slack:usergroup:S0SUPPORT", "slack:email:lead@example.com"]
after = ["engineering"]
ack_within = "2h"
remind_every = "30m"
escalate_to = ["slack:@U0SUPLEAD1"]
message = "Support: Acme Cloud {{ version }} is live. Please acknowledge."
"""


@dataclass
class SlackWorld:
    """Herald on Slack, the fake Slack, and how to talk to Herald as Slack does."""

    slack: FakeSlack
    herald: Herald
    front: SlackFrontDoor
    store: MemoryStore
    clock: FixedClock
    url: str
    http: aiohttp.ClientSession

    async def post(self, request: SignedRequest) -> aiohttp.ClientResponse:
        """Send a signed request to Herald's /slack/events, as Slack would."""
        async with self.http.post(self.url, data=request.body, headers=request.headers) as response:
            await response.read()
            return response

    async def until(self, condition: Callable[[], Any]) -> None:
        """Wait (five seconds at most) until ``condition`` holds: Herald's listeners work after the ack."""
        await eventually(condition)


def seed(slack: FakeSlack) -> None:
    """The workspace every Slack test runs in."""
    slack.add_user("U0ANNOUNCE1", "dana")
    slack.add_user("U0APPROVE1", "lee")
    slack.add_user("U0SUPPORT1", "sam")
    slack.add_user("U0SUP2", "jo")
    slack.add_user("U0SUP3", "kai")
    slack.add_user("U0LEAD", "lead", email="lead@example.com")
    slack.add_user("U0SUPLEAD1", "pat")
    slack.add_user("U0ENG1", "alex")
    slack.add_user("U0ENG2", "kim")
    slack.add_user("U0OUTSIDER", "mallory")
    slack.add_channel("C0RELEASE", "releases", members=["U0ANNOUNCE1", "U0APPROVE1", "U0OUTSIDER", BOT_USER_ID])
    slack.add_user("U0OTHERBOT", "deploybot", is_bot=True)
    slack.add_channel("C0ENG", "eng-announce", members=["U0ENG1", "U0ENG2", "U0OTHERBOT", BOT_USER_ID])
    slack.add_usergroup("S0SUPPORT", ["U0SUP2", "U0SUP3"])


def herald_on(
    slack: FakeSlack, environment: dict[str, str], plan: str = PLAN
) -> tuple[Herald, SlackFrontDoor, MemoryStore, FixedClock]:
    """Herald wired to the fake Slack as ``herald run`` wires it, on memory storage and a settable clock."""
    settings = load_settings(
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url, **environment}, env_file=None
    )
    assert settings.slack is not None
    clock = FixedClock()
    store = MemoryStore()
    limiter = RateLimiter(timer=VirtualTime(clock), budgets=MemoryBudgets(store), wall_clock=clock.now)

    served = chat_herald(
        plan=parse_plan(plan),
        storage=memory_storage(store),
        settings=settings,
        clock=clock,
        limiter=limiter,
        redraw_every=0.2,
    )
    return served.herald, served.front(SlackFrontDoor), store, clock


@pytest.fixture
async def slack_world() -> AsyncIterator[SlackWorld]:
    async with FakeSlack() as slack:
        seed(slack)
        herald, front, store, clock = herald_on(slack, {"SLACK_SIGNING_SECRET": SECRET})
        server = HttpServer(front.app, "127.0.0.1", 0, signing_secret=front.signing_secret)
        await server.start()
        try:
            async with aiohttp.ClientSession() as http:
                yield SlackWorld(
                    slack, herald, front, store, clock, f"http://127.0.0.1:{server.port}/slack/events", http
                )
            await front.flush()
        finally:
            await server.close()


def advance(world: SlackWorld, delta: timedelta) -> None:
    """Move Herald's clock."""
    world.clock.advance(delta)
