"""What comes back to Herald's mail, end to end: sent through aiosmtpd, read back from Dovecot.

Each incoming mail is a real sample (``samples/``), readdressed to the mail Herald sent:
a qmail bounce that names no envelope id and no Message-ID, the RFC 8098 read receipt,
an RFC 3834 vacation reply. Herald signs each mail's return path (VERP), so the bounce
still finds its delivery, and a forged return path changes nothing.
"""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from adapters.email.inbound.matching import ReportReader
from adapters.email.inbound.reading import read_mail
from adapters.email.mailbox import ReportMailbox
from adapters.email.runtime import mail_refs
from adapters.shell.render import render_status
from bot.app.settings import load_settings
from bot.domain.delivery import DeliveryStatus
from bot.service.reports import Applied, DeliveryReports
from storage.memory import MemoryUnitOfWork
from tests.adapters.email.conftest import IMAP_URL, Mailbox, MailWorld, mail_world, needs_dovecot
from tests.servers.smtp import SmtpServer

SAMPLES = Path(__file__).parent / "samples"
ADA = "2.4|customers|email:ada@example.com"
BOB = "2.4|customers|email:bob@example.org"
VERP = {"HERALD_BOUNCE_ADDRESS": "bounces@acme.test", "HERALD_BOUNCE_SECRET": "r" * 40}


def return_path(world: MailWorld, address: str) -> str:
    """The envelope sender Herald gave its mail to ``address``."""
    [received] = [r for r in world.smtp.received if address in r.rcpt_tos]
    return received.mail_from


def message_id(world: MailWorld, address: str) -> str:
    """The Message-ID of Herald's mail to ``address``."""
    [received] = [r for r in world.smtp.received if address in r.rcpt_tos]
    return str(received.message["Message-ID"])


def qmail_bounce(to: str, failed: str) -> bytes:
    """flufl.bounce's qmail_01 sample, delivered to ``to``, about ``failed``: no ENVID, no Message-ID of Herald's."""
    raw = (SAMPLES / "flufl-bounce" / "qmail_01.txt").read_bytes()
    raw = raw.replace(b"To: psa-members-admin@python.org", f"Delivered-To: {to}\nTo: {to}".encode())
    return raw.replace(b"userx@example.de", failed.encode())


def read_receipt(to: str, reader: str, original: str) -> bytes:
    """RFC 8098's example MDN (as MimeKit ships it), from ``reader`` about the mail ``original``."""
    raw = (SAMPLES / "mimekit" / "disposition-notification.txt").read_bytes()
    raw = raw.replace(b"Joe_Recipient@example.com", reader.encode()).replace(
        b"To: Jane Sender <Jane_Sender@example.org>", f"To: {to}".encode()
    )
    return raw.replace(b"<199509192301.23456@example.org>", original.encode())


def vacation_reply(to: str, sender: str, original: str) -> bytes:
    """Sisimai's rfc3834-01 vacation reply (Auto-Submitted: auto-replied), from ``sender`` to ``to``."""
    raw = (SAMPLES / "sisimai" / "rfc3834-01.eml").read_bytes()
    raw = raw.replace(b"To: neko@libsisimai.org", f"To: {to}\nIn-Reply-To: {original}".encode())
    return raw.replace(b"From: kijitora@example.net", f"From: {sender}".encode())


Apply = Callable[..., Awaitable[list[Applied]]]


@pytest.fixture
async def verp_world(smtp: SmtpServer) -> MailWorld:
    world = mail_world(smtp, **VERP)
    await world.send()
    return world


@pytest.fixture
def apply(verp_world: MailWorld) -> Apply:
    """Reads mails as the report mailbox does and applies them (no IMAP in between)."""
    reader = ReportReader(mail_refs(verp_world.settings))
    reports = DeliveryReports(uow=lambda: MemoryUnitOfWork(verp_world.store), clock=verp_world.clock)

    async def run(*mails: bytes) -> list[Applied]:
        return [await reports.record(r) for raw in mails for r in reader.reports(read_mail(raw)).reports]

    return run


# -- without IMAP ----------------------------------------------------------------------


async def test_each_mail_goes_out_with_its_own_signed_return_path(verp_world: MailWorld) -> None:
    """MAIL FROM is bounces+<ref>@acme.test, a different one per mail; From stays Herald's address."""
    ada, bob = return_path(verp_world, "ada@example.com"), return_path(verp_world, "bob@example.org")
    assert ada != bob
    assert all(p.startswith("bounces+") and p.endswith("@acme.test") for p in (ada, bob))
    [received] = [r for r in verp_world.smtp.received if "ada@example.com" in r.rcpt_tos]
    assert received.message["From"] == "Herald <herald@acme.test>"


