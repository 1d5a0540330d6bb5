"""One Herald on Slack and Discord at once: one plan, one ledger, one combined status."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from adapters.discord.runtime import DiscordService
from adapters.slack.runtime import SlackService
from bot.app.bootstrap import Herald, memory_storage
from bot.app.platforms import chat_herald
from bot.app.settings import load_settings
from bot.domain.commands import ApproveCommunique, ConfirmRelease, RequestSend
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from storage.memory import MemoryBudgets, MemoryStore
from tests.adapters.discord.conftest import ANNOUNCER, ENG, ENGINEER, RELEASES
from tests.adapters.discord.conftest import seed as seed_discord
from tests.adapters.slack.conftest import SECRET
from tests.adapters.slack.conftest import seed as seed_slack
from tests.fakes import VirtualTime
from tests.fakes.discord import BOT_TOKEN as DISCORD_TOKEN
from tests.fakes.discord import BOT_USER_ID as DISCORD_BOT
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import BOT_TOKEN as SLACK_TOKEN
from tests.fakes.slack import FakeSlack, event_callback, reaction_added, slash_command

PLAN = f"""
product = "Acme Cloud"

[access]
announcers = ["discord:{ANNOUNCER}", "slack:U0ANNOUNCE1"]

[[group]]
id = "engineering"
name = "Engineering"
to = ["slack:#eng-announce", "discord:channel:{ENG}"]
ack = "required"
ack_within = "1d"
message = "Acme Cloud {{{{ version }}}} is live."
"""


@dataclass
class Both:
    slack: FakeSlack
    discord: FakeDiscord
    herald: Herald
    store: MemoryStore
    events_url: str
    http: aiohttp.ClientSession


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def both(fake_discord_patched: None) -> AsyncIterator[Both]:
    port = _free_port()
    async with FakeSlack() as slack, FakeDiscord(members_intent_granted=True) as discord:
        seed_slack(slack)
        seed_discord(discord)
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": SLACK_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "SLACK_SIGNING_SECRET": SECRET,
                "HERALD_HTTP_HOST": "127.0.0.1",
                "HERALD_HTTP_PORT": str(port),
                "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
                "DISCORD_API_URL": discord.api_url,
                "DISCORD_GATEWAY_URL": discord.gateway_url,
            },
            env_file=None,
        )
        store, clock = MemoryStore(), FixedClock()

        storage = memory_storage(store)
        limiter = RateLimiter(timer=VirtualTime(clock), budgets=MemoryBudgets(store), wall_clock=clock.now)
        served = chat_herald(
            plan=parse_plan(PLAN), storage=storage, settings=settings, clock=clock, limiter=limiter, redraw_every=0.2
        )
        assert [type(s) for s in served.services] == [SlackService, DiscordService]
        for service in served.services:
            await service.start()
        await discord.wait_for(lambda: discord.live_sessions > 0)
        try:
            async with aiohttp.ClientSession() as http:
                yield Both(slack, discord, served.herald, store, f"http://127.0.0.1:{port}/slack/events", http)
        finally:
            for service in reversed(served.services):
                await service.close()


async def test_one_release_on_both_platforms_has_one_combined_status(both: Both) -> None:
    """Announced in Discord, sent to a Slack and a Discord channel; receipts from both count in one status,
    which Slack's /release status shows; announcing again from Slack points to the walkthrough in Discord."""
    await both.discord.slash_command(ANNOUNCER, RELEASES, "release", {"version": "2.4"}, subcommand="announce")
    await both.discord.wait_for(lambda: "2.4" in both.store.releases and both.store.releases["2.4"].thread is not None)
    assert both.store.releases["2.4"].thread.startswith("discord:")

    async with both.http.post(
        both.events_url,
        data=(
            request := slash_command(
                SECRET,
                text="announce 2.4",
                user_id="U0ANNOUNCE1",
                channel_id="C0RELEASE",
                response_url=both.slack.response_url("again"),
            )
        ).body,
        headers=request.headers,
    ) as response:
        assert response.status == 200
    await both.discord.wait_for(lambda: both.slack.responses_to("again"))
    assert "already being announced in Discord" in both.slack.responses_to("again")[0]["text"]

    actor = f"discord:{ANNOUNCER}"
    for command in (
        ConfirmRelease(actor=actor, version="2.4"),
        ApproveCommunique(actor=actor, version="2.4", group_id="engineering"),
        RequestSend(actor=actor, version="2.4"),
    ):
        assert not (await both.herald.desk.handle(command)).failed
    await both.herald.engine.run_until_idle()

    (slack_post,) = both.slack.messages("C0ENG")
    (discord_post,) = [m for m in both.discord.messages_in(ENG) if m.author_id == DISCORD_BOT]
    event = reaction_added(user="U0ENG1", reaction="white_check_mark", channel="C0ENG", ts=slack_post["ts"])
    request = event_callback(SECRET, event=event)
    async with both.http.post(both.events_url, data=request.body, headers=request.headers) as response:
        assert response.status == 200
    await both.discord.react(ENGINEER, discord_post.id)
    await both.discord.wait_for(lambda: len(both.store.receipts) == 2)

    status = await both.herald.desk.status("2.4")
    (engineering,) = status.groups
    assert (engineering.sent, engineering.acknowledged) == (2, 2)
    assert {r.person for r in both.store.receipts.values()} == {"slack:U0ENG1", f"discord:{ENGINEER}"}
    assert "slack:U0ENG2" in engineering.not_acknowledged  # the Slack channel's other member
