"""Delivery reports: what the recipients' mail servers said about the messages Herald sent.

An adapter reads what comes back (e-mail DSNs and other bounces, read receipts,
auto-replies) and hands each recipient's line here, naming the message by Herald's
reference. "delivered" confirms the delivery (the recipient's server has it); "failed"
fails it, with the server's reason, even though it had been sent (for good on a 5.x.x
status; a 4.x.x one leaves a person's retry worth trying); "displayed" marks it read;
an auto-reply is noted apart; everything else (a delay, a deletion) changes nothing but is
noted on the delivery. None of them is an acknowledgement. Every report that applies is
written to the audit log. Reports about messages Herald did not send are not ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.audit import AuditEntry, Outcome
from bot.domain.delivery import Delivery, DeliveryStatus
from bot.service.ports import Clock, UnitOfWork, UnitOfWorkFactory


class ReportAction(StrEnum):
    """What a report says became of the mail for one recipient.

    The first five are RFC 3464's ``Action`` (delivery status notifications and other
    bounces); the next five RFC 8098's dispositions (read receipts); the last is an
    automatic reply (RFC 3834).
    """

    DELIVERED = "delivered"
    FAILED = "failed"
    DELAYED = "delayed"
    RELAYED = "relayed"  # passed to a server that sends no reports: nothing more will come
    EXPANDED = "expanded"  # delivered to a list, which sends it on
    DISPLAYED = "displayed"  # shown to its reader: a read receipt
    DELETED = "deleted"  # deleted unread (or without saying)
    DISPATCHED = "dispatched"  # RFC 3798: sent somewhere else unread
    PROCESSED = "processed"  # RFC 3798: processed by some agent, not shown
    DENIED = "denied"  # the reader declined to send a receipt
    AUTO_REPLIED = "auto-replied"  # an out-of-office or vacation reply


class Applied(StrEnum):
    """What became of a report."""

    CONFIRMED = "confirmed"
    BOUNCED = "bounced"
    READ = "read"
    AUTO_REPLY = "auto-reply"
    NOTED = "noted"
    NOT_OURS = "not ours"  # no delivery of Herald's has that reference (or that recipient)
    NOT_YET = "not yet"  # the send is not recorded yet; read the report again later


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """One recipient's line of a delivery report, read receipt or auto-reply."""

    message_ref: str
    recipient: str  # the address the report is about; may be empty when it came back to the mail's return path
    action: ReportAction
    status: str = ""  # the enhanced status code, e.g. 5.1.1
    diagnostic: str = ""  # the server's own words, e.g. "smtp; 550 5.1.1 user unknown"
    reporter: str = ""  # the server that wrote the report
    # It came back to the mail's own signed return path (VERP), which names one delivery
    # whatever address the report gives (a forwarder's, an alias, or none).
    by_return_path: bool = False

    @property
    def temporary(self) -> bool:
        """Whether the trouble may pass: a 4.x.x status, whatever word the server used."""
        return self.status.startswith("4")

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


@dataclass(frozen=True, slots=True)
class Match:
    """Which delivery a report is about, or why none: what ``herald mail explain`` shows."""

    delivery: Delivery | None
    refused: Applied | None  # NOT_OURS or NOT_YET when the report cannot be applied (now)
    why: str


_NOTED = (
    ReportAction.DELAYED,
    ReportAction.RELAYED,
    ReportAction.DELETED,
    ReportAction.DISPATCHED,
    ReportAction.PROCESSED,
    ReportAction.DENIED,
)


class DeliveryReports:
    """Applies delivery reports to the ledger."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def match(self, report: DeliveryReport) -> Match:
        """The delivery ``report`` is about, read-only."""
        async with self._uow() as uow:
            return await _match(uow, report)

    async def record(self, report: DeliveryReport) -> Applied:
        """Apply one report; say what became of it. Applying the same report again changes nothing."""
        now = self._clock.now()
        async with self._uow() as uow:
            found = await _match(uow, report)
            delivery = found.delivery
            if found.refused is not None or delivery is None:
                return found.refused or Applied.NOT_OURS
            change = _apply(delivery, report, now)
            if change is None:  # applied already (read twice), or outweighed by a failure reported before
                return Applied.NOTED
            updated, applied = change
            await uow.deliveries.update(updated)
            await uow.audit.append(
                AuditEntry(
                    at=now,
                    actor=f"mail:{report.reporter or 'unknown'}"[:200],
                    action="delivery_report",
                    version=delivery.version,
                    outcome=Outcome.DONE,
                    detail=f"{delivery.target}: {report.sentence()}",
                )
            )
            await uow.commit()
        return applied


async def _match(uow: UnitOfWork, report: DeliveryReport) -> Match:
    delivery = await uow.deliveries.by_message_ref(report.message_ref)
    if delivery is None:
        if report.by_return_path:  # signed by Herald: the send is ours, its record not written yet
            return Match(None, Applied.NOT_YET, "its return path is Herald's, but no send of it is recorded yet")
        return Match(None, Applied.NOT_OURS, "no mail of Herald's was sent with that id")
    address = delivery.to.id.lower()
    if not report.by_return_path and report.recipient.lower() != address:
        named = report.recipient or "no address"
        return Match(None, Applied.NOT_OURS, f"it names {named}, but that mail went to {address}")
    if not delivery.status.settled:
        return Match(delivery, Applied.NOT_YET, "the send is not recorded yet; read again at the next poll")
    how = "its signed return path" if report.by_return_path else "its message id and address"
    return Match(delivery, None, f"{delivery.key} (matched by {how})")


def _apply(delivery: Delivery, report: DeliveryReport, now: datetime) -> tuple[Delivery, Applied] | None:
    """The delivery as the report leaves it, and what that means; None when it changes nothing."""
    sentence = report.sentence()
    action = report.action
    if action is ReportAction.DISPLAYED:
        return None if delivery.read_at is not None else (delivery.read(now), Applied.READ)
    if action is ReportAction.AUTO_REPLIED:  # noted as its subject, e.g. "Automatic reply: out until Monday"
        said = report.diagnostic or "an automatic reply"
        return None if delivery.auto_reply == said else (delivery.auto_replied(said, now), Applied.AUTO_REPLY)
    if delivery.report == sentence:
        return None
    if action in (ReportAction.DELIVERED, ReportAction.EXPANDED):
        if delivery.status is DeliveryStatus.FAILED:  # a failure already reported wins
            return None
        return delivery.confirmed(sentence, now), Applied.CONFIRMED
    if action is ReportAction.FAILED:
        reason = f"bounced: {report.diagnostic or report.status or 'the recipient server refused it'}"[:300]
        return delivery.bounced(reason, sentence, now, permanent=not report.temporary), Applied.BOUNCED
    assert action in _NOTED
    return delivery.noted(sentence, now), Applied.NOTED
