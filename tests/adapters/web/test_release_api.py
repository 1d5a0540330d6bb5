"""The release API over real HTTP: Herald on the fake Slack, announced from a pipeline, approved in chat."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.app.announce import EXIT_REFUSED, EXIT_SENT, EXIT_TIMED_OUT, ApiClient, announce
from bot.app.bootstrap import Herald, memory_storage
from bot.app.platforms import chat_herald
from bot.app.settings import load_settings
from bot.domain.audit import Outcome
from bot.domain.commands import parse_release_command
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from storage.memory import MemoryBudgets, MemoryStore
from tests.adapters.slack.conftest import PLAN, SECRET, seed
from tests.adapters.web.conftest import free_port
from tests.fakes import VirtualTime
from tests.fakes.slack import BOT_TOKEN, FakeSlack

CI_TOKEN = "ci-token-0123456789abcdefghijklmnopqrstuv"
INTRUDER_TOKEN = "intruder-token-0123456789abcdefghijklmnop"
API_PLAN = PLAN.replace('announcers = ["slack:U0ANNOUNCE1"]', 'announcers = ["slack:U0ANNOUNCE1", "api:ci"]')


@dataclass
class ApiWorld:
    """Herald serving Slack and the release API on one port, the fake Slack it posts in, an HTTP client."""

    slack: FakeSlack
    herald: Herald
    store: MemoryStore
    base: str
    http: aiohttp.ClientSession

    async def call(
        self, method: str, path: str, body: Any = None, token: str | None = CI_TOKEN
    ) -> tuple[int, dict[str, Any]]:
        """One call to the API as a pipeline makes it; the status and the JSON answer."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as response:
            return response.status, await response.json()

    def posts(self) -> int:
        """How many messages Herald has posted in Slack."""
        return len(self.slack.calls_to("chat.postMessage"))

    async def say(self, line: str, actor: str) -> None:
        """Type ``/release …`` in chat as ``actor``."""
        reply = await self.herald.desk.handle(parse_release_command(line, actor))
        assert not reply.failed, reply.views


@asynccontextmanager
async def serving(plan: str) -> AsyncIterator[ApiWorld]:
    """Herald serving Slack and the release API under ``plan``."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeSlack() as slack:
        seed(slack)
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "SLACK_SIGNING_SECRET": SECRET,
                "HERALD_PUBLIC_URL": base,
                "HERALD_LINK_SECRET": "l" * 40,
                "HERALD_HTTP_HOST": "127.0.0.1",
                "HERALD_HTTP_PORT": str(port),
                "HERALD_API_TOKENS": f"ci:{CI_TOKEN}, intruder:{INTRUDER_TOKEN}",
                "HERALD_ANNOUNCE_CHANNEL": "slack:C0RELEASE",
            },
            env_file=None,
        )
        store, clock = MemoryStore(), FixedClock()
        limiter = RateLimiter(timer=VirtualTime(clock), budgets=MemoryBudgets(store), wall_clock=clock.now)
        served = chat_herald(
            plan=parse_plan(plan),
            storage=memory_storage(store),
            settings=settings,
            clock=clock,
            limiter=limiter,
            redraw_every=0.05,
        )
        for service in served.services:
            await service.start()
        try:
            async with aiohttp.ClientSession() as http:
                yield ApiWorld(slack, served.herald, store, base, http)
        finally:
            for service in reversed(served.services):
                await service.close()


@pytest.fixture
async def api_world() -> AsyncIterator[ApiWorld]:
    async with serving(API_PLAN) as world:
        yield world


async def test_a_post_announces_and_posts_the_walkthrough_in_slack_once(api_world: ApiWorld) -> None:
    """POST /api/releases announces as api:ci and posts the release's message and one reply per communiqué."""
    status, answer = await api_world.call("POST", "/api/releases", {"version": "v2.4"})
    assert status == 201, answer
    assert answer["version"] == "2.4"
    assert answer["state"] == "validating"
    assert answer["status_url"] == f"{api_world.base}/dashboard/2.4"
    assert answer["thread"].startswith("slack:C0RELEASE:")
    assert "the walkthrough is in <#C0RELEASE>" in answer["message"]
    assert api_world.store.releases["2.4"].announced_by == "api:ci"
    assert api_world.posts() == 3  # the release's message, engineering's and support's communiqués


async def test_a_repeated_post_posts_nothing_new_and_answers_the_same(api_world: ApiWorld) -> None:
    """A pipeline that runs twice gets 200 and the same release, thread and state; Slack gets no second thread."""
    _, first = await api_world.call("POST", "/api/releases", {"version": "2.4", "channel": "slack:C0RELEASE"})
    status, again = await api_world.call("POST", "/api/releases", {"version": "2.4"})
    assert status == 200, again
    assert {k: again[k] for k in ("version", "state", "status_url", "thread")} == {
        k: first[k] for k in ("version", "state", "status_url", "thread")
    }
    assert "already being announced" in again["message"]
    assert api_world.posts() == 3


async def test_a_wrong_or_missing_token_is_401_and_records_nothing(api_world: ApiWorld) -> None:
    """No token, or one Herald does not know, is refused before anything is read or recorded."""
    for token in (None, "not-a-token-" + CI_TOKEN):
        status, answer = await api_world.call("POST", "/api/releases", {"version": "2.4"}, token=token)
        assert status == 401
        assert "Bearer" in answer["error"]
    status, _ = await api_world.call("GET", "/api/releases/2.4", token="wrong")
    assert status == 401
    assert api_world.store.releases == {}
    assert api_world.store.audit == []
    assert api_world.posts() == 0


