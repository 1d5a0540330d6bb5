"""Rows to domain objects and back; the domain never sees a row.

``*_values`` give the column values of a domain object, ready for an INSERT or UPDATE;
``*_from_row(s)`` rebuild the domain object from what was read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bot.domain.audit import AuditEntry, Outcome
from bot.domain.communique import Communique, Correction, ReviewState
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind
from bot.domain.notes import KeptNotes
from bot.domain.plan import PlanSnapshot
from bot.domain.receipt import Receipt, ReceiptSource
from bot.domain.release import Release, ReleaseState, Retraction
from bot.domain.subscriptions import Level, Subscription
from storage.tables import (
    AuditRow,
    CommuniqueRow,
    DeliveryRow,
    PlanSnapshotRow,
    ReceiptRow,
    ReleaseRow,
    SubscriptionRow,
)

# -- releases ------------------------------------------------------------------------


def release_values(release: Release) -> dict[str, Any]:
    """The ``releases`` columns of a release (its communiqués go in ``communique_values``)."""
    return {
        "version": release.version,
        "product": release.product,
        "state": release.state.value,
        "announced_by": release.announced_by,
        "announced_at": release.announced_at,
        "confirmed_by": release.confirmed_by,
        "confirmed_at": release.confirmed_at,
        "send_requested_by": release.send_requested_by,
        "send_requested_at": release.send_requested_at,
        "approved_by": release.approved_by,
        "approved_at": release.approved_at,
        "cancelled_by": release.cancelled_by,
        "cancelled_at": release.cancelled_at,
        "completed_at": release.completed_at,
        "thread": release.thread,
        "revision": release.revision,
        "retraction_reason": release.retraction.reason if release.retraction else None,
        "retraction_by": release.retraction.by if release.retraction else None,
        "retraction_at": release.retraction.at if release.retraction else None,
        "retraction_approved_by": release.retraction_approved_by,
        "retracted_at": release.retracted_at,
        "retraction_go_live": release.retraction.go_live if release.retraction else None,
        "skipped": json.dumps(release.skipped) if release.skipped else None,
        "components": json.dumps(list(release.components)) if release.components else None,
        "notes": json.dumps(release.notes.as_json()) if release.notes is not None else None,
    }


def communique_values(release: Release) -> list[dict[str, Any]]:
    """One ``communiques`` row per communiqué, numbered in the release's order."""
    return [
        {
            "version": release.version,
            "group_id": communique.group_id,
            "position": position,
            "text": communique.text,
            "render_error": communique.render_error,
            "review": communique.review.value,
            "revision": communique.revision,
            "reviewed_by": communique.reviewed_by,
            "reviewed_at": communique.reviewed_at,
            "note": communique.note,
            "edited_by": communique.edited_by,
            "edited_at": communique.edited_at,
            "message_ref": communique.message_ref,
            "correction_text": communique.correction.text if communique.correction else None,
            "correction_by": communique.correction.by if communique.correction else None,
            "correction_at": communique.correction.at if communique.correction else None,
            "corrected_by": communique.corrected_by,
            "corrected_at": communique.corrected_at,
            "released_by": communique.released_by,
            "released_at": communique.released_at,
        }
        for position, communique in enumerate(release.communiques.values())
    ]


def release_from_rows(row: ReleaseRow, communiques: Iterable[CommuniqueRow]) -> Release:
    """The release with its communiqués, in ``position`` order"""
    return Release(
        version=row.version,
        product=row.product,
        state=ReleaseState(row.state),
        announced_by=row.announced_by,
        announced_at=row.announced_at,
        communiques={c.group_id: _communique(c) for c in sorted(communiques, key=lambda c: c.position)},
        confirmed_by=row.confirmed_by,
        confirmed_at=row.confirmed_at,
        send_requested_by=row.send_requested_by,
        send_requested_at=row.send_requested_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        cancelled_by=row.cancelled_by,
        cancelled_at=row.cancelled_at,
        completed_at=row.completed_at,
        thread=row.thread,
        revision=row.revision,
        retraction=(
            Retraction(
                reason=row.retraction_reason, by=row.retraction_by, at=row.retraction_at, go_live=row.retraction_go_live
            )
            if row.retraction_reason is not None and row.retraction_by is not None and row.retraction_at is not None
            else None
        ),
        retraction_approved_by=row.retraction_approved_by,
        retracted_at=row.retracted_at,
        skipped=json.loads(row.skipped) if row.skipped else {},
        components=tuple(json.loads(row.components)) if row.components else (),
        notes=KeptNotes.from_json(json.loads(row.notes)) if row.notes else None,
    )


def plan_snapshot_values(version: str, plan: PlanSnapshot) -> dict[str, Any]:
    """The ``plan_snapshots`` columns of the plan ``version`` was announced under."""
    return {"version": version, "source": plan.source, "sha256": plan.sha256, "text": plan.text}


