"""E-mail as the engine sees it: the links ``herald run`` merges into every platform it serves."""

from __future__ import annotations

import ssl

from adapters.email.gateway import AckLink, MailDirectory, SmtpMessenger, mail_limits
from bot.domain.destinations import Platform
from bot.service.ports import PlatformLink
from bot.settings import Settings


def mail_links(
    settings: Settings, *, ack_link: AckLink | None = None, tls_context: ssl.SSLContext | None = None
) -> dict[Platform, PlatformLink]:
    """``email:`` by real SMTP when ``SMTP_URL`` is set; nothing otherwise (the caller keeps its own)."""
    if settings.email is None:
        return {}
    messenger = SmtpMessenger(settings.email, ack_link=ack_link, tls_context=tls_context)
    return {Platform.EMAIL: PlatformLink(MailDirectory(), messenger, limits=mail_limits(settings.email))}