async def test_a_token_the_plan_does_not_name_is_403_and_audited_as_refused(api_world: ApiWorld) -> None:
    """api:intruder holds a valid token but is no announcer: refused, recorded, nothing posted."""
    status, answer = await api_world.call("POST", "/api/releases", {"version": "2.4"}, token=INTRUDER_TOKEN)
    assert status == 403
    assert "not an announcer" in answer["error"]
    [entry] = api_world.store.audit
    assert (entry.actor, entry.action, entry.outcome) == ("api:intruder", "announce_release", Outcome.REFUSED)
    assert api_world.store.releases == {}
    assert api_world.posts() == 0


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("not json", "must be JSON"),
        ({"version": "two point four"}, "is not a release version"),
        ({"version": "2.4", "channel": "#releases"}, "channel must be a chat channel"),
        ({"version": "2.4", "approve": True}, "does not take"),
        ({}, "release version as a string"),
    ],
)
async def test_a_bad_body_is_400_with_a_sentence(api_world: ApiWorld, body: Any, said: str) -> None:
    """A body Herald cannot use is refused with what is wrong, and nothing is announced."""
    async with api_world.http.post(
        api_world.base + "/api/releases",
        data=body if isinstance(body, str) else None,
        json=None if isinstance(body, str) else body,
        headers={"Authorization": f"Bearer {CI_TOKEN}"},
    ) as response:
        assert response.status == 400
        assert said in (await response.json())["error"]
    assert api_world.store.releases == {}


async def test_get_returns_the_state_and_the_status_counts(api_world: ApiWorld) -> None:
    """GET /api/releases/VERSION says where the release stands, with each group's counts and no names."""
    status, _ = await api_world.call("GET", "/api/releases/2.4")
    assert status == 404
    await api_world.call("POST", "/api/releases", {"version": "2.4"})
    status, answer = await api_world.call("GET", "/api/releases/2.4")
    assert status == 200
    assert answer["state"] == "validating"
    assert answer["message"] == "Release 2.4 is being reviewed in chat."
    assert [g["id"] for g in answer["status"]["groups"]] == ["engineering", "support"]
    assert all(g["not_acknowledged"] == [] for g in answer["status"]["groups"])


async def _approve_in_chat(world: ApiWorld) -> None:
    for line, actor in (
        ("confirm 2.4", "slack:U0ANNOUNCE1"),
        ("approve 2.4 all", "slack:U0ANNOUNCE1"),
        ("send 2.4", "slack:U0ANNOUNCE1"),
        ("approve 2.4", "slack:U0APPROVE1"),
    ):
        await world.say(line, actor)
    await world.herald.engine.run_until_idle()


async def test_announce_waits_until_people_approve_and_herald_sends(api_world: ApiWorld) -> None:
    """herald announce --wait prints the status page and the thread, and exits 0 once the release is sent."""
    out = io.StringIO()
    client = ApiClient(api_world.base, CI_TOKEN)
    waiting = asyncio.create_task(announce(client, "2.4", wait=True, every=0.02, out=out))
    for _ in range(200):
        if "Thread: slack:C0RELEASE:" in out.getvalue():
            break
        await asyncio.sleep(0.02)
    assert not waiting.done()
    await _approve_in_chat(api_world)
    assert await asyncio.wait_for(waiting, 5) == EXIT_SENT
    printed = out.getvalue()
    assert f"Status: {api_world.base}/dashboard/2.4" in printed
    assert "Release 2.4 has been sent." in printed


async def test_announce_exits_1_with_the_reason_when_the_release_is_cancelled(api_world: ApiWorld) -> None:
    """A release cancelled in chat ends the pipeline's wait with exit 1 and who cancelled it."""
    out = io.StringIO()
    client = ApiClient(api_world.base, CI_TOKEN)
    await api_world.call("POST", "/api/releases", {"version": "2.4"})
    await api_world.say("cancel 2.4", "slack:U0APPROVE1")
    assert await announce(client, "2.4", wait=True, every=0.02, out=out) == EXIT_REFUSED
    assert "was cancelled by slack:U0APPROVE1" in out.getvalue()


async def test_announce_exits_2_when_the_timeout_passes(api_world: ApiWorld) -> None:
    """Nobody approves in time: exit 2, and a sentence saying so."""
    out = io.StringIO()
    client = ApiClient(api_world.base, CI_TOKEN)
    found = await announce(client, "2.4", wait=True, within=timedelta(seconds=1), every=0.3, out=out)
    assert found == EXIT_TIMED_OUT
    assert "was not sent within 1s" in out.getvalue()


async def test_announce_says_in_one_sentence_when_the_token_is_wrong(api_world: ApiWorld) -> None:
    """A wrong HERALD_API_TOKEN is exit 1 and a sentence naming the variable."""
    out = io.StringIO()
    assert await announce(ApiClient(api_world.base, "nope"), "2.4", out=out) == EXIT_REFUSED
    assert "Herald refused the token (HTTP 401): check HERALD_API_TOKEN" in out.getvalue()


async def test_announce_says_in_one_sentence_when_no_server_answers() -> None:
    """Nothing listening at HERALD_API_URL: exit 1 and where it looked."""
    out = io.StringIO()
    url = f"http://127.0.0.1:{free_port()}"
    assert await announce(ApiClient(url, CI_TOKEN), "2.4", out=out) == EXIT_REFUSED
    assert f"herald: cannot reach Herald at {url}/api/releases" in out.getvalue()
