"""E-mail as the engine sees it: the links ``herald run`` merges into every platform it serves."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

from adapters.email.config import MailConfig
from adapters.email.gateway import AckLink, MailDirectory, SmtpMessenger, mail_limits
from adapters.email.inbound.matching import ReportReader
from adapters.email.mailbox import ReportMailbox
from adapters.email.refs import MailRefs
from adapters.scheduling.sweeper import Sweeper
from bot.domain.delivery import Purpose
from bot.domain.destinations import Kind, Platform
from bot.domain.plan import AckPolicy
from bot.service.clock import SystemClock
from bot.service.ports import Clock, OutgoingMessage, PlatformLink, UnitOfWorkFactory
from bot.service.reports import DeliveryReports

REPORTS_JOB = "herald:delivery-reports"


def mail_refs(settings: MailConfig) -> MailRefs:
    """How this Herald names its mail and checks what comes back: the same in every process with the same secret."""
    secret = settings.mail_secret.reveal().encode() if settings.mail_secret is not None else None
    return MailRefs(secret, settings.bounce_address)


def mail_links(
    settings: MailConfig, *, ack_link: AckLink | None = None, unsubscribe_link: AckLink | None = None
) -> dict[Platform, PlatformLink]:
    """``email:`` by real SMTP when ``SMTP_URL`` is set; nothing otherwise (the caller keeps its own).

    Raises:
        ConfigError: when ``HERALD_SMTP_CA_FILE`` cannot be read.
    """
    if settings.email is None:
        return {}
    messenger = SmtpMessenger(
        settings.email, refs=mail_refs(settings), ack_link=ack_link, unsubscribe_link=unsubscribe_link
    )
    return {Platform.EMAIL: PlatformLink(MailDirectory(), messenger, limits=mail_limits(settings.email))}


def confirmation_mail(settings: MailConfig, product: str) -> Callable[[str, str, str], Awaitable[None]] | None:
    """How a web sign-up's confirmation link is mailed (None without ``SMTP_URL``): one mail, at once, not
    through the ledger (it belongs to no release, and a lost one is asked for again from the page)."""
    if settings.email is None:
        return None
    messenger = SmtpMessenger(settings.email, refs=mail_refs(settings))

    async def send(address: str, subject: str, text: str) -> None:
        key = f"subscription:{address}:{secrets.token_hex(8)}"
        await messenger.send(
            OutgoingMessage(
                delivery_key=key,
                version="",
                product=product,
                group_id="subscriptions",
                group_name="Release announcements",
                target=f"email:{address}",
                kind=Kind.EMAIL,
                text=text,
                ack=AckPolicy.NONE,
                purpose=Purpose.NOTICE,
                subject=subject,
            )
        )
        await messenger.sessions.close()

    return send


class ReportService:
    """The delivery-report sweep as a service Herald runs next to its chat platforms."""

    def __init__(self, sweeper: Sweeper) -> None:
        self._sweeper = sweeper
        self._closed = asyncio.Event()

    async def start(self) -> None:
        self._sweeper.start()

    async def close(self) -> None:
        self._sweeper.stop()
        self._closed.set()

    async def failed(self) -> BaseException | None:
        await self._closed.wait()  # a failed poll is logged and tried again at the next one
        return None


def report_sweeper(settings: MailConfig, uow: UnitOfWorkFactory, clock: Clock | None = None) -> Sweeper | None:
    """The job that polls ``HERALD_IMAP_URL`` for delivery reports, when it is set.

    Raises:
        ConfigError: when ``HERALD_IMAP_CA_FILE`` cannot be read.
    """
    if settings.imap is None:
        return None
    reports = DeliveryReports(uow=uow, clock=clock or SystemClock())
    mailbox = ReportMailbox(settings.imap, reports, ReportReader(mail_refs(settings)))
    return Sweeper(mailbox.poll, timedelta(seconds=settings.imap.poll_seconds), job_id=REPORTS_JOB)
