"""RFC 3464 delivery status notifications, read the way MTAs really write them.

Tolerant where real reports differ from the RFC: the report may be wrapped in
``multipart/mixed`` or carry no ``report-type``; types and field names come in any case;
the status part may be quoted-printable; ``Action`` says ``Failed``, ``failure``,
``failed (bad destination mailbox address)`` or ``error``; recipients come with or
without ``rfc822;`` and angle brackets, or as X.400 names beside an RFC 822
``Original-Recipient``. Whether a failure may pass is decided by the status class
(4.x.x or 5.x.x), not by the word.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from email.message import Message
from email.parser import HeaderParser

from adapters.email.inbound.model import RecipientLine
from adapters.email.inbound.parts import address_in, header, status_code, typed
from bot.service.reports import ReportAction

STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_WORDS = {
    "failed": ReportAction.FAILED,
    "failure": ReportAction.FAILED,
    "fail": ReportAction.FAILED,
    "error": ReportAction.FAILED,
    "undeliverable": ReportAction.FAILED,
    "bounced": ReportAction.FAILED,
    "delayed": ReportAction.DELAYED,
    "delay": ReportAction.DELAYED,
    "deferred": ReportAction.DELAYED,
    "expired": ReportAction.FAILED,  # the server gave up retrying: 4.4.7, delivery time expired
    "delivered": ReportAction.DELIVERED,
    "relayed": ReportAction.RELAYED,
    "expanded": ReportAction.EXPANDED,
}
_BY_CLASS = {"2": ReportAction.DELIVERED, "4": ReportAction.DELAYED, "5": ReportAction.FAILED}


def status_part(mail: Message) -> Message | None:
    """The report's machine-readable part, wherever it is nested."""
    return next((part for part in mail.walk() if part.get_content_type() in STATUS_TYPES), None)


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a status part, its transfer encoding undone first."""
    payload = part.get_payload()
    if isinstance(payload, list):
        text = "\n".join(block.as_string() if isinstance(block, Message) else str(block) for block in payload)
    else:
        text = str(payload)
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "quoted-printable":
        text = quopri.decodestring(text.encode("latin-1", errors="replace")).decode("utf-8", errors="replace")
    elif encoding == "base64":
        try:
            text = base64.b64decode("".join(text.split())).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return []
    parser = HeaderParser()
    return [parser.parsestr(block.strip() + "\n") for block in _BLANK_LINE.split(text) if block.strip()]


def envelope_id(fields: Message) -> str:
    """``Original-Envelope-Id`` of the per-message fields, RFC 3461 xtext undone, lower-cased."""
    value = typed(header(fields, "Original-Envelope-Id"))
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value).strip("<>").lower()


def _action(word_text: str, status: str) -> ReportAction | None:
    word = re.split(r"[^a-z]", word_text.strip().lower(), maxsplit=1)[0]
    action = _WORDS.get(word)
    if status[:1] == "5" and action in (ReportAction.DELAYED, None):
        return ReportAction.FAILED  # a permanent status is a failure whatever the word
    if action is None:
        return _BY_CLASS.get(status[:1])
    return action


def _recipient(block: Message) -> str | None:
    """The address Herald sent to: ``Original-Recipient`` when it is an RFC 822 one, else ``Final-Recipient``."""
    for name in ("Original-Recipient", "Final-Recipient", "X-Actual-Recipient"):
        value = header(block, name)
        kind = value.split(";", 1)[0].strip().lower() if ";" in value else "rfc822"
        if value and kind in ("rfc822", "utf-8") and (address := address_in(value)) is not None:
            return address
    return None


def read_dsn(mail: Message) -> tuple[list[RecipientLine], str, str] | None:
    """Per recipient what the report says, the reporting MTA and the envelope id; None if it is no DSN."""
    part = status_part(mail)
    if part is None:
        return None
    blocks = _blocks(part)
    if not blocks:
        return None
    per_message, recipients = blocks[0], blocks[1:]
    if header(per_message, "Action") or header(per_message, "Final-Recipient"):
        recipients = blocks  # some MTAs leave out the per-message fields
    lines: list[RecipientLine] = []
    for block in recipients:
        address = _recipient(block)
        if address is None:
            continue
        diagnostic = typed(header(block, "Diagnostic-Code"))
        status = status_code(header(block, "Status"), diagnostic)
        word = header(block, "Action")
        if not status and word.strip().lower().startswith("expired"):
            status = "4.4.7"  # RFC 3463: delivery time expired
        action = _action(word, status)
        if action is None:
            continue
        line = RecipientLine(address=address, action=action, status=status, diagnostic=diagnostic[:500])
        if line not in lines:
            lines.append(line)
    return lines, typed(header(per_message, "Reporting-MTA")), envelope_id(per_message)
