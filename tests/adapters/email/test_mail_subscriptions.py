"""E-mail subscribers, end to end: sign up on the release site, confirm by the mailed link, get the release mail,
and leave with RFC 8058's one-click POST, all over Herald's real web server and a real SMTP server."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest
from playwright.async_api import expect

from bot.app.bootstrap import web_server
from tests.adapters.email.conftest import MailWorld, mail_world
from tests.adapters.web.browser import chromium_page, needs_chromium
from tests.servers.smtp import Received, SmtpServer

SECRET = "a-test-secret-that-is-long-enough-0123456789"
ENV = {"HERALD_PUBLIC_URL": "https://herald.example.com", "HERALD_LINK_SECRET": SECRET, "HERALD_HTTP_HOST": "127.0.0.1"}
CONFIRM = re.compile(r"https://herald\.example\.com(/subscribe/confirm/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
WAY_OUT = re.compile(r"^<https://herald\.example\.com(/unsubscribe/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)>$")

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]

[[group]]
id = "team"
to = ["shell:#team"]
ack = "none"
message = "Acme Cloud {{ version }} is live."

[[group]]
id = "subscribers"
name = "Release mail"
to = ["subscribers:api"]
ack = "none"
subject = "{{ product }} {{ version }} is out"
message = "Acme Cloud {{ version }}: the API has news for you."
"""