async def test_a_bounce_that_names_no_mail_finds_it_by_its_return_path(verp_world: MailWorld, apply: Apply) -> None:
    """qmail's notice gives no ENVID and no Message-ID: the return path says it was Bob's mail, which bounces."""
    assert await apply(qmail_bounce(return_path(verp_world, "bob@example.org"), "bob@example.org")) == [Applied.BOUNCED]
    bob = verp_world.store.deliveries[BOB]
    assert (bob.status, bob.permanent) == (DeliveryStatus.FAILED, True)
    assert verp_world.store.deliveries[ADA].status is DeliveryStatus.SENT


async def test_a_bounce_that_names_no_address_still_bounces_its_mail(verp_world: MailWorld, apply: Apply) -> None:
    """A mailer daemon's notice naming nobody, sent to Ada's return path, fails Ada's mail."""
    raw = (SAMPLES / "flufl-bounce" / "bounce_01.txt").read_bytes()
    raw = raw.replace(b"To: python-list-admin@python.org", f"To: {return_path(verp_world, 'ada@example.com')}".encode())
    assert await apply(raw) == [Applied.BOUNCED]
    assert verp_world.store.deliveries[ADA].status is DeliveryStatus.FAILED


async def test_a_forged_return_path_changes_nothing(verp_world: MailWorld, apply: Apply) -> None:
    """A bounce to bounces+<a ref whose MAC does not verify> is not ours, even naming Bob and his Message-ID."""
    real = return_path(verp_world, "bob@example.org")
    forged = real.replace(real[12], "a" if real[12] != "a" else "b", 1)
    raw = qmail_bounce(forged, "bob@example.org").replace(
        b"Message removed", f"Message-ID: {message_id(verp_world, 'bob@example.org')}".encode()
    )
    assert (
        ReportReader(mail_refs(verp_world.settings))
        .reports(read_mail(raw))
        .why.endswith("does not carry Herald's signature (forged or altered)")
    )
    assert await apply(raw) == []
    assert verp_world.store.deliveries[BOB].status is DeliveryStatus.SENT


async def test_a_read_receipt_marks_the_mail_read_not_acknowledged(verp_world: MailWorld, apply: Apply) -> None:
    """An MDN "displayed" from Ada shows her mail read; she still has not acknowledged, and reminders still go."""
    mdn = read_receipt(
        return_path(verp_world, "ada@example.com"), "ada@example.com", message_id(verp_world, "ada@example.com")
    )
    assert await apply(mdn) == [Applied.READ]
    assert await apply(mdn) == [Applied.NOTED]  # the same receipt twice counts once

    view = await verp_world.herald.desk.status("2.4")
    [ada, bob] = view.groups[0].mailboxes
    assert (ada.read, ada.acknowledged, bob.read) == (True, False, False)
    assert "email:ada@example.com: sent (no report from the recipient's server yet) · read · not acknowledged" in (
        render_status(view)
    )
    assert view.groups[0].acknowledged == 0
    assert "1 read" in view.groups[0].figures()


async def test_a_read_receipt_without_a_return_path_is_matched_by_its_message_id(smtp: SmtpServer) -> None:
    """With no bounce address, the MDN's Original-Message-ID and Final-Recipient name Ada's mail."""
    world = mail_world(smtp)
    await world.send()
    reports = DeliveryReports(uow=lambda: MemoryUnitOfWork(world.store), clock=world.clock)
    mdn = read_receipt("herald@acme.test", "ada@example.com", message_id(world, "ada@example.com"))
    [report] = ReportReader(mail_refs(world.settings)).reports(read_mail(mdn)).reports
    assert await reports.record(report) is Applied.READ
    someone_else = read_receipt("herald@acme.test", "eve@example.net", message_id(world, "ada@example.com"))
    [report] = ReportReader(mail_refs(world.settings)).reports(read_mail(someone_else)).reports
    assert await reports.record(report) is Applied.NOT_OURS


async def test_an_out_of_office_reply_changes_no_count(verp_world: MailWorld, apply: Apply) -> None:
    """A vacation reply from Ada is noted on her mailbox; sent, failed and acknowledged stay as they were."""
    before = (await verp_world.herald.desk.status("2.4")).groups[0]
    reply = vacation_reply(
        return_path(verp_world, "ada@example.com"), "ada@example.com", message_id(verp_world, "ada@example.com")
    )
    assert await apply(reply) == [Applied.AUTO_REPLY]

    after = (await verp_world.herald.desk.status("2.4")).groups[0]
    assert (after.sent, after.failed, after.acknowledged, after.not_acknowledged) == (
        before.sent,
        before.failed,
        before.acknowledged,
        before.not_acknowledged,
    )
    assert after.mailboxes[0].auto_reply == "Away until May 5"
    assert after.figures().endswith("· e-mail 1 auto-reply")


