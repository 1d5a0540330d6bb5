"""Exactly once on Discord, with real processes: kill -9 mid-campaign against the fake Discord REST API.

Each Herald process (``tests/faults/worker.py --discord``) logs in over REST and sends one
channel post and 200 DMs through the real Discord adapter to the fake Discord this test serves
on 127.0.0.1. Copies are counted in the fake by the mark each Acknowledge button carries: every
target must have exactly one, within Discord's nonce window and beyond it.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import translate
from tests.fakes.discord import FakeDiscord
from tests.faults.campaigns import kill_as_it_goes, start_worker
from tests.faults.worker import DISCORD_CHANNEL, DISCORD_DEPLOYER, discord_user

PEOPLE = 200
TARGETS = PEOPLE + 1
RESTART_DEADLINE = 60.0


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(reply_latency=0.15) as fake:
        fake.add_channel(DISCORD_CHANNEL, "kill-test")
        fake.add_user(DISCORD_DEPLOYER, "deployer")
        for i in range(PEOPLE):
            fake.add_user(discord_user(i), f"person{i}")
        yield fake


async def _start(url: str, fake: FakeDiscord) -> asyncio.subprocess.Process:
    return await start_worker(url, TARGETS, "discord", fake.api_url)


def _keys() -> dict[str, str]:
    """Each delivery's Acknowledge button ``custom_id``, to its delivery key."""
    keys = [f"2.4|everyone|discord:channel:{DISCORD_CHANNEL}"]
    keys += [f"2.4|everyone|discord:user:{discord_user(i)}" for i in range(PEOPLE)]
    return {translate.ack_id(key): key for key in keys}


def _copies(fake: FakeDiscord) -> Counter[str]:
    """How many live copies of each delivery the fake holds, found by their buttons' marks."""
    marks = _keys()
    return Counter(
        marks[custom_id]
        for message in fake.messages.values()
        if not message.deleted
        for custom_id in message.custom_ids()
        if custom_id in marks
    )


@pytest.mark.parametrize("beyond_the_nonce_window", [False, True], ids=["within", "beyond"])
async def test_kill_9_mid_campaign_on_discord_sends_every_copy_exactly_once(
    tmp_path: Path, discord_fake: FakeDiscord, beyond_the_nonce_window: bool
) -> None:
    """Three kill -9s, then a restart (with the nonce window passed, or not): every target has one copy."""
    url = f"sqlite:///{tmp_path / 'herald.db'}"
    await kill_as_it_goes(
        lambda: _start(url, discord_fake), lambda: len(_copies(discord_fake)), TARGETS, kills=3, rng=random.Random(5)
    )
    assert 0 < len(_copies(discord_fake)) < TARGETS, "the kills did not fall mid-campaign; the test proved nothing"
    if beyond_the_nonce_window:  # Discord has forgotten every nonce: only looking can tell
        later = discord_fake.clock() + 600
        discord_fake.clock = lambda: later

    final = await _start(url, discord_fake)
    _, stderr = await asyncio.wait_for(final.communicate(), RESTART_DEADLINE)
    assert final.returncode == 0, stderr.decode()

    copies = _copies(discord_fake)
    assert set(copies) == set(_keys().values()), "some targets never got the communiqué"
    assert {key for key, n in copies.items() if n > 1} == set(), "a target got the communiqué twice"
