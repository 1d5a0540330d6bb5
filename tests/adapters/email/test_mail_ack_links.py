"""Personal acknowledgement links in e-mails: GET records nothing, POST records one receipt."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
import pytest

from bot.app.bootstrap import web_server
from bot.domain.commands import Acknowledge
from bot.domain.receipt import ReceiptSource
from tests.adapters.email.conftest import PLAN, MailWorld, mail_world
from tests.servers.smtp import SmtpServer

SECRET = "a-test-secret-that-is-long-enough-0123456789"
ENV = {"HERALD_PUBLIC_URL": "https://herald.example.com", "HERALD_LINK_SECRET": SECRET, "HERALD_HTTP_HOST": "127.0.0.1"}
LINK = re.compile(r"https://herald\.example\.com(/ack/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


class Site:
    """Herald's web server on 127.0.0.1, reached as the public URL's proxy would reach it."""

    def __init__(self, world: MailWorld, port: int, http: aiohttp.ClientSession) -> None:
        self.world, self.port, self.http = world, port, http

    def path_for(self, address: str) -> str:
        """The path of the acknowledgement link in the last mail to ``address``."""
        mail = [r for r in self.world.smtp.received if address in r.rcpt_tos][-1]
        found = LINK.search(mail.part("text/plain"))
        assert found is not None, "no acknowledgement link in the mail"
        return found.group(1)

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(f"http://127.0.0.1:{self.port}{path}") as response:
            return response.status, await response.text()

    async def post(self, path: str) -> tuple[int, str]:
        async with self.http.post(f"http://127.0.0.1:{self.port}{path}") as response:
            return response.status, await response.text()

    async def acknowledged(self) -> int:
        status = await self.world.herald.desk.status("2.4")
        return int(status.groups[0].acknowledged)


@asynccontextmanager
async def serving(smtp: SmtpServer, plan: str = PLAN) -> AsyncIterator[Site]:
    """Herald with its web server on a free port, the release sent."""
    world = mail_world(smtp, plan, HERALD_HTTP_PORT="0", **ENV)
    server = web_server(world.settings, world.herald.desk)
    assert server is not None
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            await world.send()
            yield Site(world, server.port, http)
    finally:
        await server.close()


@pytest.fixture
async def site(smtp: SmtpServer) -> AsyncIterator[Site]:
    async with serving(smtp) as running:
        yield running


async def test_each_mail_carries_its_own_acknowledge_link(site: Site) -> None:
    """The text and HTML parts carry the same personal link; each recipient's differs."""
    ada, bob = site.path_for("ada@example.com"), site.path_for("bob@example.org")
    assert ada != bob
    mail = next(r for r in site.world.smtp.received if r.rcpt_tos == ("ada@example.com",))
    assert f'href="https://herald.example.com{ada}"' in mail.part("text/html")
    token = ada.removeprefix("/ack/")
    assert len(token.split(".")[1]) >= 22  # a 128-bit MAC: beyond guessing
    opaque = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert len(opaque) == 16
    assert b"ada" not in opaque  # nothing of the address can be read from the link


async def test_opening_the_link_shows_a_button_and_records_nothing(site: Site) -> None:
    """GET (as a mail scanner would) answers a page with an Acknowledge form; no receipt is recorded."""
    status, page = await site.get(site.path_for("ada@example.com"))
    assert status == 200
    assert '<form method="post">' in page
    assert "Acknowledge</button>" in page
    assert "the Customers communiqué about Acme Cloud 2.4" in page
    await site.get(site.path_for("ada@example.com"))
    assert await site.acknowledged() == 0


async def test_pressing_acknowledge_records_one_receipt_and_a_second_press_none(site: Site) -> None:
    """POST records the receipt (source link); a second POST says it was already recorded and counts nothing."""
    path = site.path_for("ada@example.com")
    status, page = await site.post(path)
    assert (status, "Thank you" in page) == (200, True)
    assert await site.acknowledged() == 1
    receipts = list(site.world.store.receipts.values())
    assert [(r.person, r.source) for r in receipts] == [("email:ada@example.com", ReceiptSource.LINK)]

    status, page = await site.post(path)
    assert (status, "Already acknowledged" in page) == (200, True)
    status, page = await site.get(path)
    assert (status, "Already acknowledged" in page) == (200, True)
    assert await site.acknowledged() == 1


