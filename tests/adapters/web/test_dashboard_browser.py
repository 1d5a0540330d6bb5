"""The receipts dashboard in a real headless Chromium: sign in by link, live counts, filtering, who sees names."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from playwright.async_api import expect

from bot.domain.commands import Acknowledge
from bot.domain.receipt import ReceiptSource
from tests.adapters.web.browser import chromium_page, needs_chromium, screenshot
from tests.adapters.web.conftest import WebWorld
from tests.fakes import permanent

pytestmark = needs_chromium


async def _approved(world: WebWorld) -> None:
    """2.4 approved by both people; nothing sent yet."""
    for line, actor in (
        ("announce 2.4", "shell:dana"),
        ("confirm 2.4", "shell:dana"),
        ("approve 2.4 all", "shell:dana"),
        ("send 2.4", "shell:dana"),
        ("approve 2.4", "shell:lead"),
    ):
        await world.say(line, actor)


async def test_signing_in_by_link_and_watching_the_counts_change(web_world: WebWorld) -> None:
    """The link opens a page with one button; the dashboard then follows the send and the receipts by itself."""
    await _approved(web_world)
    link = await web_world.sign_in_link("shell:lead")
    async with chromium_page() as page:
        await page.goto(link)
        await page.click("#sign-in")
        await expect(page).to_have_url(f"{web_world.base}/dashboard/2.4")
        support = page.locator('article.group[data-group="support"]')
        await expect(support.locator(".sent")).to_have_text("0")
        await web_world.herald.engine.run_until_idle()  # the campaign sends while the page is open
        await expect(support.locator(".sent")).to_have_text("4", timeout=10_000)  # 2 DMs, a mail, the web page
        for minutes, person, target in ((4, "shell:sam", "shell:@sam"), (9, "shell:alex", "shell:#engineering")):
            web_world.clock.advance(timedelta(minutes=minutes))
            copy = next(d for d in web_world.store.deliveries.values() if d.target == target)
            await web_world.herald.desk.handle(
                Acknowledge(actor=person, message_ref=copy.message_ref or "", source=ReceiptSource.BUTTON)
            )
        web_world.clock.advance(timedelta(minutes=3))
        await expect(support.locator(".acknowledged")).to_have_text("1", timeout=10_000)
        engineering = page.locator('article.group[data-group="engineering"]')
        await expect(engineering.locator(".acknowledged")).to_have_text("1", timeout=10_000)
        await expect(page.locator("#chart polyline[data-group=support]")).to_have_count(1)
        await expect(support.locator("details.waiting")).to_contain_text("2 not yet acknowledged")
        await screenshot(page, "dashboard.png")


async def test_the_table_filters_and_sorts_in_the_browser(web_world: WebWorld) -> None:
    """Typing in the filter hides the other rows; a header click sorts, and both survive the live refresh."""
    web_world.messenger.errors["shell:@jo"] = permanent("jo left the company")
    await web_world.sent()
    link = await web_world.sign_in_link("shell:dana")
    async with chromium_page() as page:
        await page.goto(link)
        await page.click("#sign-in")
        rows = page.locator("#targets tbody tr")
        await expect(rows).to_have_count(5)
        await page.fill("#filter", "failed")
        await expect(page.locator("#targets tbody tr:not(.hidden-by-filter)")).to_have_count(1)
        await expect(page.locator("#targets tbody tr:not(.hidden-by-filter)")).to_contain_text("shell:@jo")
        await page.fill("#filter", "")
        await page.click('th[data-sort="status"]')
        assert await rows.first.get_attribute("data-status") == "failed"
        await page.click('th[data-sort="status"]')  # descending
        await page.wait_for_timeout(2500)  # a live refresh redraws the table; the order stays
        assert await rows.first.get_attribute("data-status") == "sent"
        assert await rows.last.get_attribute("data-status") == "failed"
        await expect(page.locator('th[data-sort="status"]')).to_have_class("sorted-desc")


async def test_someone_without_rights_sees_no_names(web_world: WebWorld) -> None:
    """A recipient signed in sees the figures and nobody's name or address."""
    await web_world.sent()
    link = await web_world.sign_in_link("shell:sam")
    async with chromium_page() as page:
        await page.goto(link)
        await page.click("#sign-in")
        await expect(page.locator("#counts-only")).to_be_visible()
        text = await page.locator("main").inner_text()
        for person in ("kim@example.com", "@jo", "dana", "lead"):
            assert person not in text, person
        await expect(page.locator("#targets")).to_contain_text("(hidden)")


async def test_downloading_the_evidence_pack(web_world: WebWorld) -> None:
    """The dashboard's JSON download is the export: its counts are the status report's."""
    await web_world.sent()
    link = await web_world.sign_in_link("shell:auditor")
    async with chromium_page() as page:
        await page.goto(link)
        await page.click("#sign-in")
        async with page.expect_download() as waiting:
            await page.click('a[href$="/export.json"]')
        download = await waiting.value
        assert download.suggested_filename == "herald-acme-cloud-2.4.json"
        saved = await download.path()
        pack = json.loads(await asyncio.to_thread(Path(saved).read_text, encoding="utf-8"))
    assert pack["status"] == (await web_world.herald.desk.status("2.4")).as_json()
    assert len(pack["deliveries"]) == len(web_world.store.deliveries)
