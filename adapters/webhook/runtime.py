"""Webhooks as the engine sees them."""

from __future__ import annotations

from typing import Protocol

from adapters.config import Secret
from adapters.webhook.gateway import WEBHOOK_LIMITS, WebhookDirectory, WebhookMessenger
from bot.domain.destinations import Platform
from bot.service.ports import PlatformLink


class WebhookConfig(Protocol):
    """Webhooks' part of the settings, as the composition root hands it over."""

    @property
    def webhook_secret(self) -> Secret | None: ...

    @property
    def webhook_insecure(self) -> bool: ...


def webhook_links(settings: WebhookConfig, *, timeout: float = 10.0) -> dict[Platform, PlatformLink]:
    """``webhook:`` by real, signed HTTP POSTs when ``HERALD_WEBHOOK_SECRET`` is set; nothing otherwise."""
    if settings.webhook_secret is None:
        return {}
    insecure = settings.webhook_insecure
    messenger = WebhookMessenger(settings.webhook_secret.reveal(), timeout=timeout, allow_insecure=insecure)
    directory = WebhookDirectory(allow_insecure=insecure)
    return {Platform.WEBHOOK: PlatformLink(directory, messenger, limits=WEBHOOK_LIMITS)}