def plan_snapshot_from_row(row: PlanSnapshotRow) -> PlanSnapshot:
    """The plan a row keeps."""
    return PlanSnapshot(source=row.source, text=row.text, sha256=row.sha256)


def _communique(row: CommuniqueRow) -> Communique:
    return Communique(
        group_id=row.group_id,
        text=row.text,
        render_error=row.render_error,
        review=ReviewState(row.review),
        revision=row.revision,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        note=row.note,
        edited_by=row.edited_by,
        edited_at=row.edited_at,
        message_ref=row.message_ref,
        correction=(
            Correction(text=row.correction_text, by=row.correction_by, at=row.correction_at)
            if row.correction_text is not None and row.correction_by is not None and row.correction_at is not None
            else None
        ),
        corrected_by=row.corrected_by,
        corrected_at=row.corrected_at,
        released_by=row.released_by,
        released_at=row.released_at,
    )


# -- deliveries ----------------------------------------------------------------------


def delivery_values(delivery: Delivery) -> dict[str, Any]:
    """The ``deliveries`` columns of a delivery (the surrogate ``id`` is the database's)."""
    return {
        "key": delivery.key,
        "version": delivery.version,
        "group_id": delivery.group_id,
        "target": delivery.target,
        "via": delivery.via,
        "kind": delivery.kind.value,
        "audience": json.dumps(list(delivery.audience)),
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "error": delivery.error,
        "permanent": delivery.permanent,
        "message_ref": delivery.message_ref,
        "created_at": delivery.created_at,
        "updated_at": delivery.updated_at,
        "sent_at": delivery.sent_at,
        "purpose": delivery.purpose.value,
        "body": delivery.body,
        "not_before": delivery.not_before,
        "leased_until": delivery.leased_until,
        "lease_owner": delivery.lease_owner,
        "confirmed_at": delivery.confirmed_at,
        "report": delivery.report,
        "in_doubt_since": delivery.in_doubt_since,
        "read_at": delivery.read_at,
        "auto_reply": delivery.auto_reply,
        "revision": delivery.revision,
        "replaces": delivery.replaces,
    }


def delivery_from_row(row: DeliveryRow) -> Delivery:
    """The delivery a row records."""
    return Delivery(
        key=row.key,
        version=row.version,
        group_id=row.group_id,
        target=row.target,
        via=row.via,
        kind=Kind(row.kind),
        audience=tuple(json.loads(row.audience)),
        status=DeliveryStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        attempts=row.attempts,
        error=row.error,
        permanent=row.permanent,
        message_ref=row.message_ref,
        sent_at=row.sent_at,
        purpose=Purpose(row.purpose),
        body=row.body,
        not_before=row.not_before,
        leased_until=row.leased_until,
        lease_owner=row.lease_owner,
        confirmed_at=row.confirmed_at,
        report=row.report,
        in_doubt_since=row.in_doubt_since,
        read_at=row.read_at,
        auto_reply=row.auto_reply,
        revision=row.revision,
        replaces=row.replaces,
    )


# -- receipts and the audit log ------------------------------------------------------


def receipt_values(receipt: Receipt) -> dict[str, Any]:
    """The ``receipts`` columns of a receipt."""
    return {
        "version": receipt.version,
        "group_id": receipt.group_id,
        "person": receipt.person,
        "source": receipt.source.value,
        "delivery_key": receipt.delivery_key,
        "at": receipt.at,
        "outside": receipt.outside,
        "superseded": receipt.superseded or 0,
    }


def receipt_from_row(row: ReceiptRow) -> Receipt:
    """The receipt a row records."""
    return Receipt(
        version=row.version,
        group_id=row.group_id,
        person=row.person,
        source=ReceiptSource(row.source),
        delivery_key=row.delivery_key,
        at=row.at,
        outside=row.outside,
        superseded=row.superseded or None,
    )


def audit_values(entry: AuditEntry) -> dict[str, Any]:
    """The ``audit_log`` columns of an entry."""
    return {
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "version": entry.version,
        "outcome": entry.outcome.value,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def audit_from_row(row: AuditRow) -> AuditEntry:
    """The entry a row records."""
    return AuditEntry(
        at=row.at,
        actor=row.actor,
        action=row.action,
        version=row.version,
        outcome=Outcome(row.outcome),
        detail=row.detail,
        prev_hash=row.prev_hash or "",
        hash=row.hash or "",
    )


def subscription_values(subscription: Subscription) -> dict[str, Any]:
    return {
        "key": subscription.key,
        "person": subscription.person,
        "medium": subscription.medium,
        "component": subscription.component,
        "level": subscription.level.value,
        "since": subscription.since,
        "confirmed": subscription.confirmed,
    }


def subscription_from_row(row: SubscriptionRow) -> Subscription:
    return Subscription(
        person=row.person,
        medium=row.medium,
        component=row.component,
        level=Level(row.level),
        since=row.since,
        confirmed=row.confirmed,
    )
