"""The release site in a real headless Chromium: read the posting, sign in, press Acknowledge."""

from __future__ import annotations

from playwright.async_api import expect

from tests.adapters.web.browser import chromium_page, needs_chromium, screenshot
from tests.adapters.web.conftest import WebWorld

pytestmark = needs_chromium


async def test_acknowledging_on_the_release_page(web_world: WebWorld) -> None:
    """Anyone reads the page; a signed-in reader in the audience presses Acknowledge and is counted once."""
    await web_world.sent()
    async with chromium_page() as page:
        await page.goto(f"{web_world.base}/releases/")
        await page.click("text=Acme Cloud 2.4")
        posting = page.locator("article#support")
        await expect(posting).to_contain_text("Support: Acme Cloud 2.4 is live.")
        await expect(posting.locator("button.acknowledge")).to_have_count(0)  # not signed in yet
        await page.goto(await web_world.sign_in_link("shell:sam"))
        await page.click("#sign-in")
        await page.goto(f"{web_world.base}/releases/2.4")
        await page.click("article#support button.acknowledge")
        await expect(posting.locator(".acknowledged")).to_have_text("You acknowledged this. Thank you.")
        await screenshot(page, "release-page.png")
    support = next(g for g in (await web_world.herald.desk.status("2.4")).groups if g.id == "support")
    assert support.acknowledged == 1
