"""Delivery status notifications: Postfix-style reports read from a real Dovecot over IMAP.

The IMAP tests need ``HERALD_TEST_IMAP_URL`` (``eval "$(.ci/start-dovecot)"``; CI starts it)
and skip without it; the parsing tests run everywhere.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.email.inbound.matching import ReportReader
from adapters.email.inbound.reading import read_mail
from adapters.email.mailbox import ReportMailbox
from adapters.email.message import message_ref
from adapters.email.refs import MailRefs
from adapters.shell.render import render_status
from bot.app.settings import load_settings
from bot.domain.commands import Acknowledge
from bot.domain.delivery import DeliveryStatus
from bot.domain.receipt import ReceiptSource
from bot.service.reports import Applied, DeliveryReport, DeliveryReports, ReportAction
from bot.service.views import GroupStatus, MailboxStatus
from storage.memory import MemoryUnitOfWork
from tests.adapters.email.conftest import IMAP_URL, PLAN, Mailbox, MailWorld, mail_world, needs_dovecot
from tests.servers.smtp import SmtpServer

FIXTURES = Path(__file__).parent / "fixtures"
ADA = "2.4|customers|email:ada@example.com"
BOB = "2.4|customers|email:bob@example.org"
REFS = MailRefs()  # the mail world below sets no secret: plain-hash envelope ids


def envelope_id(key: str) -> str:
    """The envelope id Herald gives the delivery ``key`` with no secret set."""
    return REFS.envelope_id(key)


def parse_report(raw: bytes) -> list[DeliveryReport]:
    """The reports one mail makes, as the report mailbox reads it."""
    return list(ReportReader(REFS).reports(read_mail(raw)).reports)


def fixture(name: str, key: str = ADA) -> bytes:
    """A fixture report about the delivery ``key``, with CRLF line ends as it travels."""
    text = (FIXTURES / name).read_text()
    text = text.replace("{ENVID}", envelope_id(key)).replace("{RCPT}", key.rsplit(":", 1)[1])
    return text.replace("\n", "\r\n").encode()


# -- parsing ---------------------------------------------------------------------------


def test_a_delivered_report_names_the_delivery_and_recipient() -> None:
    """Postfix's success DSN: action delivered, status 2.0.0, matched by Original-Envelope-Id."""
    [report] = parse_report(fixture("dsn-delivered.eml"))
    assert (report.message_ref, report.recipient, report.action, report.status) == (
        message_ref(envelope_id(ADA)),
        "ada@example.com",
        ReportAction.DELIVERED,
        "2.0.0",
    )
    assert report.reporter == "mx.example.com"


def test_a_failure_report_carries_the_servers_reason() -> None:
    """Postfix's bounce: action failed, 5.1.1, and the remote server's words unfolded."""
    [report] = parse_report(fixture("dsn-failed.eml", BOB))
    assert (report.action, report.status) == (ReportAction.FAILED, "5.1.1")
    assert report.diagnostic == (
        "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table"
    )


def test_a_report_without_an_envelope_id_is_matched_by_the_returned_message_id() -> None:
    """An MTA that drops ENVID still returns the headers: the Message-ID names the delivery."""
    raw = fixture("dsn-failed.eml", BOB).replace(b"Original-Envelope-Id: " + envelope_id(BOB).encode() + b"\r\n", b"")
    [report] = parse_report(raw)
    assert report.message_ref == message_ref(envelope_id(BOB))


@pytest.mark.parametrize("name", ["unrelated.eml", "dsn-someone-else.eml"])
def test_mail_that_is_not_a_report_about_herald_gives_nothing(name: str) -> None:
    """A reply from a person, or a bounce of someone else's mail, is no report of Herald's."""
    assert parse_report(fixture(name)) == []


# -- applying reports ------------------------------------------------------------------


async def test_a_report_for_a_send_not_yet_recorded_waits(smtp: SmtpServer) -> None:
    """A report that beats the record of its send is left for the next poll, not applied to a sending row."""
    world = mail_world(smtp)
    await world.send()
    store = world.store
    store.deliveries[ADA] = store.deliveries[ADA].leased("someone", world.clock.now(), world.clock.now())
    reports = DeliveryReports(uow=lambda: MemoryUnitOfWork(world.store), clock=world.clock)
    [report] = parse_report(fixture("dsn-delivered.eml"))
    assert await reports.record(report) is Applied.NOT_YET
    assert store.deliveries[ADA].confirmed_at is None


# -- against Dovecot -------------------------------------------------------------------


@pytest.fixture
async def reporting(smtp: SmtpServer, mailbox: Mailbox) -> tuple[MailWorld, ReportMailbox]:
    base = IMAP_URL.rsplit("/", 1)[0]
    # CI's Dovecot serves plain IMAP on 127.0.0.1, which Herald reads only when told it may.
    env = {
        "HERALD_IMAP_URL": f"{base}/{mailbox.name}",
        "HERALD_IMAP_INSECURE": "on" if base.startswith("imap:") else "off",
        "HERALD_IMAP_PROCESSED": f"{mailbox.name}/Processed",
    }
    world = mail_world(smtp, PLAN, **env)
    settings = load_settings(env, env_file=None)
    assert settings.imap is not None
    reports = DeliveryReports(uow=lambda: MemoryUnitOfWork(world.store), clock=world.clock)
    await world.send()
    return world, ReportMailbox(settings.imap, reports, timeout=10)


