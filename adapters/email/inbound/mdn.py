"""RFC 8098 message disposition notifications: what a reader's mail client says it did with a mail.

``Disposition: manual-action/MDN-sent-manually; displayed`` means the mail was shown to
its reader: that is a read receipt. ``deleted`` (and RFC 3798's ``dispatched``,
``processed``, ``denied``, ``failed``) are recorded and count for nothing, with one
exception: ``automatic-action/MDN-sent-automatically; deleted`` is how a server rejects a
mail it will not deliver (Sieve ``reject``, RFC 5429; Dovecot over quota), so it is a
bounce. The mail is named by ``Original-Message-ID``; the reader by ``Original-Recipient``
or ``Final-Recipient``.
"""

from __future__ import annotations

import re
from email.message import Message

from adapters.email.inbound.model import RecipientLine
from adapters.email.inbound.parts import address_in, header, message_ids, notice_text, status_code, typed
from bot.service.reports import ReportAction

MDN_TYPES = ("message/disposition-notification", "message/global-disposition-notification")
_DISPOSITIONS = {
    "displayed": ReportAction.DISPLAYED,
    "deleted": ReportAction.DELETED,
    "dispatched": ReportAction.DISPATCHED,
    "processed": ReportAction.PROCESSED,
    "denied": ReportAction.DENIED,
    "failed": ReportAction.DENIED,
}


def _fields(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list):
        return next((block for block in payload if isinstance(block, Message)), None)
    return None


def read_mdn(mail: Message) -> tuple[RecipientLine, str, list[str]] | None:
    """The disposition, the reporting client and the ids of the mail it is about; None if it is no MDN."""
    part = next((p for p in mail.walk() if p.get_content_type() in MDN_TYPES), None)
    fields = _fields(part) if part is not None else None
    if fields is None:
        return None
    disposition = header(fields, "Disposition")
    _mode, semicolon, said = disposition.partition(";")
    kind = re.split(r"[^a-z-]", said.lower().strip(), maxsplit=1)[0] if semicolon else ""
    action = _DISPOSITIONS.get(kind)
    if action is None:
        return None
    address = next(
        (
            found
            for name in ("Original-Recipient", "Final-Recipient")
            if (found := address_in(header(fields, name))) is not None
        ),
        "",
    )
    ids = message_ids(header(fields, "Original-Message-ID"), header(mail, "In-Reply-To"), header(mail, "References"))
    reporter = typed(header(fields, "Reporting-UA"))
    if action is ReportAction.DELETED and disposition.lower().startswith("automatic-action"):
        said = " ".join(notice_text(mail).split())[:300]
        line = RecipientLine(
            address=address, action=ReportAction.FAILED, status=status_code(said) or "5.0.0", diagnostic=said
        )
        return line, reporter, ids
    return RecipientLine(address=address, action=action, diagnostic=disposition[:300]), reporter, ids