@dataclass
class Site:
    world: MailWorld
    port: int
    http: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.url(path)) as response:
            return response.status, await response.text()

    async def post(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        async with self.http.post(self.url(path), data=data or {}) as response:
            return response.status, await response.text()

    def mails_to(self, address: str) -> list[Received]:
        return [r for r in self.world.smtp.received if address in r.rcpt_tos]

    async def release(self, line: str) -> str:
        version = line.split()[0]
        for said in (f"announce {line}", f"confirm {version}", f"approve {version} all", f"send {version}"):
            reply = await self.world.say(said)
            assert not reply.failed, said
        await self.world.herald.engine.run_until_idle()
        return version


@asynccontextmanager
async def serving(smtp: SmtpServer) -> AsyncIterator[Site]:
    world = mail_world(smtp, PLAN, HERALD_HTTP_PORT="0", **ENV)
    server = web_server(world.settings, world.herald.desk)
    assert server is not None
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Site(world, server.port, http)
    finally:
        await server.close()


@pytest.fixture
async def site(smtp: SmtpServer) -> AsyncIterator[Site]:
    async with serving(smtp) as running:
        yield running


async def _signed_up(site: Site, address: str = "ann@example.com", level: str = "all") -> str:
    """Sign ``address`` up for api releases from the release site; the confirmation link's path."""
    status, page = await site.get("/releases/")
    assert status == 200
    assert 'action="/subscribe"' in page
    assert '<option value="api">api</option>' in page
    status, page = await site.post("/subscribe", {"email": address, "component": "api", "level": level})
    assert status == 200
    assert "a confirmation link is on its way" in page
    [mail] = site.mails_to(address)
    found = CONFIRM.search(mail.part("text/plain"))
    assert found is not None, "no confirmation link in the mail"
    return found.group(1)


async def test_a_mailbox_that_signed_up_hears_nothing_until_it_confirms_by_its_link(site: Site) -> None:
    link = await _signed_up(site)
    await site.release("2.4.0 api")
    assert [m.message["Subject"] for m in site.mails_to("ann@example.com")] == [
        "Confirm your subscription to release announcements"
    ]

    status, page = await site.get(link)  # a scanner opening the link subscribes nobody
    assert (status, "Confirm</button>" in page) == (200, True)
    await site.release("2.4.1 api")
    assert len(site.mails_to("ann@example.com")) == 1

    status, page = await site.post(link)
    assert status == 200
    assert "ann@example.com will hear of api (every release)" in page
    await site.release("2.5.0 api")
    subjects = [m.message["Subject"] for m in site.mails_to("ann@example.com")]
    assert subjects[1:] == ["Acme Cloud 2.5.0 is out"]


async def test_a_bare_one_click_post_to_the_mails_list_unsubscribe_link_unsubscribes(site: Site) -> None:
    await site.post(await _signed_up(site))
    await site.release("2.4.0 api")
    mail = site.mails_to("ann@example.com")[-1].message
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = WAY_OUT.match(str(mail["List-Unsubscribe"]))
    assert found is not None, mail["List-Unsubscribe"]

    # What a mail client does (RFC 8058 section 3.2): POST the one field, no cookie, no CSRF token, no sign-in.
    async with (
        aiohttp.ClientSession() as stranger,
        stranger.post(
            site.url(found.group(1)),
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response,
    ):
        assert response.status == 200
        assert "will get no more of these release announcements" in await response.text()

    await site.release("2.4.1 api")
    assert [m.message["Subject"] for m in site.mails_to("ann@example.com")][-1] == "Acme Cloud 2.4.0 is out"
    unsubscribed = [e for e in site.world.store.audit if e.action == "unsubscribe"]
    assert [(e.actor, e.detail) for e in unsubscribed] == [
        ("email:ann@example.com", "email:ann@example.com from api (every release)")
    ]


async def test_opening_the_way_out_asks_first_and_a_forged_link_does_nothing(site: Site) -> None:
    await site.post(await _signed_up(site))
    await site.release("2.4.0 api")
    found = WAY_OUT.match(str(site.mails_to("ann@example.com")[-1].message["List-Unsubscribe"]))
    assert found is not None
    path = found.group(1)
    status, page = await site.get(path)
    assert (status, "Unsubscribe</button>" in page) == (200, True)
    payload, mac = path.removeprefix("/unsubscribe/").split(".")
    for forged in (f"/unsubscribe/{payload}.{mac[:-2]}AA", f"/unsubscribe/{payload}", "/subscribe/confirm/x.y"):
        status, _ = await site.post(forged)
        assert status == 404, forged
    await site.release("2.4.1 api")
    assert [m.message["Subject"] for m in site.mails_to("ann@example.com")][-1] == "Acme Cloud 2.4.1 is out"


async def test_signing_up_again_sends_no_second_mail_within_ten_minutes_and_says_the_same(site: Site) -> None:
    await _signed_up(site)
    status, page = await site.post("/subscribe", {"email": "ann@example.com", "component": "api", "level": "all"})
    assert (status, "a confirmation link is on its way" in page) == (200, True)
    assert len(site.mails_to("ann@example.com")) == 1
    status, page = await site.post("/subscribe", {"email": "not an address", "component": "api", "level": "all"})
    assert status == 400


@needs_chromium
async def test_signing_up_and_confirming_in_a_real_browser(site: Site) -> None:
    """Headless Chromium fills the release site's form, then opens the mailed link and presses Confirm."""
    async with chromium_page() as page:
        await page.goto(site.url("/releases/"))
        await page.fill("#signup input[name=email]", "cy@example.com")
        await page.select_option("#signup select[name=component]", "api")
        await page.select_option("#signup select[name=level]", "major")
        await page.click("#signup button[type=submit]")
        await expect(page.locator("main")).to_contain_text("a confirmation link is on its way")
        [mail] = site.mails_to("cy@example.com")
        found = CONFIRM.search(mail.part("text/plain"))
        assert found is not None
        await page.goto(site.url(found.group(1)))
        await expect(page.locator("#said")).to_have_text("Hear of api (major releases) at cy@example.com?")
        await page.click("#go")
        await expect(page.locator("#said")).to_contain_text("cy@example.com will hear of api (major releases)")
    await site.release("1.0.0 api")
    assert [m.message["Subject"] for m in site.mails_to("cy@example.com")][-1] == "Acme Cloud 1.0.0 is out"


async def test_the_form_sends_no_flood_of_confirmation_mail(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anyone can post the form: past the cap on recent confirmation mails, it answers 429 and mails nobody."""
    monkeypatch.setattr("adapters.web.subscriptions.MAILS_AT_MOST", 2)
    for address in ("a@example.com", "b@example.com"):
        status, _ = await site.post("/subscribe", {"email": address, "component": "api", "level": "all"})
        assert status == 200
    status, page = await site.post("/subscribe", {"email": "c@example.com", "component": "api", "level": "all"})
    assert status == 429
    assert "Too many sign-ups" in page
    assert site.mails_to("c@example.com") == []


async def test_a_link_names_nobody_and_works_only_for_what_it_was_made_for(site: Site) -> None:
    """The address is sealed inside the token; a confirmation link used as a way out (or back) is refused."""
    confirm = await _signed_up(site)
    token = confirm.removeprefix("/subscribe/confirm/")
    sealed = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert b"ann@example.com" not in sealed
    assert b"ann" not in sealed
    status, _ = await site.post(f"/unsubscribe/{token}")
    assert status == 404
    await site.post(confirm)
    await site.release("2.4.0 api")
    found = WAY_OUT.match(str(site.mails_to("ann@example.com")[-1].message["List-Unsubscribe"]))
    assert found is not None
    status, _ = await site.post("/subscribe/confirm/" + found.group(1).removeprefix("/unsubscribe/"))
    assert status == 404
