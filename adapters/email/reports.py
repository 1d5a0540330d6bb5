"""Reading delivery status notifications (RFC 3464 ``multipart/report``) the way MTAs write them.

A report names the message by its envelope id (``Original-Envelope-Id``, which Herald
set to the delivery's id with ``ENVID``) or, failing that, by the Message-ID in the
returned headers. Anything that is not a delivery report, or that names no message of
Herald's, gives no report at all.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import Message

from adapters.email.message import message_ref
from bot.service.reports import DeliveryReport, ReportAction

_ENVID = re.compile(r"^[0-9a-f]{32}\Z")
_MESSAGE_ID = re.compile(r"<([0-9a-fA-F]{32})@[^>]+>")


def _typed(value: str | None) -> str:
    """``rfc822; ada@example.com`` -> ``ada@example.com`` (the type before the semicolon dropped)."""
    text = " ".join(str(value or "").split())
    return text.split(";", 1)[1].strip() if ";" in text else text


def _xtext(value: str) -> str:
    """Decode RFC 3461 xtext (``+2B`` is ``+``)."""
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)


def _returned_message_id(report: Message) -> str | None:
    for part in report.walk():
        if part.get_content_type() in ("text/rfc822-headers", "message/rfc822"):
            payload = part.get_payload()
            text = str(payload[0] if isinstance(payload, list) and payload else payload)
            found = _MESSAGE_ID.search(text)
            if found:
                return found.group(1).lower()
    return None


def parse_report(raw: bytes) -> list[DeliveryReport]:
    """The per-recipient reports in one mail; empty when it is not a delivery report about Herald's mail."""
    mail = email.message_from_bytes(raw, policy=email.policy.compat32)
    if mail.get_content_type() != "multipart/report" or mail.get_param("report-type") != "delivery-status":
        return []
    status = next((p for p in mail.walk() if p.get_content_type() == "message/delivery-status"), None)
    if status is None:
        return []
    payload = status.get_payload()
    blocks = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    if not blocks:
        return []
    per_message, recipients = blocks[0], blocks[1:]
    envid = _xtext(_typed(per_message.get("Original-Envelope-Id"))).lower()
    if not _ENVID.match(envid):
        envid = _returned_message_id(mail) or ""
    if not _ENVID.match(envid):
        return []
    reporter = _typed(per_message.get("Reporting-MTA"))
    reports: list[DeliveryReport] = []
    for block in recipients:
        action_text = str(block.get("Action", "")).strip().lower()
        try:
            action = ReportAction(action_text)
        except ValueError:
            continue
        recipient = _typed(block.get("Final-Recipient") or block.get("Original-Recipient"))
        if not recipient:
            continue
        reports.append(
            DeliveryReport(
                message_ref=message_ref(envid),
                recipient=recipient,
                action=action,
                status=" ".join(str(block.get("Status", "")).split()),
                diagnostic=_typed(block.get("Diagnostic-Code")),
                reporter=reporter,
            )
        )
    return reports
