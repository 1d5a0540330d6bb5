"""With limits on, the fake Discord holds every route to its bucket and the bot to 50 requests a second."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import BOT_TOKEN, GUILD_ID, FakeDiscord, Throttle
from tests.fakes.discord.limits import GLOBAL_PER_SECOND, LIMITS, Major, bucket_hash, quicker

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord

RELEASES = 1_190_000_000_000_000_100
NEWS = 1_190_000_000_000_000_101
ALICE = 1_190_000_000_000_000_200
SUPPORT = 1_190_000_000_000_000_300
POST = "POST /channels/{channel}/messages"
WALL = 1_800_000_000.0


@dataclass
class SettableClock:
    """Seconds that move only when a test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Answer:
    """What came back: the status, the headers, the JSON body."""

    status: int
    headers: dict[str, str]
    body: Any


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


def _seed(fake: FakeDiscord) -> None:
    fake.add_channel(RELEASES, "releases")
    fake.add_channel(NEWS, "news")
    fake.add_role(SUPPORT, "support")
    fake.add_user(ALICE, "alice", roles=[SUPPORT])


@pytest.fixture
async def fake(clock: SettableClock) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(clock=clock, wall=lambda: WALL, enforce_limits=True, members_intent_granted=True) as made:
        _seed(made)
        yield made


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(http: aiohttp.ClientSession, fake: FakeDiscord, method: str, path: str, body: Any = None) -> Answer:
    """One REST request as discord.py makes it (bot token, JSON body)."""
    headers = {"Authorization": f"Bot {BOT_TOKEN}"}
    async with http.request(method, fake.api_url + path, json=body, headers=headers) as response:
        payload = await response.json() if response.status != 204 else None
        return Answer(response.status, dict(response.headers), payload)


async def post(http: aiohttp.ClientSession, fake: FakeDiscord, channel: int = RELEASES) -> Answer:
    """Post one message to a channel."""
    return await call(http, fake, "POST", f"/channels/{channel}/messages", {"content": "Release 2.4 is out"})


def _limits(answer: Answer) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k.lower().startswith("x-ratelimit")}


def test_every_served_route_has_a_documented_limit_and_no_row_is_stale() -> None:
    """The table and the fake's routes are the same set: a route added without a row fails here."""
    served = set(FakeDiscord().served_routes())
    assert served - LIMITS.keys() == set()
    assert LIMITS.keys() - served == set()


def test_posting_allows_five_messages_per_five_seconds_per_channel() -> None:
    """POST /channels/{id}/messages: 5 per 5 s, kept per channel, and counted in the global limit."""
    row = LIMITS[POST]
    assert (row.limit, row.window, row.major, row.counts_globally) == (5, 5.0, Major.CHANNEL, True)


def test_interaction_answers_are_outside_the_global_limit() -> None:
    """Callbacks and follow-ups are interaction endpoints, which Discord leaves out of the 50 a second."""
    outside = {key for key, row in LIMITS.items() if not row.counts_globally}
    assert outside == {
        "POST /interactions/{interaction}/{token}/callback",
        "POST /webhooks/{app}/{token}",
        *(f"{m} /webhooks/{{app}}/{{token}}/messages/{{webhook_message}}" for m in ("GET", "PATCH", "DELETE")),
    }


async def test_limits_are_off_by_default(http: aiohttp.ClientSession, clock: SettableClock) -> None:
    """Without enforce_limits every call goes through with the same roomy headers, as before."""
    async with FakeDiscord(clock=clock) as fake:
        _seed(fake)
        answers = [await post(http, fake) for _ in range(8)]

    assert [a.status for a in answers] == [200] * 8
    assert {_limits(a)["X-RateLimit-Remaining"] for a in answers} == {"49"}
    assert fake.throttled == []


