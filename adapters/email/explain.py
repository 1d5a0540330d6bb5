"""``herald mail explain``: what Herald makes of one mail, and which delivery it would change.

Read-only: the ledger is looked in, never written, so a mail can be explained before it
is dropped into the report mailbox, or after, to see why it changed nothing.
"""

from __future__ import annotations

from typing import Any

from adapters.email.inbound.matching import ReportReader
from adapters.email.inbound.reading import read_mail
from bot.service.reports import DeliveryReports


async def explain(
    raw: bytes, reader: ReportReader, reports: DeliveryReports | None, *, no_ledger: str = ""
) -> dict[str, Any]:
    """One JSON-ready object: the mail's kind; per recipient what it says, and which delivery it matches or why not.

    ``reports`` is None when there is no ledger to look in; ``no_ledger`` says why.
    """
    reading = read_mail(raw)
    found = reader.reports(reading)
    recipients: list[dict[str, Any]] = []
    for report in found.reports:
        delivery: str | None = None
        if reports is None:
            why = f"the ledger could not be read: {no_ledger}" if no_ledger else "no ledger to look in"
        else:
            match = await reports.match(report)
            delivery = match.delivery.key if match.delivery is not None and match.refused is None else None
            why = match.why
        recipients.append(
            _entry(report.recipient, report.action.value, report.status, report.diagnostic, delivery, why)
        )
    if not found.reports:
        recipients = [
            _entry(line.address, line.action.value, line.status, line.diagnostic, None, found.why)
            for line in reading.recipients
        ]
    return {
        "kind": reading.kind.value,
        "sign": reading.sign,
        "subject": reading.subject,
        "reporter": reading.reporter,
        "recipients": recipients,
        "why": found.why,
    }


def _entry(address: str, action: str, status: str, diagnostic: str, delivery: str | None, why: str) -> dict[str, Any]:
    return {
        "address": address or None,
        "action": action,
        "status": status,
        "temporary": status.startswith("4"),
        "diagnostic": diagnostic,
        "delivery": delivery,
        "why": why,
    }


def render_explanation(found: dict[str, Any]) -> str:
    """The explanation for a person, a few lines."""
    lines = [f"{found['kind']}" + (f" ({found['sign']})" if found["sign"] else "") + f": {found['subject']!r}"]
    if found["reporter"]:
        lines.append(f"  written by {found['reporter']}")
    for entry in found["recipients"]:
        said = entry["action"] + (f" {entry['status']}" if entry["status"] else "")
        if entry["action"] == "failed":
            said += " (temporary: a retry may get through)" if entry["temporary"] else " (permanent)"
        lines.append(f"  {entry['address'] or '(no address given)'}: {said}")
        if entry["diagnostic"]:
            lines.append(f"    said: {entry['diagnostic'][:200]}")
        lines.append(
            f"    delivery: {entry['delivery']}" if entry["delivery"] else f"    no delivery changes: {entry['why']}"
        )
    if not found["recipients"]:
        lines.append(f"  nothing to apply: {found['why']}")
    return "\n".join(lines)
