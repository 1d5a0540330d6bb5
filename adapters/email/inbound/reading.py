"""One incoming mail, read: what it is and what it says, before anything is matched or changed.

The readers are tried from the most exact to the most guessed: a read receipt, an RFC
3464 report, a bounce in another format, an auto-reply. A mail none of them understands
is "other". Reading never raises: a mail too broken to parse is "other" with the reason
as its sign.
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import replace
from email.message import Message

from adapters.email.inbound.autoreply import auto_reply_sign
from adapters.email.inbound.bounces import looks_like_bounce, read_bounce
from adapters.email.inbound.dsn import read_dsn
from adapters.email.inbound.mdn import read_mdn
from adapters.email.inbound.model import MailKind, MailReading, RecipientLine
from adapters.email.inbound.parts import MESSAGE_ID, address_in, header, message_ids
from adapters.email.refs import delivered_to
from bot.service.reports import ReportAction

log = logging.getLogger(__name__)


def _returned_ids(mail: Message) -> list[str]:
    """The Message-ID (and In-Reply-To) of the original a bounce returns, in full or as headers only."""
    ids: list[str] = []
    for part in mail.walk():
        if part.get_content_type() not in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            for inner in payload:
                if isinstance(inner, Message):
                    ids += message_ids(header(inner, "Message-ID"))
        else:
            text = part.get_payload(decode=True)
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(payload)
            for line in text.splitlines():
                if line.lower().startswith("message-id:"):
                    ids += [m.group(1).lower() for m in MESSAGE_ID.finditer(line)]
    return ids


def _read(mail: Message) -> MailReading:
    reading = _kind(mail)
    return replace(reading, delivered_to=tuple(delivered_to(mail.items())), subject=header(mail, "Subject")[:200])


def _kind(mail: Message) -> MailReading:
    replied_to = message_ids(header(mail, "In-Reply-To"), header(mail, "References"))
    mdn = read_mdn(mail)
    if mdn is not None:
        line, reporter, ids = mdn
        rejected = line.action is ReportAction.FAILED
        return MailReading(
            kind=MailKind.BOUNCE if rejected else MailKind.MDN,
            recipients=(line,),
            reporter=reporter,
            sign="a rejection (an MDN: deleted automatically)" if rejected else "message/disposition-notification",
            message_ids=tuple(ids),
        )
    dsn = read_dsn(mail)
    if dsn is not None and dsn[0]:
        lines, reporter, envid = dsn
        ids = ([envid] if envid else []) + _returned_ids(mail)
        return MailReading(
            kind=MailKind.DSN,
            recipients=tuple(lines),
            reporter=reporter,
            sign="message/delivery-status",
            message_ids=tuple(ids),
        )
    bounced = read_bounce(mail)
    if bounced or looks_like_bounce(mail):
        return MailReading(
            kind=MailKind.BOUNCE,
            recipients=tuple(bounced),
            reporter=address_in(header(mail, "From")) or "",
            sign="a non-delivery notice" if bounced else "a mailer daemon's notice that names no address",
            message_ids=tuple(_returned_ids(mail) + replied_to),
        )
    sign = auto_reply_sign(mail)
    if sign is not None:
        sender = address_in(header(mail, "From")) or ""
        line = RecipientLine(address=sender, action=ReportAction.AUTO_REPLIED, diagnostic=header(mail, "Subject")[:200])
        return MailReading(
            kind=MailKind.AUTO_REPLY,
            recipients=(line,),
            reporter=sender,
            sign=sign,
            message_ids=tuple(replied_to),
        )
    return MailReading(kind=MailKind.OTHER, message_ids=tuple(replied_to))


def read_mail(raw: bytes) -> MailReading:
    """What ``raw`` (one whole RFC 5322 message) is and what it says."""
    try:
        mail = email.message_from_bytes(raw, policy=email.policy.compat32)
        return _read(mail)
    except Exception as error:  # the outside world's mail may break any parser; one bad mail stops nothing
        log.debug("could not read a mail", exc_info=True)
        return MailReading(kind=MailKind.OTHER, sign=f"unreadable: {type(error).__name__}: {error}"[:200])
