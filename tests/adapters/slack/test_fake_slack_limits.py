"""With limits on, the fake Slack holds each method to its documented rate limit and answers 429 as Slack does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, BOT_USER_ID, FakeSlack, Throttle
from tests.fakes.slack.limits import LIMITS, Tier

TIER_3_BURST = 8  # 50 a minute, ten seconds' worth


@dataclass
class SettableClock:
    """Monotonic seconds that move only when a test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


def _seed(fake: FakeSlack) -> None:
    fake.add_user("U0ALICE", "alice", email="alice@example.com")
    for channel in ("C0ONE", "C0TWO", "C0THREE", "C0FOUR"):
        fake.add_channel(channel, channel.lower(), members=[BOT_USER_ID])


@pytest.fixture
async def slack(clock: SettableClock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=clock, enforce_limits=True) as fake:
        _seed(fake)
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass(frozen=True)
class Answer:
    """What came back: the HTTP status, the Retry-After header, and the JSON body."""

    status: int
    retry_after: str | None
    body: dict[str, Any]


async def call(
    http: aiohttp.ClientSession, slack: FakeSlack, method: str, token: str = BOT_TOKEN, **params: Any
) -> Answer:
    """Call one Web API method on the fake, as slack_sdk would (JSON body, bearer token)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(slack.api_url + method, json=params, headers=headers) as response:
        return Answer(response.status, response.headers.get("Retry-After"), await response.json())


async def lookups(http: aiohttp.ClientSession, slack: FakeSlack, count: int) -> list[int]:
    """The statuses of ``count`` users.lookupByEmail calls (a Tier 3 method) made at once."""
    return [(await call(http, slack, "users.lookupByEmail", email="alice@example.com")).status for _ in range(count)]


async def post(http: aiohttp.ClientSession, slack: FakeSlack, channel: str) -> Answer:
    """Post one message to a channel."""
    return await call(http, slack, "chat.postMessage", channel=channel, text="Release 2.4 is out")


def test_every_served_method_has_a_documented_limit() -> None:
    """Every method the fake serves, Socket Mode's apps.connections.open and conversations.history have a row."""
    served = {*FakeSlack()._handlers(), "apps.connections.open", "conversations.history"}
    assert served - LIMITS.keys() == set()


def test_tier_3_methods_get_fifty_a_minute_with_a_burst_of_eight() -> None:
    """A Tier 3 row holds Slack's 50 a minute and the fake's ten-second burst."""
    row = LIMITS["users.lookupByEmail"]
    assert (row.tier, row.budget.per_minute, row.budget.burst) == (Tier.TIER_3, 50, TIER_3_BURST)


async def test_limits_are_off_by_default(http: aiohttp.ClientSession, clock: SettableClock) -> None:
    """Without enforce_limits the fake serves every call, however fast, as it always has."""
    async with FakeSlack(clock=clock) as slack:
        _seed(slack)
        statuses = [(await call(http, slack, "conversations.list")).status for _ in range(30)]
        assert statuses == [200] * 30
        assert slack.throttled == []


