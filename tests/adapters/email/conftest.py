"""Herald wired to a real SMTP server on 127.0.0.1, with the shell workspace for everything else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.bootstrap import Herald, delivery_links, memory_storage, wire
from bot.domain.commands import parse_release_command
from bot.domain.destinations import Platform
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from bot.service.views import Notice, Reply
from bot.settings import Settings, load_settings
from storage.memory import MemoryBudgets, MemoryStore
from tests.fakes import FakeDirectory, FakeMessenger, VirtualTime
from tests.servers.smtp import RecordingHandler, SmtpServer, smtp_server

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]

[[group]]
id = "customers"
name = "Customers"
to = ["email:ada@example.com", "email:bob@example.org", "shell:@sam"]
ack_within = "2h"
remind_every = "30m"
subject = "{{ product }} {{ version }}: what changes for you"
message = \"\"\"
:rocket: *Acme Cloud {{ version }}* is live.

- Dashboards are faster
- Single sign-on on every plan

Release notes: https://example.com/releases/{{ version }}
\"\"\"
"""


@dataclass
class MailWorld:
    """Herald over memory storage, sending e-mail to ``smtp``."""

    herald: Herald
    store: MemoryStore
    smtp: SmtpServer
    clock: FixedClock
    shell: FakeMessenger
    virtual: VirtualTime
    settings: Settings

    async def say(self, text: str, actor: str = "shell:deployer") -> Reply:
        reply = await self.herald.desk.handle(parse_release_command(text, actor))
        return reply

    async def send(self, version: str = "2.4") -> None:
        """Announce, confirm, approve and send; then work the ledger until nothing is due."""
        for line in (f"announce {version}", f"confirm {version}", f"approve {version} all", f"send {version}"):
            reply = await self.say(line)
            assert not reply.failed, [v.text for v in reply.views if isinstance(v, Notice)]
        await self.herald.engine.run_until_idle()


def mail_world(smtp: SmtpServer, plan_text: str = PLAN, **env: str) -> MailWorld:
    """Wire Herald with real SMTP for ``email:`` and fakes for the shell."""
    settings = load_settings(
        {"SMTP_URL": smtp.url(), "HERALD_MAIL_FROM": "Herald <herald@acme.test>", "DATABASE_URL": "memory://", **env},
        env_file=None,
    )
    store = MemoryStore()
    clock = FixedClock()
    virtual = VirtualTime(clock)
    shell = FakeMessenger()
    links: dict[Platform, PlatformLink] = {Platform.SHELL: PlatformLink(FakeDirectory(), shell)}
    links.update(delivery_links(settings))

    storage = memory_storage(store)
    limiter = RateLimiter(timer=virtual, budgets=MemoryBudgets(store), wall_clock=clock.now)
    herald = wire(plan=parse_plan(plan_text), storage=storage, links=links, clock=clock, limiter=limiter)
    return MailWorld(herald, store, smtp, clock, shell, virtual, settings)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with smtp_server() as server:
        yield server


@pytest.fixture
async def plain_smtp() -> AsyncIterator[SmtpServer]:
    """A server that does not advertise DSN."""
    async with smtp_server(RecordingHandler(dsn=False)) as server:
        yield server