@pytest.mark.parametrize("method", ["get", "post"])
async def test_a_tampered_link_is_refused_with_a_clear_page(site: Site, method: str) -> None:
    """A token altered anywhere (or made for someone else) gets a 404 page; nothing is recorded."""
    path = site.path_for("ada@example.com")
    payload, mac = path.removeprefix("/ack/").split(".")
    bob_payload = site.path_for("bob@example.org").removeprefix("/ack/").split(".")[0]
    for forged in (f"/ack/{payload}.{mac[:-2]}AA", f"/ack/{bob_payload}.{mac}", f"/ack/{payload}", "/ack/nonsense"):
        status, page = await getattr(site, method)(forged)
        assert status == 404, forged
        assert "This link is not valid" in page
    assert await site.acknowledged() == 0


async def test_a_link_opened_after_the_deadline_still_counts_and_says_it_is_late(site: Site) -> None:
    """After ack_within (2h) the page says the communiqué was due, and pressing the button records the receipt,
    as a late click on a chat button does; a second press records nothing."""
    path = site.path_for("ada@example.com")
    site.world.clock.advance(timedelta(hours=2, seconds=1))
    status, page = await site.get(path)
    assert status == 200
    assert "it was due by" in page
    assert "it still counts" in page
    assert await site.acknowledged() == 0  # opening records nothing
    status, page = await site.post(path)
    assert status == 200
    assert "is recorded" in page
    assert "after the deadline" in page
    status, page = await site.post(path)
    assert "Already acknowledged" in page
    assert await site.acknowledged() == 1


async def test_a_link_past_its_validity_points_to_the_chat_and_records_nothing(site: Site) -> None:
    """30 days after the mail (ack_link_valid_for) the link answers 410, counts nothing; a chat click still counts."""
    path = site.path_for("ada@example.com")
    site.world.clock.advance(timedelta(days=30, seconds=1))
    for method in (site.get, site.post):
        status, page = await method(path)
        assert status == 410
        assert "This link has expired" in page
    assert await site.acknowledged() == 0

    key = "2.4|customers|email:ada@example.com"
    await site.world.herald.desk.handle(
        Acknowledge(actor="email:ada@example.com", message_ref="", delivery_key=key, source=ReceiptSource.BUTTON)
    )
    status = await site.world.herald.desk.status("2.4")
    assert (status.groups[0].acknowledged, status.groups[0].late) == (1, 1)


async def test_a_plan_can_give_links_a_shorter_life(smtp: SmtpServer) -> None:
    """ack_link_valid_for = "1h": the link works for an hour after the mail, then has expired."""
    plan = PLAN.replace('ack_within = "2h"', 'ack_within = "2h"\nack_link_valid_for = "1h"')
    async with serving(smtp, plan) as site:
        path = site.path_for("ada@example.com")
        site.world.clock.advance(timedelta(minutes=59))
        assert (await site.get(path))[0] == 200
        site.world.clock.advance(timedelta(minutes=2))
        assert (await site.get(path))[0] == 410


async def test_a_reminder_mail_carries_a_link_that_counts_for_the_group(site: Site) -> None:
    """The reminder at 30 minutes has its own link; acknowledging through it counts once for the group."""
    site.world.clock.advance(timedelta(minutes=31))
    assert await site.world.herald.reminders.sweep() > 0
    await site.world.herald.engine.run_until_idle()
    reminder = [r for r in site.world.smtp.received if r.rcpt_tos == ("ada@example.com",)][-1]
    assert reminder.message["Subject"] == "Reminder: Acme Cloud 2.4: what changes for you"
    status, _page = await site.post(site.path_for("ada@example.com"))
    assert status == 200
    assert await site.acknowledged() == 1


async def test_an_escalation_by_email_names_who_is_silent_and_carries_no_link(smtp: SmtpServer) -> None:
    """At the deadline escalate_to gets one mail, "Not yet acknowledged: …", listing the silent, with no link."""
    plan = PLAN.replace('remind_every = "30m"', 'remind_every = "30m"\nescalate_to = ["email:lead@example.com"]')
    world = mail_world(smtp, plan, HERALD_HTTP_PORT="0", **ENV)
    await world.send()
    world.clock.advance(timedelta(hours=2, minutes=1))
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()

    (escalation,) = [r for r in smtp.received if r.rcpt_tos == ("lead@example.com",)]
    assert escalation.message["Subject"] == "Not yet acknowledged: Acme Cloud 2.4: what changes for you"
    text = escalation.part("text/plain")
    assert "email:ada@example.com" in text
    assert "email:bob@example.org" in text
    assert LINK.search(text) is None
