"""Exactly once on Slack, with real processes: kill -9 mid-campaign against a fake Slack enforcing every tier.

Each Herald process (``tests/faults/worker.py --slack``) sends one channel post and 200 DMs
through the real Slack adapter, within Slack's budgets, to the fake Slack this test serves on
127.0.0.1 with every documented rate limit enforced. Copies are counted in the fake, by the
delivery key each one carries as metadata: every target must have exactly one.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.slack import BOT_USER_ID, FakeSlack
from tests.faults.campaigns import kill_as_it_goes, start_worker
from tests.faults.worker import slack_user

PEOPLE = 200
TARGETS = PEOPLE + 1  # and the channel
WORKSPACE = 300  # people in the fake workspace
RESTART_DEADLINE = 60.0  # seconds from the last restart to every target delivered


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(enforce_limits=True, reply_latency=0.15) as fake:
        fake.add_user("U0DEPLOYER", "deployer")
        for i in range(WORKSPACE):
            fake.add_user(slack_user(i), f"person{i}")
        fake.add_channel("C0KILL", "kill-test", members=[BOT_USER_ID, "U0DEPLOYER", slack_user(0)])
        yield fake


async def _start(url: str, slack: FakeSlack, targets: int = TARGETS) -> asyncio.subprocess.Process:
    return await start_worker(url, targets, "slack", slack.api_url)


async def _finish(process: asyncio.subprocess.Process, within: float) -> None:
    _, stderr = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode == 0, stderr.decode()


def _copies(slack: FakeSlack) -> Counter[str]:
    """How many copies of each delivery the fake holds, by the delivery key in their metadata."""
    channels = ["C0KILL", *(slack.dm_channel(slack_user(i)) for i in range(WORKSPACE))]
    return Counter(
        message["metadata"]["event_payload"]["key"]
        for channel in channels
        for message in slack.messages(channel)
        if message.get("metadata", {}).get("event_type") == "herald_delivery"
    )


def _expected(people: int) -> set[str]:
    return {"2.4|everyone|slack:C0KILL", *(f"2.4|everyone|slack:@{slack_user(i)}" for i in range(people))}


def _exactly_once(slack: FakeSlack, people: int = PEOPLE) -> None:
    copies, expected = _copies(slack), _expected(people)
    assert set(copies) == expected, f"{len(expected - set(copies))} targets never got the communiqué"
    assert {key for key, n in copies.items() if n > 1} == set(), "a target got the communiqué twice"
    assert slack.early_calls == [], "Herald called inside a Retry-After Slack had announced"
    assert slack.untabled_calls == []


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
async def test_kill_9_mid_campaign_on_slack_sends_every_copy_exactly_once(
    tmp_path: Path, slack: FakeSlack, seed: int
) -> None:
    """Three kill -9s at random points, then a restart: every target has one copy within a minute of it."""
    url = f"sqlite:///{tmp_path / 'herald.db'}"
    await kill_as_it_goes(
        lambda: _start(url, slack), lambda: len(_copies(slack)), TARGETS, kills=3, rng=random.Random(seed)
    )
    assert 0 < len(_copies(slack)) < TARGETS, "the kills did not fall mid-campaign; the test proved nothing"

    await _finish(await _start(url, slack), within=RESTART_DEADLINE)

    _exactly_once(slack)


@pytest.mark.postgres
async def test_two_replicas_on_postgres_one_killed_send_every_copy_exactly_once(
    postgres_url: str, slack: FakeSlack
) -> None:
    """Two processes share the campaign on PostgreSQL; one is killed mid-way and the other finishes it, once each."""
    survivor = await _start(postgres_url, slack)
    await kill_as_it_goes(
        lambda: _start(postgres_url, slack), lambda: len(_copies(slack)), TARGETS, kills=1, rng=random.Random(7)
    )
    assert len(_copies(slack)) < TARGETS, "the campaign ended before the kill; the test proved nothing"

    await _finish(survivor, within=RESTART_DEADLINE + 30)

    _exactly_once(slack)


async def test_one_process_whose_waits_outlast_its_lease_sends_300_copies_once(
    tmp_path: Path, slack: FakeSlack
) -> None:
    """A 1 s lease and claims that wait seconds for the ceiling: 300 DMs and a channel, each once, no 429."""
    url = f"sqlite:///{tmp_path / 'herald.db'}"

    await _finish(await _start(url, slack, targets=WORKSPACE + 1), within=120)

    _exactly_once(slack, people=WORKSPACE)
    assert [call for call in slack.calls_to("chat.postMessage") if call.error] == []
