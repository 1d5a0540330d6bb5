"""Herald's web pages on 127.0.0.1: a wired Herald on memory storage, its web server, a release to show."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from adapters.web.publisher import page_links
from adapters.web.server import WebServer
from bot.app.bootstrap import Herald, memory_storage, sign_in_links, web_server, wire
from bot.app.settings import Settings, load_settings
from bot.domain.commands import parse_release_command
from bot.domain.destinations import Platform
from bot.service.clock import FixedClock
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from bot.service.views import Notice
from storage.memory import MemoryStore
from tests.fakes import FakeDirectory, FakeMessenger

SECRET = "a-test-secret-that-is-long-enough-0123456789"
PLAN = """
product = "Acme Cloud"

[access]
announcers = ["shell:dana"]
approvers = ["shell:lead"]
viewers = ["shell:auditor"]

[[group]]
id = "engineering"
name = "Engineering"
to = ["shell:#engineering"]
ack = "required"
message = "Acme Cloud {{ version }} is live."

[[group]]
id = "support"
name = "Customer Support"
to = ["shell:@sam", "shell:@jo", "email:kim@example.com", "web:releases"]
ack = "required"
message = "Support: Acme Cloud {{ version }} is live."
"""
MEMBERS = {"shell:#engineering": ("shell:alex", "shell:lee")}


def free_port() -> int:
    """A port nobody listens on now (the public URL must name it before the server starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WebWorld:
    """Herald with its web pages, reached at ``base``."""

    herald: Herald
    settings: Settings
    store: MemoryStore
    messenger: FakeMessenger
    clock: FixedClock
    server: WebServer
    base: str

    async def say(self, line: str, actor: str = "shell:dana") -> str:
        """Type ``/release …`` as ``actor``; what Herald answered."""
        reply = await self.herald.desk.handle(parse_release_command(line, actor))
        said = " ".join(v.text for v in reply.views if isinstance(v, Notice))
        assert not reply.failed, said
        return said

    async def sign_in_link(self, actor: str, version: str = "2.4") -> str:
        """The private link ``/release dashboard`` gives ``actor``."""
        said = await self.say(f"dashboard {version}", actor)
        link = next(word for word in said.split() if word.startswith(self.base + "/signin/"))
        return link

    async def sent(self, version: str = "2.4") -> None:
        """Announce, approve and send ``version``; every delivery settles."""
        for line, actor in (
            (f"announce {version}", "shell:dana"),
            (f"confirm {version}", "shell:dana"),
            (f"approve {version} all", "shell:dana"),
            (f"send {version}", "shell:dana"),
            (f"approve {version}", "shell:lead"),
        ):
            await self.say(line, actor)
        await self.herald.engine.run_until_idle()


@pytest.fixture
async def web_world() -> AsyncIterator[WebWorld]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        {
            "HERALD_PUBLIC_URL": base,
            "HERALD_LINK_SECRET": SECRET,
            "HERALD_HTTP_HOST": "127.0.0.1",
            "HERALD_HTTP_PORT": str(port),
        },
        env_file=None,
    )
    store, messenger, clock = MemoryStore(), FakeMessenger(), FixedClock()
    links = {p: PlatformLink(FakeDirectory(members=MEMBERS), messenger) for p in (Platform.SHELL, Platform.EMAIL)}
    links.update(page_links())  # web:releases, posted on Herald's own release site
    herald = wire(
        plan=parse_plan(PLAN),
        storage=memory_storage(store),
        links=links,
        clock=clock,
        sign_in=sign_in_links(settings),
    )
    server = web_server(settings, herald.desk)
    assert server is not None
    await server.start()
    try:
        yield WebWorld(herald, settings, store, messenger, clock, server, base)
    finally:
        await server.close()


@pytest.fixture
async def browser_session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client that keeps cookies, as a browser does (for 127.0.0.1 too)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield http
