"""``herald doctor`` for e-mail: the SMTP server takes Herald's login and offers DSN; the report mailbox opens."""

from __future__ import annotations

import imaplib

import aiosmtplib

from adapters.checkup import Finding, failed, ok, warning
from adapters.email.config import EmailSettings, ImapSettings
from adapters.email.gateway import SmtpMessenger, delivery_error
from adapters.email.inbound.matching import ReportReader
from adapters.email.mailbox import ReportMailbox
from adapters.email.refs import MailRefs
from bot.domain.errors import HeraldError
from bot.service.ports import UnitOfWorkFactory
from bot.service.reports import DeliveryReports


async def smtp_findings(settings: EmailSettings) -> list[Finding]:
    """Connect, TLS as configured, log in; whether the server offers DSN (RFC 3461) for delivery reports."""
    where = f"{settings.host}:{settings.port}"
    try:
        messenger = SmtpMessenger(settings, timeout=10.0)
        client = await messenger.open_session()
    except HeraldError as error:
        return [failed("smtp", str(error), "fix HERALD_SMTP_CA_FILE")]
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        return [failed("smtp", f"{where}: {delivery_error(error)}", "check SMTP_URL: host, port, user and password")]
    try:
        dsn = client.supports_extension("dsn")
    finally:
        client.close()
    found = [ok("smtp", f"{where} takes Herald's login" if settings.username else f"{where} answers")]
    if dsn:
        found.append(ok("smtp dsn", "the server offers DSN: deliveries can be confirmed"))
    else:
        found.append(
            warning(
                "smtp dsn",
                "the server does not offer DSN: deliveries are never confirmed, only bounces are read",
                "use a relay that supports RFC 3461 (Postfix, Exim and SES do) to see 'confirmed'",
            )
        )
    return found


async def imap_findings(settings: ImapSettings, uow: UnitOfWorkFactory, refs: MailRefs) -> list[Finding]:
    """Log in to the report mailbox and open it, as the poller does."""
    from bot.service.clock import SystemClock

    mailbox = ReportMailbox(settings, DeliveryReports(uow=uow, clock=SystemClock()), ReportReader(refs), timeout=10)
    where = f"{settings.host}:{settings.port}/{settings.mailbox}"
    try:
        held = await mailbox.check()
    except HeraldError as error:
        return [failed("imap", str(error), "see the sentence: TLS, or HERALD_IMAP_INSECURE for a local server")]
    except (imaplib.IMAP4.error, OSError, TimeoutError) as error:
        why = f"{where}: {error or type(error).__name__}"
        return [failed("imap", why, "check HERALD_IMAP_URL: user, password, mailbox")]
    return [ok("imap", f"{where} opens ({held} mails waiting)")]
