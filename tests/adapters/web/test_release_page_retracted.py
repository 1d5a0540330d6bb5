"""A retracted release on Herald's web pages: still listed, struck through under why, its feed entry updated, and
the dashboard saying so."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import aiohttp

from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.release import ReleaseState
from tests.adapters.web.conftest import WebWorld

ATOM = "{http://www.w3.org/2005/Atom}"
TEXT = "Support: Acme Cloud 2.4 is live."
REASON = "rolled back: the migration failed on EU-west"
RETRACTED_AT = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)  # the fixture's clock (12:00), 90 minutes on


async def _retract(world: WebWorld, *, approved: bool = True) -> None:
    """Retract 2.4 90 minutes after it went out: Dana proposes, the lead approves (unless ``approved`` is False)."""
    world.clock.advance(timedelta(minutes=90))
    await world.say(f"retract 2.4 {REASON}", "shell:dana")
    if approved:
        await world.say("approve 2.4", "shell:lead")
    await world.herald.engine.run_until_idle()


async def _get(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as response:
        assert response.status == 200, url
        return await response.text()


async def _signed_in(world: WebWorld, http: aiohttp.ClientSession, actor: str) -> None:
    async with http.post(await world.sign_in_link(actor), headers={"Origin": world.base}) as signed:
        assert signed.status == 200


async def test_the_page_shows_the_posting_struck_through_under_the_reason(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """After the approval the posting stays, its text inside <del> under "Retracted: REASON", posted once."""
    await web_world.sent()
    await _retract(web_world)
    assert web_world.store.releases["2.4"].state is ReleaseState.RETRACTED

    page = await _get(browser_session, f"{web_world.base}/releases/2.4")

    assert f'<p class="retracted"><strong>Retracted: {REASON}</strong></p>' in page
    assert re.search(rf"<del>\s*<p>{re.escape(TEXT)}</p>\s*</del>", page)
    assert page.count("<article ") == 1
    assert "Posted 2026-11-27 12:00 UTC · retracted 2026-11-27 13:30 UTC" in page
    assert "/release dashboard 2.4" not in page  # nobody is invited to sign in to acknowledge it


async def test_a_retraction_waiting_for_its_approval_changes_nothing_on_the_page(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """Proposed and not yet approved, the release is as it was: the text plain, no "Retracted"."""
    await web_world.sent()
    await _retract(web_world, approved=False)

    page = await _get(browser_session, f"{web_world.base}/releases/2.4")

    assert f"<p>{TEXT}</p>" in page
    assert "Retracted" not in page
    assert "<del>" not in page


async def test_a_signed_in_reader_gets_no_acknowledge_button_and_a_forced_press_records_nothing(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """Sam, signed in, sees no Acknowledge on a retracted posting; a POST anyway is refused and counts nothing."""
    await web_world.sent()
    await _signed_in(web_world, browser_session, "shell:sam")
    assert "Acknowledge</button>" in await _get(browser_session, f"{web_world.base}/releases/2.4")
    await _retract(web_world)

    page = await _get(browser_session, f"{web_world.base}/releases/2.4")
    assert "Acknowledge</button>" not in page
    token = re.search(r'name="csrf" value="([^"]+)"', page)  # the sign-out form's
    assert token is not None
    receipts = len(web_world.store.receipts)
    async with browser_session.post(
        f"{web_world.base}/releases/2.4/ack",
        data={"csrf": token.group(1), "group": "support"},
        headers={"Origin": web_world.base},
    ) as pressed:
        assert pressed.status == 409
        assert f"Release 2.4 was retracted: {REASON}" in await pressed.text()
    assert len(web_world.store.receipts) == receipts


async def test_the_index_still_lists_the_retracted_release_and_says_why(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """/releases/ keeps 2.4, marked as retracted with the reason."""
    await web_world.sent()
    await _retract(web_world)

    index = await _get(browser_session, f"{web_world.base}/releases/")

    assert '<a href="/releases/2.4">Acme Cloud 2.4</a>' in index
    assert f"Retracted: {REASON}" in index


async def test_the_feed_entry_says_retracted_and_is_updated_at_the_retraction(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """The entry's content starts with "Retracted: REASON", its text struck through; updated is retracted_at."""
    await web_world.sent()
    await _retract(web_world)

    async with browser_session.get(f"{web_world.base}/releases/feed.xml") as response:
        feed = ET.fromstring(await response.read())
    [entry] = feed.findall(f"{ATOM}entry")
    content = entry.findtext(f"{ATOM}content") or ""

    assert content.startswith(f"<p><strong>Retracted: {REASON}</strong></p>")
    assert re.search(rf"<del>\s*<p>{re.escape(TEXT)}</p>\s*</del>", content)
    assert entry.findtext(f"{ATOM}title") == "Acme Cloud 2.4: for Customer Support (retracted)"
    assert web_world.store.releases["2.4"].retracted_at == RETRACTED_AT
    assert entry.findtext(f"{ATOM}updated") == RETRACTED_AT.isoformat()
    assert entry.findtext(f"{ATOM}published") == "2026-11-27T12:00:00+00:00"
    assert feed.findtext(f"{ATOM}updated") == RETRACTED_AT.isoformat()


async def test_the_page_s_retraction_is_an_edit_in_place_sent_nowhere(web_world: WebWorld) -> None:
    """The web copy's retraction settles as an edit of the page; nothing goes out to web:releases."""
    await web_world.sent()
    await _retract(web_world)

    [page] = [
        d for d in web_world.store.deliveries.values() if d.target == "web:releases" and d.purpose is Purpose.RETRACTION
    ]
    assert page.status is DeliveryStatus.SENT
    assert not [m for m in web_world.messenger.sent if m.target == "web:releases"]


async def test_the_dashboard_shows_the_state_retracted_and_who_retracted_it(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """An announcer's dashboard says "retracted", with the status report's sentence naming who and why."""
    await web_world.sent()
    await _retract(web_world)
    await _signed_in(web_world, browser_session, "shell:dana")

    page = await _get(browser_session, f"{web_world.base}/dashboard/2.4")
    live = await _get(browser_session, f"{web_world.base}/dashboard/2.4/live")

    sentence = f"Retracted by dana, approved by lead at 2026-11-27 13:30 UTC: {REASON}"
    for text in (page, live):
        assert '<strong id="state">retracted</strong>' in text
        assert f'<p class="note retraction" id="retraction">{sentence}</p>' in text
        assert "copies withdrawn" in text
        assert "not yet acknowledged" not in text  # nobody is asked any more


async def test_the_dashboard_tells_a_reader_who_may_not_see_names_why_but_not_who(
    web_world: WebWorld, browser_session: aiohttp.ClientSession
) -> None:
    """Sam sees when and why it was retracted, and neither Dana nor the lead, in the page or its data."""
    await web_world.sent()
    await _retract(web_world)
    await _signed_in(web_world, browser_session, "shell:sam")

    page = await _get(browser_session, f"{web_world.base}/dashboard/2.4")
    async with browser_session.get(f"{web_world.base}/dashboard/2.4/live.json") as data:
        live = await data.json()

    assert f"Retracted at 2026-11-27 13:30 UTC: {REASON}" in page
    assert live["status"]["retraction"] == f"Retracted at 2026-11-27 13:30 UTC: {REASON}"
    for person in ("dana", "lead"):
        assert person not in page.replace("Signed in as <strong>sam</strong>", ""), person
        assert person not in str(live), person
