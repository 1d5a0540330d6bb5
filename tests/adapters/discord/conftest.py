"""Herald serving Discord, as ``herald run`` wires it, against the fake Discord a real discord.py client joins."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.discord.app import DiscordFrontDoor
from adapters.discord.components import HeraldClient
from adapters.discord.runtime import DiscordService
from bot.app.bootstrap import Herald, memory_storage
from bot.app.platforms import chat_herald
from bot.app.settings import load_settings
from bot.domain.commands import parse_release_command
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from storage.memory import MemoryBudgets, MemoryStore
from tests.eventually import eventually
from tests.fakes import VirtualTime
from tests.fakes.discord import BOT_TOKEN, BOT_USER_ID, GUILD_ID, FakeDiscord, FakeMessage
from tests.fakes.discord.limits import LIMITS, quicker

ANNOUNCER = 200000000000000001
APPROVER = 200000000000000002
SUPPORT = 200000000000000003
SUPPORT_2 = 200000000000000004
SUPPORT_3 = 200000000000000005
CLOSED = 200000000000000006  # has closed DMs from server members
LEAD = 200000000000000007
ENGINEER = 200000000000000008
OUTSIDER = 200000000000000009
RELEASES = 300000000000000001  # where /release is typed
ENG = 300000000000000002
SUPPORT_ROLE = 400000000000000001

PLAN = f"""
product = "Acme Cloud"

[access]
announcers = ["discord:{ANNOUNCER}"]
approvers = ["discord:{APPROVER}"]

[[group]]
id = "engineering"
name = "Engineering"
to = ["discord:channel:{ENG}"]
ack = "optional"
message = "**Acme Cloud {{{{ version }}}}** is live. Notes: https://example.com/releases/{{{{ version }}}}"

[[group]]
id = "support"
name = "Customer Support"
to = ["discord:user:{SUPPORT}", "discord:role:{GUILD_ID}/{SUPPORT_ROLE}", "discord:user:{CLOSED}"]
after = ["engineering"]
ack_within = "2h"
remind_every = "30m"
escalate_to = ["discord:user:{LEAD}"]
message = "Support: Acme Cloud {{{{ version }}}} is live. Please acknowledge. <https://example.com/faq|FAQ>"
"""


def seed(fake: FakeDiscord) -> None:
    """The server every Discord test runs in."""
    fake.add_channel(RELEASES, "releases")
    fake.add_channel(ENG, "eng-announce")
    fake.add_role(SUPPORT_ROLE, "support")
    fake.add_user(ANNOUNCER, "dana")
    fake.add_user(APPROVER, "lee")
    fake.add_user(SUPPORT, "sam")
    fake.add_user(SUPPORT_2, "jo", roles=[SUPPORT_ROLE])
    fake.add_user(SUPPORT_3, "kai", roles=[SUPPORT_ROLE])
    fake.add_user(CLOSED, "quinn", dms_open=False)
    fake.add_user(LEAD, "pat")
    fake.add_user(ENGINEER, "alex")
    fake.add_user(OUTSIDER, "mallory")
    fake.add_user(500000000000000001, "deploybot", bot=True, roles=[SUPPORT_ROLE])


@dataclass
class DiscordWorld:
    """Herald on the fake Discord, its memory store and clock, and the client it connected."""

    fake: FakeDiscord
    herald: Herald
    front: DiscordFrontDoor
    client: HeraldClient
    service: DiscordService
    store: MemoryStore
    clock: FixedClock

    async def until(self, condition: Callable[[], Any], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``condition`` holds (Herald answers interactions and events asynchronously)."""
        await eventually(condition, within=timeout)

    def release_message(self) -> FakeMessage:
        """The release message Herald posted where /release announce was typed."""
        return next(m for m in self.fake.messages_in(RELEASES) if m.author_id == BOT_USER_ID and m.webhook_id is None)

    def communiques(self) -> list[FakeMessage]:
        """The walkthrough's communiqué messages, in the thread under the release message."""
        parent = self.release_message()
        assert parent.thread_id is not None, "no thread under the release message"
        return self.fake.messages_in(parent.thread_id)


def settings_for(fake: FakeDiscord, **environment: str) -> Any:
    """``herald run``'s settings pointing at the fake."""
    return load_settings(
        {
            "DISCORD_BOT_TOKEN": BOT_TOKEN,
            "DISCORD_API_URL": fake.api_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "DISCORD_MEMBERS_INTENT": "on",
            **environment,
        },
        env_file=None,
    )


async def start_herald(
    fake: FakeDiscord, store: MemoryStore, clock: FixedClock, plan: str = PLAN, **environment: str
) -> DiscordWorld:
    """Wire Herald as ``herald run`` does, log in, and wait for READY."""
    settings = settings_for(fake, **environment)
    limiter = RateLimiter(timer=VirtualTime(clock), budgets=MemoryBudgets(store), wall_clock=clock.now)

    storage = memory_storage(store)
    served = chat_herald(
        plan=parse_plan(plan), storage=storage, settings=settings, clock=clock, limiter=limiter, redraw_every=0.2
    )
    (service,) = served.services
    assert isinstance(service, DiscordService)
    await service.start()
    await eventually(lambda: fake.live_sessions > 0)  # READY sent: interactions reach this client
    return DiscordWorld(fake, served.herald, service.front, service.client, service, store, clock)


@pytest.fixture
def fake_discord_patched() -> Iterator[None]:
    """discord.py's addresses are process-wide: put discord.com back after each test."""
    import discord
    import yarl

    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(str(gateway))


@pytest.fixture
async def discord_world(fake_discord_patched: None) -> AsyncIterator[DiscordWorld]:
    async with FakeDiscord(members_intent_granted=True) as fake:
        seed(fake)
        world = await start_herald(fake, MemoryStore(), FixedClock())
        try:
            yield world
        finally:
            await world.service.close()


def skipping(clock: FixedClock) -> Callable[[], float]:
    """Real seconds plus however far the test (or a virtual wait) has moved ``clock`` on.

    A fake on this clock sees a Retry-After that Herald waited out on virtual time as over, and a
    bucket that discord.py waited for in real time as reset, as Discord would.
    """
    origin = clock.now()
    return lambda: time.monotonic() + (clock.now() - origin).total_seconds()


@pytest.fixture
async def limited_world(fake_discord_patched: None) -> AsyncIterator[DiscordWorld]:
    """Herald on a fake Discord that enforces every rate limit (route windows 25 times shorter: tests stay quick)."""
    async with FakeDiscord(members_intent_granted=True, enforce_limits=True, rate_limits=quicker(LIMITS, 25)) as fake:
        seed(fake)
        clock = FixedClock()
        fake.clock = skipping(clock)
        world = await start_herald(fake, MemoryStore(), clock)
        try:
            yield world
        finally:
            await world.service.close()


SEND_LINES = (
    ("announce 2.4", ANNOUNCER),
    ("confirm 2.4", ANNOUNCER),
    ("approve 2.4 all", ANNOUNCER),
    ("send 2.4", ANNOUNCER),
    ("approve 2.4", APPROVER),  # the second pair of eyes
)
"""Release 2.4 from announcement to sending, as the commands take it, with who types each."""


async def send_release(world: DiscordWorld) -> None:
    """Announce, approve and send release 2.4 through the desk (``SEND_LINES``)."""
    for line, actor in SEND_LINES:
        reply = await world.herald.desk.handle(parse_release_command(line, f"discord:{actor}"))
        assert not reply.failed, reply