async def test_each_answer_carries_the_buckets_real_state(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """Five posts count the bucket down from 4 to 0, with the reset and the bucket's hash."""
    answers = [await post(http, fake) for _ in range(5)]

    assert [a.status for a in answers] == [200] * 5
    assert _limits(answers[0]) == {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset": f"{WALL + 5:.3f}",
        "X-RateLimit-Reset-After": "5.000",
        "X-RateLimit-Bucket": bucket_hash("messages"),
    }
    assert [_limits(a)["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0"]


async def test_a_sixth_post_gets_discords_429_and_counts_as_early(
    fake: FakeDiscord, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """After Remaining: 0, a post inside the window gets 429 with retry_after and scope user, and is early."""
    for _ in range(5):
        await post(http, fake)
    clock.advance(2)

    refused = await post(http, fake)

    assert refused.status == 429
    assert refused.body == {"message": "You are being rate limited.", "retry_after": 3.0, "global": False}
    assert refused.headers["Retry-After"] == "3"
    assert refused.headers["X-RateLimit-Scope"] == "user"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["Via"]  # discord.py takes a 429 without Via for a Cloudflare ban
    throttle = Throttle(POST, f"message_create:{RELEASES}", clock.now, 3.0, "user", early=True)
    assert fake.throttled == [throttle]
    assert fake.early_calls == [throttle]


async def test_another_channel_and_the_reset_each_bring_a_full_bucket(
    fake: FakeDiscord, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """A full bucket in one channel leaves the next channel's alone, and is full again once it resets."""
    for _ in range(5):
        await post(http, fake)

    elsewhere = await post(http, fake, NEWS)
    clock.advance(5)
    again = await post(http, fake)

    assert (elsewhere.status, again.status) == (200, 200)
    assert _limits(again)["X-RateLimit-Remaining"] == "4"
    assert fake.throttled == []


async def test_editing_is_counted_apart_from_posting_under_the_same_bucket_name(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """Discord names POST and PATCH on messages alike but counts them apart: five edits still go after five posts."""
    posted = [await post(http, fake) for _ in range(5)]
    message = posted[0].body["id"]

    edits = [
        await call(http, fake, "PATCH", f"/channels/{RELEASES}/messages/{message}", {"content": "Edited"})
        for _ in range(5)
    ]

    assert [e.status for e in edits] == [200] * 5
    assert _limits(edits[0])["X-RateLimit-Bucket"] == _limits(posted[0])["X-RateLimit-Bucket"]


async def test_reactions_go_one_per_quarter_second_per_channel(
    fake: FakeDiscord, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """Adding a reaction twice in a quarter second to one channel is refused; a quarter second later it goes."""
    message = (await post(http, fake)).body["id"]
    path = f"/channels/{RELEASES}/messages/{message}/reactions/%E2%9C%85/@me"

    first = await call(http, fake, "PUT", path)
    second = await call(http, fake, "PUT", path)
    clock.advance(0.25)
    third = await call(http, fake, "PUT", path)

    assert (first.status, second.status, third.status) == (204, 429, 204)
    assert second.body["retry_after"] == 0.25


async def test_member_pages_go_ten_per_ten_seconds_per_guild(
    fake: FakeDiscord, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """GET /guilds/{id}/members serves ten pages, then asks for the rest of the ten seconds."""
    pages = [await call(http, fake, "GET", f"/guilds/{GUILD_ID}/members?limit=1000") for _ in range(11)]

    assert [p.status for p in pages] == [200] * 10 + [429]
    assert _limits(pages[0])["X-RateLimit-Limit"] == "10"
    assert pages[-1].body["retry_after"] == 10.0


async def test_a_route_with_no_limit_of_its_own_answers_without_rate_limit_headers(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """Opening a DM has only the global limit, so its answer carries no X-RateLimit-* headers, as on Discord."""
    opened = await call(http, fake, "POST", "/users/@me/channels", {"recipient_id": ALICE})

    assert opened.status == 200
    assert _limits(opened) == {}


async def test_the_fifty_first_request_in_a_second_gets_a_global_429(
    fake: FakeDiscord, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """Fifty requests fill the second; the next is refused globally, the one after that is early, then a new second."""
    statuses = [(await call(http, fake, "GET", "/users/@me")).status for _ in range(GLOBAL_PER_SECOND)]
    clock.advance(0.4)

    refused = await call(http, fake, "POST", "/users/@me/channels", {"recipient_id": ALICE})
    early = await post(http, fake)
    clock.advance(0.6)
    later = await post(http, fake)

    assert statuses == [200] * GLOBAL_PER_SECOND
    assert refused.status == 429
    assert refused.body == {"message": "You are being rate limited.", "retry_after": 0.6, "global": True}
    assert refused.headers["X-RateLimit-Global"] == "true"
    assert refused.headers["X-RateLimit-Scope"] == "global"
    assert "X-RateLimit-Limit" not in refused.headers
    assert (early.status, later.status) == (429, 200)
    assert [(t.bucket, t.early) for t in fake.throttled] == [("global", False), ("global", True)]
    assert [t.route for t in fake.early_calls] == [POST]


async def test_interaction_callbacks_still_go_when_the_global_second_is_full(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """With fifty requests spent, an interaction callback is still answered (here: an unknown one, 404)."""
    for _ in range(GLOBAL_PER_SECOND):
        await call(http, fake, "GET", "/users/@me")

    answered = await call(http, fake, "POST", "/interactions/1/token/callback", {"type": 1})

    assert answered.status == 404
    assert fake.throttled == []


async def test_a_queued_429_makes_calls_inside_its_retry_after_early(
    fake: FakeDiscord, http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """A 429 queued with fail_next tells the client to wait too: a call before its retry_after is up is early."""
    fake.fail_next("POST", rf"/channels/{RELEASES}/messages", retry_after=2.0)

    queued = await post(http, fake)
    clock.advance(1)
    early = await post(http, fake)
    clock.advance(1)
    later = await post(http, fake)

    assert (queued.status, early.status, later.status) == (429, 429, 200)
    assert queued.headers["X-RateLimit-Scope"] == "user"
    assert [t.early for t in fake.early_calls] == [True]


async def test_a_route_without_a_row_answers_501_and_is_recorded(
    http: aiohttp.ClientSession, clock: SettableClock
) -> None:
    """A served route missing from the table does not pass silently: 501 naming the table, recorded as untabled."""
    table = {key: row for key, row in LIMITS.items() if key != "GET /guilds/{guild}/roles"}
    async with FakeDiscord(clock=clock, enforce_limits=True, rate_limits=table) as fake:
        answer = await call(http, fake, "GET", f"/guilds/{GUILD_ID}/roles")

    assert answer.status == 501
    assert answer.body == {
        "code": 0,
        "message": "no documented rate limit for GET /guilds/{guild}/roles in tests/fakes/discord/limits.py",
    }
    assert [c.route for c in fake.untabled_calls] == ["GET /guilds/{guild}/roles"]


async def test_calls_are_counted_per_route(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """calls_per_route names each route by its template, busiest first."""
    for _ in range(3):
        await post(http, fake)
    await call(http, fake, "GET", "/users/@me")

    assert fake.calls_per_route() == {POST: 3, "GET /users/@me": 1}


async def test_discord_py_keeps_to_the_headers_and_is_never_refused(http: aiohttp.ClientSession) -> None:
    """Twelve posts at once to one channel: discord.py waits for each reset the headers announce, no 429."""
    async with FakeDiscord(enforce_limits=True, rate_limits=quicker(LIMITS, 25)) as fake:  # 5 per 0.2 s
        _seed(fake)
        with fake.patched():
            client = discord.Client(intents=discord.Intents.none())
            await client.login(BOT_TOKEN)
            try:
                channel = client.get_partial_messageable(RELEASES)
                began = time.monotonic()
                await asyncio.gather(*(channel.send(f"message {i}") for i in range(12)))
                took = time.monotonic() - began
            finally:
                await client.close()

    assert len(fake.messages_in(RELEASES)) == 12
    assert fake.throttled == []
    assert took >= 0.38  # two resets of 0.2 s each
