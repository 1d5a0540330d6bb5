"""Herald wired to a real SMTP server on 127.0.0.1, with the shell workspace for everything else.

The IMAP tests need ``HERALD_TEST_IMAP_URL`` (``eval "$(.ci/start-dovecot)"``; CI starts it)
and skip without it.
"""

from __future__ import annotations

import imaplib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from bot.app.bootstrap import Herald, delivery_links, memory_storage, wire
from bot.app.settings import Settings, load_settings
from bot.domain.commands import parse_release_command
from bot.domain.destinations import Platform
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from bot.service.views import Notice, Reply
from storage.memory import MemoryBudgets, MemoryStore
from tests.fakes import FakeDirectory, FakeMessenger, VirtualTime
from tests.servers.smtp import RecordingHandler, SmtpServer, smtp_server

IMAP_URL = os.environ.get("HERALD_TEST_IMAP_URL", "")
needs_dovecot = pytest.mark.skipif(not IMAP_URL, reason="HERALD_TEST_IMAP_URL not set: IMAP tests skipped")

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


@dataclass
class Mailbox:
    """A fresh IMAP mailbox for one test."""

    url: str
    name: str

    def _client(self) -> imaplib.IMAP4:
        parts = urlsplit(self.url)
        client = imaplib.IMAP4(parts.hostname or "127.0.0.1", parts.port or 143, timeout=30)
        client.login(parts.username or "", parts.password or "")
        return client

    def create(self) -> None:
        client = self._client()
        try:
            status, _ = client.create(self.name)
            assert status == "OK"
        finally:
            client.logout()

    def delete(self) -> None:
        client = self._client()
        try:
            client.delete(self.processed(client))
            client.delete(self.name)
        finally:
            client.logout()

    def processed(self, client: imaplib.IMAP4) -> str:
        """Where Herald moves what it applied (``HERALD_IMAP_PROCESSED``), in the server's delimiter."""
        _status, listed = client.list('""', '""')
        delimiter = listed[0].split(b'"')[1].decode() if listed and isinstance(listed[0], bytes) else "/"
        return f"{self.name}{delimiter}Processed"

    def append(self, *messages: bytes) -> None:
        client = self._client()
        try:
            for raw in messages:
                status, _ = client.append(self.name, None, None, raw)
                assert status == "OK"
        finally:
            client.logout()

    def flags(self, *, processed: bool = False) -> dict[str, set[str]]:
        """Each message's Subject and flags, in the mailbox or in its Processed folder."""
        client = self._client()
        try:
            status, _ = client.select(self.processed(client) if processed else self.name, readonly=True)
            if status != "OK":
                return {}
            _status, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        finally:
            client.logout()
        found: dict[str, set[str]] = {}
        for item in data:
            if isinstance(item, tuple):
                flags = item[0].decode().split("FLAGS (", 1)[1].split(")", 1)[0]
                subject = item[1].decode().strip().removeprefix("Subject: ")
                found[subject] = set(flags.split()) - {"\\Recent"}  # the server's, not Herald's
        return found


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(IMAP_URL, f"herald-test-{uuid.uuid4().hex[:10]}")
    box.create()
    yield box
    box.delete()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with smtp_server() as server:
        yield server


@pytest.fixture
async def plain_smtp() -> AsyncIterator[SmtpServer]:
    """A server that does not advertise DSN."""
    async with smtp_server(RecordingHandler(dsn=False)) as server:
        yield server
