"""Debian's headless Chromium, driven by Playwright through ``executable_path`` (never a downloaded browser).

The browser tests run when ``HERALD_TEST_CHROMIUM`` names the binary (``.ci/start-chromium``
prints it); without it they are skipped with the reason. With ``HERALD_SCREENSHOTS`` set to
a folder, the tests that draw a page save a screenshot there (the ones in ``docs/``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

CHROMIUM = os.environ.get("HERALD_TEST_CHROMIUM")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM, reason='HERALD_TEST_CHROMIUM not set (eval "$(bash .ci/start-chromium)"): browser tests skipped'
)


@asynccontextmanager
async def chromium_page() -> AsyncIterator[Page]:
    """A fresh page in a fresh headless Chromium (its own cookies)."""
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            context = await browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
            yield await context.new_page()
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> None:
    """Save the page as ``HERALD_SCREENSHOTS/name`` when asked to."""
    folder = os.environ.get("HERALD_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / name), full_page=True)