async def test_a_tier_3_method_gives_its_burst_then_429_with_retry_after(
    slack: FakeSlack, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """users.lookupByEmail serves its burst, then answers 429 with a whole-second Retry-After and ratelimited."""
    assert await lookups(http, slack, TIER_3_BURST) == [200] * TIER_3_BURST

    refused = await call(http, slack, "users.lookupByEmail", email="alice@example.com")

    assert refused == Answer(429, "2", {"ok": False, "error": "ratelimited"})  # a token every 1.2 s
    assert slack.throttled == [Throttle("users.lookupByEmail", "users.lookupByEmail", clock.now, 2)]
    assert slack.early_calls == []


async def test_slack_sdk_reads_the_429_as_slacks_own(slack: FakeSlack) -> None:
    """AsyncWebClient raises SlackApiError carrying status 429, ratelimited and the Retry-After header."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    for _ in range(3):  # Tier 2: a burst of three
        await client.conversations_list()

    with pytest.raises(SlackApiError) as raised:
        await client.conversations_list()

    response = raised.value.response
    assert (response.status_code, response["error"], response.headers["Retry-After"]) == (429, "ratelimited", "3")


async def test_a_call_inside_the_window_is_refused_and_counted_early(
    slack: FakeSlack, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """A call before the announced Retry-After is up is refused though a token has come back, and counted early."""
    await lookups(http, slack, TIER_3_BURST + 1)
    clock.advance(1.5)  # a token is back (1.25), but Retry-After said 2

    early = await call(http, slack, "users.lookupByEmail", email="alice@example.com")

    assert (early.status, early.retry_after) == (429, "1")
    assert slack.early_calls == [Throttle("users.lookupByEmail", "users.lookupByEmail", clock.now, 1)]
    assert len(slack.throttled) == 2


async def test_after_the_window_the_bucket_refills_at_its_rate(
    slack: FakeSlack, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """Six seconds after running dry a Tier 3 bucket holds five calls (50 a minute), and no more."""
    await lookups(http, slack, TIER_3_BURST + 1)
    clock.advance(6)

    assert await lookups(http, slack, 6) == [200] * 5 + [429]
    assert slack.early_calls == []


async def test_a_full_minute_refills_no_more_than_the_burst(
    slack: FakeSlack, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """A bucket left alone for a minute holds its burst again, not a minute's worth of calls."""
    await lookups(http, slack, TIER_3_BURST)
    clock.advance(60)

    assert await lookups(http, slack, TIER_3_BURST + 1) == [200] * TIER_3_BURST + [429]


async def test_one_channel_is_held_to_a_message_a_second_while_another_still_posts(
    slack: FakeSlack, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """chat.postMessage allows a burst of three to one channel, then one a second; other channels post meanwhile."""
    assert [(await post(http, slack, "C0ONE")).status for _ in range(3)] == [200] * 3
    refused = await post(http, slack, "C0ONE")
    other = await post(http, slack, "C0TWO")
    clock.advance(1)
    again = await post(http, slack, "C0ONE")

    assert (refused.status, refused.retry_after, other.status, again.status) == (429, "1", 200, 200)
    assert slack.throttled == [Throttle("chat.postMessage", "chat.postMessage:C0ONE", clock.now - 1, 1)]
    assert len(slack.messages("C0ONE")) == 4


async def test_posts_to_a_user_id_count_against_the_dm_channel(slack: FakeSlack, http: aiohttp.ClientSession) -> None:
    """Messages posted to a person's user id and to their DM channel id share one channel bucket."""
    assert [(await post(http, slack, "U0ALICE")).status for _ in range(3)] == [200] * 3

    refused = await post(http, slack, slack.dm_channel("U0ALICE"))

    assert refused.status == 429
    assert [t.bucket for t in slack.throttled] == ["chat.postMessage:D0ALICE"]


async def test_the_workspace_ceiling_caps_all_channels_together(
    http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """With a ceiling of 12 messages a minute (a burst of 2), a third channel is refused until the ceiling refills."""
    async with FakeSlack(clock=clock, enforce_limits=True, workspace_messages_per_minute=12) as slack:
        _seed(slack)
        statuses = [(await post(http, slack, channel)).status for channel in ("C0ONE", "C0TWO")]
        refused = await post(http, slack, "C0THREE")
        early = await post(http, slack, "C0FOUR")
        clock.advance(5)
        later = await post(http, slack, "C0FOUR")

    assert statuses == [200, 200]
    assert (refused.status, refused.retry_after, early.status, later.status) == (429, "5", 429, 200)
    assert [t.bucket for t in slack.throttled] == ["chat.postMessage", "chat.postMessage"]
    assert [t.bucket for t in slack.early_calls] == ["chat.postMessage"]


async def test_socket_mode_connects_at_tier_1(
    slack: FakeSlack, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """apps.connections.open gives one URL, then 429 for the rest of the minute."""
    first = await call(http, slack, "apps.connections.open", token=APP_TOKEN)
    second = await call(http, slack, "apps.connections.open", token=APP_TOKEN)

    assert (first.status, second.status, second.retry_after) == (200, 429, "60")


async def test_a_method_without_a_row_answers_500_and_is_recorded(
    http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """A served method missing from the table does not pass silently: HTTP 500 fatal_error, recorded as untabled."""
    table = {method: row for method, row in LIMITS.items() if method != "users.info"}
    async with FakeSlack(clock=clock, enforce_limits=True, rate_limits=table) as slack:
        answer = await call(http, slack, "users.info", user=BOT_USER_ID)

    assert answer.status == 500
    assert answer.body == {
        "ok": False,
        "error": "fatal_error",
        "detail": "no documented rate limit for users.info in tests/fakes/slack/limits.py",
    }
    assert [(c.method, c.params, c.error) for c in slack.untabled_calls] == [
        ("users.info", {"user": BOT_USER_ID}, "fatal_error")
    ]
