"""The receipts dashboard over HTTP: signing in by link, who sees names, CSRF, the live figures."""

from __future__ import annotations

import re

import aiohttp

from adapters.web.dashboard import Dashboard
from adapters.web.server import WebServer
from adapters.web.sessions import COOKIE, Signer, Viewers
from bot.domain.commands import Acknowledge, parse_release_command
from bot.domain.receipt import ReceiptSource
from tests.adapters.web.conftest import SECRET, WebWorld


async def _signed_in(world: WebWorld, http: aiohttp.ClientSession, actor: str) -> None:
    link = await world.sign_in_link(actor)
    async with http.get(link) as page:
        assert page.status == 200
        assert "Sign in and open the dashboard" in await page.text()
    assert not http.cookie_jar.filter_cookies(world.base)  # opening the link signs nobody in
    async with http.post(link, headers={"Origin": world.base}, allow_redirects=False) as pressed:
        assert pressed.status == 303
        assert pressed.headers["Location"] == "/dashboard/2.4"


async def test_the_dashboard_needs_a_sign_in_link(web_world: WebWorld, browser_session: aiohttp.ClientSession) -> None:
    """Without a session the page says how to get a link; the link is private, short-lived and one press away."""
    await web_world.sent()
    async with browser_session.get(f"{web_world.base}/dashboard/2.4") as anonymous:
        assert anonymous.status == 401
        assert "/release dashboard 2.4" in await anonymous.text()
    said = await web_world.say("dashboard 2.4", "shell:auditor")
    assert "works for 15m" in said
    assert "do not pass it on" in said
    await _signed_in(web_world, browser_session, "shell:auditor")
    cookie = next(c for c in browser_session.cookie_jar if c.key == COOKIE)
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    async with browser_session.get(f"{web_world.base}/dashboard/2.4") as page:
        text = await page.text()
    assert page.status == 200
    assert "Customer Support" in text
    assert "auditor" in text  # signed in as


async def test_an_altered_or_old_link_signs_nobody_in(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """A changed token is not Herald's; a link after its quarter of an hour has expired."""
    await web_world.sent()
    link = await web_world.sign_in_link("shell:dana")
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    async with browser_session.post(tampered, headers={"Origin": web_world.base}, allow_redirects=False) as refused:
        assert refused.status == 410
    async with browser_session.post(link, headers={"Origin": "https://evil.example"}, allow_redirects=False) as forged:
        assert forged.status == 403  # a sign-in forced from another site (login CSRF)
    assert not browser_session.cookie_jar.filter_cookies(web_world.base)


async def test_names_only_for_announcers_approvers_and_viewers(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """Someone outside the plan's access lists sees the figures and no person, in the page and its data."""
    await web_world.sent()
    await _signed_in(web_world, browser_session, "shell:sam")  # a recipient, not a viewer
    async with browser_session.get(f"{web_world.base}/dashboard/2.4") as page:
        text = await page.text()
    async with browser_session.get(f"{web_world.base}/dashboard/2.4/live.json") as data:
        live = await data.json()
    assert "You see the figures" in text
    for person in ("kim@example.com", "shell:@jo", "jo", "dana", "lead"):
        assert person not in re.sub(r"Signed in as <strong>sam</strong>", "", text), person
        assert person not in str(live), person
    assert live["names"] is False
    assert [g["expected"] for g in live["status"]["groups"]] == [2, 3]


async def test_the_live_figures_follow_the_receipts(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """A receipt shows in the next fetch; the counts are the status report's."""
    await web_world.sent()
    await _signed_in(web_world, browser_session, "shell:lead")
    live_url = f"{web_world.base}/dashboard/2.4/live.json"
    async with browser_session.get(live_url) as before:
        first = await before.json()
    sam = next(d for d in web_world.store.deliveries.values() if d.target == "shell:@sam")
    await web_world.herald.desk.handle(
        Acknowledge(actor="shell:sam", message_ref=sam.message_ref or "", source=ReceiptSource.BUTTON)
    )
    async with browser_session.get(live_url) as after:
        second = await after.json()
    status = await web_world.herald.desk.status("2.4")
    assert second["status"] == status.as_json()
    support = next(g for g in second["status"]["groups"] if g["id"] == "support")
    assert support["acknowledged"] == 1
    assert [g["acknowledged"] for g in first["status"]["groups"]] == [0, 0]
    assert [t["group"] for t in second["timeline"]] == ["support"]
    assert "jo" in str(support["not_acknowledged"])  # the lead sees names


async def test_signing_out_needs_the_page_token(web_world: WebWorld, browser_session: aiohttp.ClientSession) -> None:
    """A POST without the page's CSRF token changes nothing; with it the session ends."""
    await web_world.sent()
    await _signed_in(web_world, browser_session, "shell:dana")
    async with browser_session.post(f"{web_world.base}/signout", data={"csrf": "forged"}) as forged:
        assert forged.status == 403
    async with browser_session.get(f"{web_world.base}/dashboard/2.4") as page:
        token = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert token is not None
    async with browser_session.post(f"{web_world.base}/signout", data={"csrf": token.group(1)}) as out:
        assert out.status == 200
    async with browser_session.get(f"{web_world.base}/dashboard/2.4") as gone:
        assert gone.status == 401


async def test_without_the_web_pages_the_command_says_how_to_turn_them_on(web_world: WebWorld) -> None:
    """No public URL: /release dashboard answers in a sentence."""
    desk = web_world.herald.desk
    desk._sign_in = None  # as wired without HERALD_PUBLIC_URL
    await web_world.sent()
    reply = await desk.handle(parse_release_command("dashboard 2.4", "shell:dana"))
    assert reply.failed
    assert "HERALD_PUBLIC_URL" in reply.views[0].text  # type: ignore[union-attr]


async def test_only_people_who_may_see_names_download_the_pack(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """The evidence pack names everyone: a recipient signed in is refused it, a viewer gets it."""
    await web_world.sent()
    await _signed_in(web_world, browser_session, "shell:sam")
    async with browser_session.get(f"{web_world.base}/dashboard/2.4/export.csv") as refused:
        assert refused.status == 403
    browser_session.cookie_jar.clear()
    await _signed_in(web_world, browser_session, "shell:auditor")
    async with browser_session.get(f"{web_world.base}/dashboard/2.4/export.csv") as sheet:
        assert sheet.status == 200
        assert sheet.headers["Content-Disposition"] == 'attachment; filename="herald-acme-cloud-2.4.csv"'
        rows = (await sheet.text()).lstrip("\ufeff").strip().splitlines()
    assert len(rows) == 1 + len(web_world.store.deliveries)


async def test_behind_a_proxy_its_header_signs_people_in(web_world: WebWorld) -> None:
    """With HERALD_WEB_TRUSTED_HEADER the proxy's header is the person: no link, no cookie."""
    await web_world.sent()
    viewers = Viewers(web_world.base, Signer(SECRET.encode()), trusted_header="X-Forwarded-Email")
    server = WebServer("127.0.0.1", 0, Dashboard(web_world.herald.desk, viewers).routes())
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{server.port}/dashboard/2.4/live.json"
            async with http.get(url) as nobody:
                assert nobody.status == 401
            async with http.get(url, headers={"X-Forwarded-Email": "Kim@Example.com"}) as kim:
                assert kim.status == 200
                assert (await kim.json())["names"] is False  # kim is a recipient, not a viewer
    finally:
        await server.close()
