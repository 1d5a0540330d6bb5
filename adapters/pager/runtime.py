"""Apprise as the engine sees it."""

from __future__ import annotations

from adapters.pager.gateway import APPRISE_LIMITS, AppriseDirectory, AppriseMessenger
from bot.domain.destinations import Platform
from bot.service.ports import PlatformLink


def apprise_links(*, timeout: float = 30.0) -> dict[Platform, PlatformLink]:
    """``apprise:`` destinations, sent for real: Apprise needs no configuration of Herald's own."""
    return {
        Platform.APPRISE: PlatformLink(AppriseDirectory(), AppriseMessenger(timeout=timeout), limits=APPRISE_LIMITS)
    }
