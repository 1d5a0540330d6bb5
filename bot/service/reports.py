"""Delivery reports: what the recipients' mail servers said about the messages Herald sent.

An adapter reads reports (e-mail DSNs, RFC 3464) and hands each one here, naming the
message by Herald's reference. "delivered" confirms the delivery (the recipient's server
has it); "failed" fails it for good, with the server's reason, even though it had been
sent; "delayed" changes nothing but is noted on the delivery. Every report that applies
is written to the audit log. Reports about messages Herald did not send are not ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.audit import AuditEntry, Outcome
from bot.domain.delivery import DeliveryStatus
from bot.service.ports import Clock, UnitOfWorkFactory


class ReportAction(StrEnum):
    """The per-recipient ``Action`` of RFC 3464, as Herald reads it."""

    DELIVERED = "delivered"
    FAILED = "failed"
    DELAYED = "delayed"
    RELAYED = "relayed"  # passed to a server that sends no reports: nothing more will come
    EXPANDED = "expanded"  # delivered to a list, which sends it on


class Applied(StrEnum):
    """What became of a report."""

    CONFIRMED = "confirmed"
    BOUNCED = "bounced"
    NOTED = "noted"
    NOT_OURS = "not ours"  # no delivery of Herald's has that reference (or that recipient)
    NOT_YET = "not yet"  # the send is not recorded yet; read the report again later


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """One recipient's line of a delivery report."""

    message_ref: str
    recipient: str  # the address the report is about
    action: ReportAction
    status: str = ""  # the enhanced status code, e.g. 5.1.1
    diagnostic: str = ""  # the server's own words, e.g. "smtp; 550 5.1.1 user unknown"
    reporter: str = ""  # the server that wrote the report

    def sentence(self) -> str:
        """The report in a line, for status and the audit log."""
        text = f"{self.action.value}"
        if self.status:
            text += f" ({self.status})"
        if self.diagnostic:
            text += f": {self.diagnostic}"
        if self.reporter:
            text += f", reported by {self.reporter}"
        return text[:500]


class DeliveryReports:
    """Applies delivery reports to the ledger."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, report: DeliveryReport) -> Applied:
        """Apply one report; say what became of it. Applying the same report again changes nothing."""
        now = self._clock.now()
        async with self._uow() as uow:
            delivery = await uow.deliveries.by_message_ref(report.message_ref)
            address = delivery.target.split(":", 1)[1].lower() if delivery is not None else ""
            if delivery is None or address != report.recipient.lower():
                return Applied.NOT_OURS
            if not delivery.status.settled:
                return Applied.NOT_YET
            sentence = report.sentence()
            if delivery.report == sentence:  # this report was applied already (read twice)
                return Applied.NOTED
            if report.action in (ReportAction.DELIVERED, ReportAction.EXPANDED):
                if delivery.status is DeliveryStatus.FAILED:  # a failure already reported wins
                    return Applied.NOTED
                updated, applied = delivery.confirmed(sentence, now), Applied.CONFIRMED
            elif report.action is ReportAction.FAILED:
                reason = f"bounced: {report.diagnostic or report.status or 'the recipient server refused it'}"
                updated, applied = delivery.bounced(reason[:300], sentence, now), Applied.BOUNCED
            else:
                updated, applied = delivery.noted(sentence, now), Applied.NOTED
            await uow.deliveries.update(updated)
            await uow.audit.append(
                AuditEntry(
                    at=now,
                    actor=f"mail:{report.reporter or 'unknown'}",
                    action="delivery_report",
                    version=delivery.version,
                    outcome=Outcome.DONE,
                    detail=f"{delivery.target}: {sentence}",
                )
            )
            await uow.commit()
        return applied
