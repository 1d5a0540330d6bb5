"""Building the e-mail for one delivery: headers that cannot be injected, text and HTML parts.

Every header value is checked for line breaks before it is set: the plan's checks refuse
such subjects and addresses already, and this is the last line of defence, so a bad
value fails the delivery instead of adding a header.
"""

from __future__ import annotations

import html
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from adapters.email.content import html_document, html_fragment, plain_text
from bot.domain.delivery import Purpose
from bot.domain.destinations import Target
from bot.domain.errors import PermanentDeliveryError
from bot.service.ports import OutgoingMessage

REF_PREFIX = "mail:"
CORRECTION_PREFIX = "Correction: "
RETRACTION_PREFIX = "Retracted: "


def message_ref(envid: str) -> str:
    """The message reference Herald records for a mail (``mail:`` + its envelope id)."""
    return REF_PREFIX + envid


def recipient(target: Target) -> str:
    """The address of an ``email:ADDR`` target."""
    return target.id


def subject_line(message: OutgoingMessage) -> str:
    """The subject: the group's, marked for reminders, escalations, corrections and retractions."""
    subject = message.subject or f"{message.product} {message.version}"
    if message.purpose is Purpose.REMINDER:
        return f"Reminder: {subject}"
    if message.purpose is Purpose.ESCALATION:
        return f"Not yet acknowledged: {subject}"
    if message.purpose is Purpose.CORRECTION and not subject.startswith(CORRECTION_PREFIX):
        return CORRECTION_PREFIX + subject  # the engine's follow-up is marked already; a bare subject is not
    if message.purpose is Purpose.RETRACTION and not subject.startswith((RETRACTION_PREFIX, "Rescheduled")):
        return RETRACTION_PREFIX + subject
    return subject


def _from_header(message: OutgoingMessage, sender: Address) -> Address | str:
    """The From header: the group's own sender when the plan names one, else Herald's configured one."""
    own = message.sender.email_from if message.sender is not None else None
    return sender if own is None else _one_line("group's sender", own)


def _message_id(envid: str, sender: Address) -> str:
    return f"<{envid}@{_one_line('sender domain', sender.domain)}>"


def _one_line(name: str, value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise PermanentDeliveryError(f"e-mail: the {name} holds a line break; refusing to send a forged header")
    return value


def build_message(
    message: OutgoingMessage,
    *,
    sender: Address,
    now: datetime,
    envid: str,
    ack_url: str | None = None,
    read_receipt: bool = False,
    return_path: str | None = None,
    replies_to: str | None = None,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """The whole e-mail: From, To, Subject, Message-ID, a text part and an HTML part.

    ``envid`` names it (the Message-ID's left part); read receipts are asked for at the
    ``return_path`` when there is one (mail clients ask their reader less often when
    the receipt goes where bounces go, RFC 8098 section 2.1), else at the sender. The From
    is the group's own sender when the plan names one; the Message-ID's domain and the
    read receipts stay with ``sender``, Herald's mailbox, as does the envelope (the caller's).
    ``replies_to`` is the envelope id of an earlier mail this one follows up (a correction):
    named in In-Reply-To and References, so mail clients show the two together.
    ``unsubscribe_url`` (a mail reached through a subscription) is its way out: in the footer, and in
    ``List-Unsubscribe`` with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), which mail
    clients show as an Unsubscribe button that POSTs to it.

    Raises:
        PermanentDeliveryError: a header value holds a line break.
    """
    to = _one_line("address", recipient(message.to))
    subject = _one_line("subject", subject_line(message))
    mail = EmailMessage(policy=SMTP)
    mail["From"] = _from_header(message, sender)
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = _message_id(envid, sender)
    if replies_to is not None:
        mail["In-Reply-To"] = mail["References"] = _message_id(replies_to, sender)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a bot
    mail["X-Herald-Release"] = _one_line("version", f"{message.product} {message.version}")
    if unsubscribe_url is not None:
        mail["List-Unsubscribe"] = f"<{_one_line('unsubscribe link', unsubscribe_url)}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if read_receipt:
        # RFC 8098; clients may ask the reader first
        mail["Disposition-Notification-To"] = _one_line("return path", return_path) if return_path else str(sender)
    text = plain_text(message.text)
    fragment = html_fragment(message.text)
    footer_text = f"\n\n— {message.group_name} · {message.product} {message.version}, sent by Herald"
    footer_html = (
        f'<p style="color:#666;font-size:small">{html.escape(message.group_name)} · '
        f"{html.escape(message.product)} {html.escape(message.version)}, sent by Herald</p>"
    )
    if unsubscribe_url is not None:
        footer_text += f"\nYou get this because you subscribed. To stop: {unsubscribe_url}"
        footer_html += (
            f'<p style="color:#666;font-size:small">You get this because you subscribed. '
            f'<a href="{html.escape(unsubscribe_url, quote=True)}">Unsubscribe</a></p>'
        )
    if ack_url is not None:
        footer_text = f"\n\nPlease acknowledge that you have read this: {ack_url}" + footer_text
        footer_html = (
            f'<p><a href="{html.escape(ack_url, quote=True)}" style="display:inline-block;padding:8px 16px;'
            'background:#1a7f37;color:#fff;text-decoration:none;border-radius:4px">Acknowledge</a></p>' + footer_html
        )
    mail.set_content(text + footer_text)
    mail.add_alternative(html_document(subject, fragment, footer_html), subtype="html")
    return mail