# -- against Dovecot -------------------------------------------------------------------


@pytest.fixture
def report_mailbox(verp_world: MailWorld, mailbox: Mailbox) -> ReportMailbox:
    base = IMAP_URL.rsplit("/", 1)[0]
    env = {
        **VERP,
        "HERALD_IMAP_URL": f"{base}/{mailbox.name}",
        "HERALD_IMAP_INSECURE": "on" if base.startswith("imap:") else "off",
        "HERALD_IMAP_PROCESSED": f"{mailbox.name}/Processed",
    }
    settings = load_settings(env, env_file=None)
    assert settings.imap is not None
    reports = DeliveryReports(uow=lambda: MemoryUnitOfWork(verp_world.store), clock=verp_world.clock)
    return ReportMailbox(settings.imap, reports, ReportReader(mail_refs(settings)), timeout=10)


@needs_dovecot
async def test_a_bounce_in_the_mailbox_fails_its_delivery_and_a_forgery_stays_put(
    verp_world: MailWorld, report_mailbox: ReportMailbox, mailbox: Mailbox
) -> None:
    """Through Dovecot: the VERP bounce fails Bob's mail and is moved to Processed; the forged one stays unread."""
    real = return_path(verp_world, "bob@example.org")
    forged = real.replace(real[12], "a" if real[12] != "a" else "b", 1)
    bounce = qmail_bounce(real, "bob@example.org")
    fake = qmail_bounce(forged, "bob@example.org").replace(b"Subject: failure notice", b"Subject: forged notice")
    await asyncio.to_thread(mailbox.append, bounce, fake)

    assert await report_mailbox.poll() == {Applied.BOUNCED: 1}
    assert await report_mailbox.poll() == {}  # the forgery is not read again, the bounce is gone

    assert verp_world.store.deliveries[BOB].status is DeliveryStatus.FAILED
    assert await asyncio.to_thread(mailbox.flags) == {"forged notice": set()}
    assert await asyncio.to_thread(lambda: mailbox.flags(processed=True)) == {"failure notice": {"\\Seen"}}


@needs_dovecot
async def test_receipts_and_replies_in_the_mailbox_reach_status_and_broken_mail_stops_nothing(
    verp_world: MailWorld, report_mailbox: ReportMailbox, mailbox: Mailbox
) -> None:
    """Through Dovecot: a read receipt and an out-of-office reply are applied around a mail too broken to read."""
    ada_path, ada_id = return_path(verp_world, "ada@example.com"), message_id(verp_world, "ada@example.com")
    broken = b"Subject: broken\r\nContent-Type: multipart/report; boundary=\r\n\r\n\xff\xfe--\r\n--\x00\r\n"
    await asyncio.to_thread(
        mailbox.append,
        read_receipt(ada_path, "ada@example.com", ada_id),
        broken,
        vacation_reply(ada_path, "ada@example.com", ada_id),
    )

    assert await report_mailbox.poll() == {Applied.READ: 1, Applied.AUTO_REPLY: 1}
    assert await report_mailbox.poll() == {}

    [ada, _bob] = (await verp_world.herald.desk.status("2.4")).groups[0].mailboxes
    assert (ada.read, ada.acknowledged, ada.auto_reply) == (True, False, "Away until May 5")
    assert set(await asyncio.to_thread(mailbox.flags)) == {"broken"}


@needs_dovecot
async def test_a_server_that_cannot_move_mail_gets_it_marked_read_and_never_applied_twice(
    verp_world: MailWorld, report_mailbox: ReportMailbox, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without MOVE or UIDPLUS the applied bounce stays in the mailbox, marked \\Seen, and the next poll skips it."""
    real = imaplib.IMAP4.capability

    def without_move(client: imaplib.IMAP4) -> tuple[str, list[bytes]]:
        status, data = real(client)
        kept = [w for w in data[0].split() if w.upper() not in (b"MOVE", b"UIDPLUS")]
        return status, [b" ".join(kept)]

    monkeypatch.setattr(imaplib.IMAP4, "capability", without_move)
    bounce = qmail_bounce(return_path(verp_world, "bob@example.org"), "bob@example.org")
    await asyncio.to_thread(mailbox.append, bounce)

    assert await report_mailbox.poll() == {Applied.BOUNCED: 1}
    assert await report_mailbox.poll() == {}
    assert await asyncio.to_thread(mailbox.flags) == {"failure notice": {"\\Seen"}}
    assert len([e for e in verp_world.store.audit if e.action == "delivery_report"]) == 1
