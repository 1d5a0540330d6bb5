"""The release site: postings on web:releases, Acknowledge for signed-in readers, the Atom feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import aiohttp

from tests.adapters.web.conftest import WebWorld

ATOM = "{http://www.w3.org/2005/Atom}"


async def _sign_in(world: WebWorld, http: aiohttp.ClientSession, actor: str) -> None:
    link = await world.sign_in_link(actor)
    async with http.post(link, headers={"Origin": world.base}) as signed:
        assert signed.status == 200


async def _acknowledge(world: WebWorld, http: aiohttp.ClientSession, times: int = 1) -> str:
    async with http.get(f"{world.base}/releases/2.4") as page:
        token = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert token is not None, "no Acknowledge form for a signed-in reader"
    form = {"csrf": token.group(1), "group": "support"}
    text = ""
    for _ in range(times):  # a double click sends the form twice
        async with http.post(f"{world.base}/releases/2.4/ack", data=form, headers={"Origin": world.base}) as done:
            assert done.status == 200
            assert not done.url.query  # the page says where the receipt stands: no names in the URL
            text = await done.text()
    return text


async def test_a_sent_communique_is_posted_on_the_release_site(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """web:releases gets the support communiqué as the group is sent; anyone may read it."""
    async with browser_session.get(f"{web_world.base}/releases/2.4") as before:
        assert before.status == 404
    await web_world.sent()
    async with browser_session.get(f"{web_world.base}/releases/") as index:
        assert "Acme Cloud 2.4" in await index.text()
    async with browser_session.get(f"{web_world.base}/releases/2.4") as page:
        text = await page.text()
    assert "Support: Acme Cloud 2.4 is live." in text
    assert "For Customer Support" in text
    assert "Engineering" not in text  # engineering was not posted on the web
    assert "/release dashboard 2.4" in text  # how to sign in to acknowledge
    posting = next(d for d in web_world.store.deliveries.values() if d.target == "web:releases")
    assert posting.message_ref == "web:releases:2.4:support"


async def test_a_signed_in_reader_acknowledges_once(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """Sam, in the support audience, acknowledges on the page: counted once, a second press adds nothing."""
    await web_world.sent()
    await _sign_in(web_world, browser_session, "shell:sam")
    assert "You acknowledged this. Thank you." in await _acknowledge(web_world, browser_session, times=2)
    async with browser_session.post(
        f"{web_world.base}/releases/2.4/ack", data={"csrf": "x", "group": "support"}, headers={"Origin": web_world.base}
    ) as forged:
        assert forged.status == 403
    support = next(g for g in (await web_world.herald.desk.status("2.4")).groups if g.id == "support")
    assert support.acknowledged == 1
    assert [r.source.value for r in web_world.store.receipts.values()] == ["button"]


async def test_a_reader_the_communique_was_not_meant_for_is_noted_not_counted(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """Someone outside the group's audience may acknowledge; it is listed apart and does not count."""
    await web_world.sent()
    await _sign_in(web_world, browser_session, "shell:visitor")
    assert "not meant for you, so it is not counted" in await _acknowledge(web_world, browser_session)
    support = next(g for g in (await web_world.herald.desk.status("2.4")).groups if g.id == "support")
    assert support.acknowledged == 0
    assert support.outside == 1


async def test_the_atom_feed_lists_the_postings(web_world: WebWorld, browser_session: aiohttp.ClientSession) -> None:
    """A feed reader gets one entry per posting, with the communiqué as HTML and a link to the page."""
    await web_world.sent()
    async with browser_session.get(f"{web_world.base}/releases/feed.xml") as response:
        assert response.content_type == "application/atom+xml"
        feed = ET.fromstring(await response.read())
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Acme Cloud 2.4: for Customer Support"
    link = entry.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href") == f"{web_world.base}/releases/2.4#support"
    assert "<p>Support: Acme Cloud 2.4 is live.</p>" in (entry.findtext(f"{ATOM}content") or "")
    assert feed.findtext(f"{ATOM}updated")
