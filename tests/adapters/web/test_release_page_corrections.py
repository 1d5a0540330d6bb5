"""Corrections on the release site: the page and its feed show the corrected text, marked as corrected."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import aiohttp

from adapters.web.publisher import PagePublisher
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.service.ports import Editor
from tests.adapters.web.conftest import WebWorld

ATOM = "{http://www.w3.org/2005/Atom}"
ORIGINAL = "Support: Acme Cloud 2.4 is live."
CORRECTED = "Support: Acme Cloud 2.4 is live. Single sign-on arrives next month, not today."
APPROVED_AT = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)  # the fixture's clock (12:00), 90 minutes on
NOTE = "Corrected on 2026-11-27 13:30 UTC (revision 2)"


async def _correct(world: WebWorld) -> None:
    """Correct the support communiqué 90 minutes after 2.4 went out (Dana writes, the lead approves)."""
    world.clock.advance(timedelta(minutes=90))
    await world.say(f"correct 2.4 support {CORRECTED}", "shell:dana")
    await world.say("approve 2.4 support", "shell:lead")
    await world.herald.engine.run_until_idle()


async def _page(world: WebWorld, http: aiohttp.ClientSession) -> str:
    async with http.get(f"{world.base}/releases/2.4") as response:
        assert response.status == 200
        return await response.text()


def test_the_release_page_is_an_editor_whose_edit_is_never_in_doubt() -> None:
    """The engine corrects a page in place: nothing to send, and the page always carries the current text."""
    assert isinstance(PagePublisher(), Editor)


async def test_the_page_shows_the_corrected_text_and_says_when_it_was_corrected(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """After the approval the posting carries the new text, not the old, with "Corrected on … (revision 2)"."""
    await web_world.sent()
    before = await _page(web_world, browser_session)
    assert f"<p>{ORIGINAL}</p>" in before
    assert "Corrected on" not in before

    await _correct(web_world)

    after = await _page(web_world, browser_session)
    assert f"<p>{CORRECTED}</p>" in after
    assert f"<p>{ORIGINAL}</p>" not in after
    assert f'<p class="quiet corrected">{NOTE}</p>' in after
    assert after.count("<article ") == 1  # corrected in place: no second posting
    assert "Posted 2026-11-27 12:00 UTC" in after


async def test_the_page_s_correction_is_recorded_as_an_edit_in_place(web_world: WebWorld) -> None:
    """The correction of the web copy is settled as an edit under its own reference, sent nowhere else."""
    await web_world.sent()
    await _correct(web_world)

    [page] = [
        d for d in web_world.store.deliveries.values() if d.target == "web:releases" and d.purpose is Purpose.CORRECTION
    ]
    assert page.status is DeliveryStatus.SENT
    assert page.message_ref == "web:releases:2.4:support#correction-2"
    assert page.revision == 2
    assert not [m for m in web_world.messenger.sent if m.target == "web:releases"]


async def test_the_atom_feed_entry_carries_the_corrected_text_and_is_updated_at_the_correction(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """The entry's content is the corrected text with the note; its updated is the approval, published the post."""
    await web_world.sent()
    await _correct(web_world)

    async with browser_session.get(f"{web_world.base}/releases/feed.xml") as response:
        feed = ET.fromstring(await response.read())
    [entry] = feed.findall(f"{ATOM}entry")
    content = entry.findtext(f"{ATOM}content") or ""
    assert f"<p>{CORRECTED}</p>" in content
    assert ORIGINAL + "</p>" not in content
    assert f"<p><em>{NOTE}</em></p>" in content
    assert entry.findtext(f"{ATOM}updated") == APPROVED_AT.isoformat()
    assert entry.findtext(f"{ATOM}published") == "2026-11-27T12:00:00+00:00"
    assert feed.findtext(f"{ATOM}updated") == APPROVED_AT.isoformat()


async def test_a_reader_who_acknowledged_the_old_text_is_asked_again_on_the_page(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """Sam acknowledged revision 1 on the page; after the correction the page offers Acknowledge again."""
    await web_world.sent()
    link = await web_world.sign_in_link("shell:sam")
    async with browser_session.post(link, headers={"Origin": web_world.base}) as signed:
        assert signed.status == 200
    token = re.search(r'name="csrf" value="([^"]+)"', await _page(web_world, browser_session))
    assert token is not None
    form = {"csrf": token.group(1), "group": "support"}
    async with browser_session.post(
        f"{web_world.base}/releases/2.4/ack", data=form, headers={"Origin": web_world.base}
    ) as done:
        assert "You acknowledged this" in await done.text()

    await _correct(web_world)

    page = await _page(web_world, browser_session)
    assert "You acknowledged this" not in page
    assert "Acknowledge</button>" in page