@needs_dovecot
async def test_reports_in_the_mailbox_confirm_and_bounce_deliveries(
    reporting: tuple[MailWorld, ReportMailbox], mailbox: Mailbox
) -> None:
    """delivered confirms Ada's mail, failed fails Bob's for good with the reason; delayed is only noted."""
    world, reader = reporting
    await asyncio.to_thread(
        mailbox.append,
        fixture("dsn-delayed.eml"),
        fixture("dsn-delivered.eml"),
        fixture("dsn-failed.eml", BOB),
    )

    outcomes = await reader.poll()

    assert outcomes == {Applied.NOTED: 1, Applied.CONFIRMED: 1, Applied.BOUNCED: 1}
    ada, bob = world.store.deliveries[ADA], world.store.deliveries[BOB]
    assert (ada.status, ada.confirmed_at) == (DeliveryStatus.SENT, world.clock.now())
    assert ada.report is not None
    assert ada.report.startswith("delivered (2.0.0)")
    assert (bob.status, bob.permanent) == (DeliveryStatus.FAILED, True)
    assert bob.error == (
        "bounced: 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    audit = [e.detail for e in world.store.audit if e.action == "delivery_report"]
    assert len(audit) == 3


@needs_dovecot
async def test_a_delay_report_changes_nothing_but_is_noted(
    reporting: tuple[MailWorld, ReportMailbox], mailbox: Mailbox
) -> None:
    """Action delayed: the delivery stays sent and unconfirmed, with the delay noted."""
    world, reader = reporting
    await asyncio.to_thread(mailbox.append, fixture("dsn-delayed.eml"))
    assert await reader.poll() == {Applied.NOTED: 1}
    ada = world.store.deliveries[ADA]
    assert (ada.status, ada.confirmed_at) == (DeliveryStatus.SENT, None)
    assert ada.report is not None
    assert ada.report.startswith("delayed (4.4.1): connect to mx.example.net[203.0.113.5]:25: Connection timed out")


@needs_dovecot
async def test_unrelated_mail_is_left_untouched_and_reports_are_read_once(
    reporting: tuple[MailWorld, ReportMailbox], mailbox: Mailbox
) -> None:
    """A person's reply and another sender's bounce stay unread and unflagged; Herald's report is moved out once."""
    world, reader = reporting
    await asyncio.to_thread(
        mailbox.append, fixture("unrelated.eml"), fixture("dsn-someone-else.eml"), fixture("dsn-delivered.eml")
    )
    await reader.poll()
    assert await reader.poll() == {}  # nothing left to read: the report is moved out, the rest never read again

    assert await asyncio.to_thread(mailbox.flags) == {
        "Re: Acme Cloud 2.4: what changes for you": set(),
        "Undelivered Mail Returned to Sender": set(),
    }
    assert await asyncio.to_thread(lambda: mailbox.flags(processed=True)) == {
        "Successful Mail Delivery Report": {"\\Seen"}
    }
    assert len([e for e in world.store.audit if e.action == "delivery_report"]) == 1


@needs_dovecot
async def test_status_shows_confirmed_bounced_and_acknowledged_per_mailbox(
    reporting: tuple[MailWorld, ReportMailbox], mailbox: Mailbox
) -> None:
    """herald status lists each e-mail recipient: delivered and acknowledged, or bounced."""
    world, reader = reporting
    await asyncio.to_thread(mailbox.append, fixture("dsn-delivered.eml"), fixture("dsn-failed.eml", BOB))
    await reader.poll()
    await world.herald.desk.handle(
        Acknowledge(actor="email:ada@example.com", message_ref="", delivery_key=ADA, source=ReceiptSource.LINK)
    )

    view = await world.herald.desk.status("2.4")
    text = render_status(view)
    assert "email:ada@example.com: delivered (confirmed by the recipient's server) · acknowledged" in text
    assert "email:bob@example.org: bounced (the recipient's server could not deliver it) · not acknowledged" in text
    mailboxes = view.as_json()["groups"][0]["mailboxes"]
    assert [(m["target"], m["delivery"], m["acknowledged"]) for m in mailboxes] == [
        ("email:ada@example.com", "confirmed", True),
        ("email:bob@example.org", "bounced", False),
    ]
    group = view.groups[0]
    assert (group.sent, group.failed, group.expected) == (2, 1, 2)  # a bounced mailbox is no longer expected


def test_the_group_figures_carry_what_the_mail_servers_reported() -> None:
    """The one-line figures (Slack's and Discord's threads, progress) count confirmed and bounced mailboxes."""
    group = GroupStatus(
        id="customers",
        name="Customers",
        ack="required",
        targets=3,
        sent=2,
        failed=1,
        pending=0,
        acknowledged=1,
        expected=2,
        not_acknowledged=("email:bob@example.org",),
        mailboxes=(
            MailboxStatus(target="email:ada@example.com", delivery="confirmed", acknowledged=True),
            MailboxStatus(target="email:bob@example.org", delivery="bounced", acknowledged=False),
            MailboxStatus(target="email:cy@example.net", delivery="sent", acknowledged=False),
        ),
    )
    assert group.figures() == "2/3 sent, 1 failed · 1/2 acknowledged · e-mail 1 confirmed, 1 bounced"
