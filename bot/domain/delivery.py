"""Deliveries: one communiqué to one concrete target, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.destinations import Kind, Target


class Purpose(StrEnum):
    """Why a delivery exists."""

    COMMUNIQUE = "communique"  # the group's communiqué itself
    REMINDER = "reminder"  # a nudge to someone who has not acknowledged
    ESCALATION = "escalation"  # the list of who has not acknowledged, to escalate_to
    CORRECTION = "correction"  # a corrected text: the copy ``replaces`` edited in place, or a follow-up
    NOTICE = "notice"  # a short note under a chat copy that a correction edited (``corrections = { notify = true }``)
    RETRACTION = "retraction"  # the release withdrawn: the copy ``replaces`` struck through in place, or a notice


class DeliveryStatus(StrEnum):
    """pending → sending → sent | failed | unreachable; pending → cancelled (its release was retracted first)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"  # never attempted: the person cannot be messaged there (why: ``error``)

    @property
    def settled(self) -> bool:
        """Whether nothing more will happen to this delivery without a person's retry."""
        return self in (
            DeliveryStatus.SENT,
            DeliveryStatus.FAILED,
            DeliveryStatus.CANCELLED,
            DeliveryStatus.UNREACHABLE,
        )


def delivery_key(version: str, group_id: str, target: str, purpose: str = "") -> str:
    """The idempotency key of a delivery: one per release, group, purpose and concrete target.

    ``purpose`` is empty for the communiqué itself, ``reminder-N`` for the N-th round of
    reminders, ``escalation`` for the escalation and ``correction-R`` for revision R of a
    corrected communiqué, so each goes out once.
    """
    return f"{version}|{group_id}|{target}" if not purpose else f"{version}|{group_id}|{purpose}|{target}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One message to one target. ``audience`` is who is expected to acknowledge it."""

    key: str
    version: str
    group_id: str
    target: str
    via: str
    kind: Kind
    audience: tuple[str, ...]
    status: DeliveryStatus
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    error: str | None = None
    permanent: bool = False
    message_ref: str | None = None
    sent_at: datetime | None = None
    purpose: Purpose = Purpose.COMMUNIQUE
    body: str | None = None  # the text to send when it is not the group's communiqué
    not_before: datetime | None = None  # scheduled (send_at/send_after) or retry backoff
    leased_until: datetime | None = None
    lease_owner: str | None = None
    confirmed_at: datetime | None = None  # the recipient's server reported it delivered (an e-mail DSN)
    report: str | None = None  # the last delivery report about it, as a sentence (delivered, delayed, failed)
    # Since when it may have reached the platform without the ledger knowing: set as a send
    # starts, cleared when it is recorded as sent; left by a process that died mid-send, or by
    # a send the platform did not answer. Looked for on the platform before sending again.
    in_doubt_since: datetime | None = None
    read_at: datetime | None = None  # the reader's mail client reported it displayed (an e-mail read receipt)
    auto_reply: str | None = None  # an automatic reply came back (out of office), as a sentence
    revision: int | None = None  # the communiqué's revision this copy carried when it was sent (since 0010)
    replaces: str | None = None  # a correction: the key of the copy it corrects

    @property
    def amends(self) -> bool:
        """Whether this changes a copy already sent: a correction of it, or its retraction."""
        return self.purpose in (Purpose.CORRECTION, Purpose.RETRACTION) and self.replaces is not None

    @property
    def to(self) -> Target:
        """Where it goes, typed (``target`` is its written form)."""
        return Target.written(self.target, self.kind)

    def claimable(self, now: datetime) -> bool:
        """Whether a worker may claim it now: due and pending, or its lease has run out."""
        if self.status is DeliveryStatus.PENDING:
            return self.not_before is None or self.not_before <= now
        return self.status is DeliveryStatus.SENDING and self.leased_until is not None and self.leased_until <= now

    def leased(self, owner: str, until: datetime, now: datetime) -> Delivery:
        """This delivery, claimed by ``owner`` until ``until``."""
        return replace(
            self,
            status=DeliveryStatus.SENDING,
            attempts=self.attempts + 1,
            leased_until=until,
            lease_owner=owner,
            updated_at=now,
        )

    def retry_at(self, error: str, at: datetime, now: datetime, *, since: datetime | None = None) -> Delivery:
        """This delivery, back to pending until ``at`` after a failure that may pass.

        ``since``: the failed send may have arrived after all (no answer came), so the
        delivery is in doubt from then on.
        """
        return replace(
            self,
            in_doubt_since=self.in_doubt_since or since,
            status=DeliveryStatus.PENDING,
            error=error,
            not_before=at,
            leased_until=None,
            lease_owner=None,
            updated_at=now,
        )

    def reset(self, now: datetime) -> Delivery:
        """This failed delivery, pending again for a person's retry, with a fresh attempt count."""
        return replace(
            self,
            status=DeliveryStatus.PENDING,
            attempts=0,
            error=None,
            permanent=False,
            not_before=None,
            leased_until=None,
            lease_owner=None,
            confirmed_at=None,
            report=None,
            read_at=None,
            auto_reply=None,
            updated_at=now,
        )

    def sent(self, ref: str, now: datetime, *, revision: int | None = None) -> Delivery:
        """This delivery, recorded as sent with the platform's message reference (and the revision it carried)."""
        return replace(
            self,
            revision=revision if revision is not None else self.revision,
            status=DeliveryStatus.SENT,
            message_ref=ref,
            sent_at=now,
            updated_at=now,
            error=None,
            leased_until=None,
            in_doubt_since=None,
        )

    def cancelled(self, why: str, now: datetime) -> Delivery:
        """This delivery, not to be sent (its release was retracted, or there is nothing left to change)."""
        return replace(
            self, status=DeliveryStatus.CANCELLED, error=why, permanent=True, updated_at=now, leased_until=None
        )

    def unreachable(self, why: str, now: datetime) -> Delivery:
        """This delivery, never to be attempted as things are: its person cannot be messaged there."""
        return replace(
            self, status=DeliveryStatus.UNREACHABLE, error=why, permanent=True, updated_at=now, leased_until=None
        )

    def failed(self, error: str, *, permanent: bool, now: datetime) -> Delivery:
        """This delivery, recorded as failed."""
        return replace(
            self,
            status=DeliveryStatus.FAILED,
            error=error,
            permanent=permanent,
            updated_at=now,
            leased_until=None,
        )

    def confirmed(self, report: str, now: datetime) -> Delivery:
        """This sent delivery, confirmed by the recipient's server (a "delivered" report)."""
        return replace(self, confirmed_at=self.confirmed_at or now, report=report, updated_at=now)

    def bounced(self, reason: str, report: str, now: datetime, *, permanent: bool = True) -> Delivery:
        """This delivery, failed: the recipient's server reported it could not deliver it.

        ``permanent=False``: the server gave up for a reason that may pass (a 4.x.x
        status, e.g. a full mailbox), so a person's retry may get it through.
        """
        return replace(
            self,
            status=DeliveryStatus.FAILED,
            error=reason,
            permanent=permanent,
            confirmed_at=None,
            report=report,
            updated_at=now,
            leased_until=None,
        )

    def noted(self, report: str, now: datetime) -> Delivery:
        """This delivery with a report that changes nothing (a delay) noted on it."""
        return replace(self, report=report, updated_at=now)

    def read(self, now: datetime) -> Delivery:
        """This delivery, reported displayed by its reader's mail client (a read receipt); the first report counts."""
        return replace(self, read_at=self.read_at or now, updated_at=now)

    def auto_replied(self, reply: str, now: datetime) -> Delivery:
        """This delivery with the automatic reply it drew (out of office) noted on it."""
        return replace(self, auto_reply=reply, updated_at=now)

    def accepts_receipt_from(self, person: str) -> bool:
        """Whether ``person`` is someone this message was meant for.

        Anyone who can react to a channel post is a member of that channel, so channel
        posts accept everyone the platform lets react; DMs and mail only their recipient.
        """
        return self.kind is Kind.CHANNEL or person in self.audience
