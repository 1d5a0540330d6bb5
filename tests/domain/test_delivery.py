"""Deliveries: whose acknowledgement counts, and how a delivery records its outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.delivery import Delivery, DeliveryStatus, delivery_key
from bot.domain.destinations import Kind


def _delivery(kind: Kind, audience: tuple[str, ...], now: datetime) -> Delivery:
    return Delivery(
        key=delivery_key("2.4", "support", "shell:@sam"),
        version="2.4",
        group_id="support",
        target="shell:@sam",
        via="shell",
        kind=kind,
        audience=audience,
        status=DeliveryStatus.PENDING,
        created_at=now,
        updated_at=now,
    )


def test_a_channel_post_accepts_a_receipt_from_anyone(now: datetime) -> None:
    """Whoever can react to a channel post is a member, so anyone's receipt counts."""
    delivery = _delivery(Kind.CHANNEL, ("shell:sam",), now)

    assert delivery.accepts_receipt_from("shell:kim")


@pytest.mark.parametrize("kind", [Kind.DM, Kind.EMAIL])
def test_a_direct_message_accepts_a_receipt_only_from_its_recipient(kind: Kind, now: datetime) -> None:
    """A DM or mail counts only its own recipient's acknowledgement."""
    delivery = _delivery(kind, ("shell:sam",), now)

    assert delivery.accepts_receipt_from("shell:sam")
    assert not delivery.accepts_receipt_from("shell:kim")


def test_a_webhook_accepts_no_receipt(now: datetime) -> None:
    """Nobody acknowledges a webhook post."""
    assert not _delivery(Kind.WEBHOOK, (), now).accepts_receipt_from("shell:sam")


def test_the_delivery_key_names_release_group_and_target() -> None:
    """The idempotency key is one per release, group and concrete target."""
    assert delivery_key("2.4", "support", "slack:@U0SUPPORT1") == "2.4|support|slack:@U0SUPPORT1"


def test_a_sent_delivery_records_the_platform_reference(now: datetime) -> None:
    """Recording a send keeps the message reference and clears an earlier error."""
    failed = _delivery(Kind.DM, ("shell:sam",), now).failed("timeout", permanent=False, now=now)
    later = now + timedelta(seconds=30)

    sent = failed.sent("shell:msg-1", later)

    assert (sent.status, sent.message_ref, sent.sent_at, sent.updated_at, sent.error) == (
        DeliveryStatus.SENT,
        "shell:msg-1",
        later,
        later,
        None,
    )


def test_a_failed_delivery_records_why_and_whether_to_retry(now: datetime) -> None:
    """Recording a failure keeps the error and whether it is permanent."""
    failed = _delivery(Kind.DM, ("shell:sam",), now).failed("unknown user", permanent=True, now=now)

    assert (failed.status, failed.error, failed.permanent) == (DeliveryStatus.FAILED, "unknown user", True)


@pytest.mark.parametrize(
    ("status", "settled"),
    [
        (DeliveryStatus.PENDING, False),
        (DeliveryStatus.SENDING, False),
        (DeliveryStatus.SENT, True),
        (DeliveryStatus.FAILED, True),
    ],
)
def test_only_sent_and_failed_deliveries_are_settled(status: DeliveryStatus, settled: bool) -> None:
    """A delivery is settled once it is sent or has failed."""
    assert status.settled is settled
