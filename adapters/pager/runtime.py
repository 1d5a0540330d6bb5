"""Apprise as the engine sees it."""

from __future__ import annotations

from adapters.pager.gateway import APPRISE_LIMITS, AppriseDirectory, AppriseMessenger
from bot.domain.destinations import Platform
from bot.service.ports import PlatformLink


def apprise_links(*, timeout: float = 30.0, allow_unverified: bool = False) -> dict[Platform, PlatformLink]:
    """``apprise:`` destinations, sent for real; ``allow_unverified`` lets a URL say ``verify=no``."""
    messenger = AppriseMessenger(timeout=timeout, allow_unverified=allow_unverified)
    return {Platform.APPRISE: PlatformLink(AppriseDirectory(), messenger, limits=APPRISE_LIMITS)}
