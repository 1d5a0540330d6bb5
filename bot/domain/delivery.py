"""Deliveries: one communiqué to one concrete target, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.destinations import Kind


class DeliveryStatus(StrEnum):
    """pending → sending → sent | failed."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"

    @property
    def settled(self) -> bool:
        """Whether nothing more will happen to this delivery without a person's retry."""
        return self in (DeliveryStatus.SENT, DeliveryStatus.FAILED)


def delivery_key(version: str, group_id: str, target: str) -> str:
    """The idempotency key of a delivery: one per release, group and concrete target."""
    return f"{version}|{group_id}|{target}"


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

    def sent(self, ref: str, now: datetime) -> Delivery:
        """This delivery, recorded as sent with the platform's message reference."""
        return replace(self, status=DeliveryStatus.SENT, message_ref=ref, sent_at=now, updated_at=now, error=None)

    def failed(self, error: str, *, permanent: bool, now: datetime) -> Delivery:
        """This delivery, recorded as failed."""
        return replace(self, status=DeliveryStatus.FAILED, error=error, permanent=permanent, updated_at=now)

    def accepts_receipt_from(self, person: str) -> bool:
        """Whether ``person`` is someone this message was meant for.

        Anyone who can react to a channel post is a member of that channel, so channel
        posts accept everyone the platform lets react; DMs and mail only their recipient.
        """
        return self.kind is Kind.CHANNEL or person in self.audience
