"""The evidence pack as plain values: what the JSON holds, and the CSV's rows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from bot.domain.audit import AuditEntry
from bot.domain.delivery import Delivery
from bot.service.evidence import CommuniqueEvidence, EvidencePack, ReceiptEvidence

FORMAT = "herald-evidence/1"  # the JSON's "format": a reader checks it before trusting the shape


def when(moment: datetime | None) -> str | None:
    """A moment as ISO 8601 in UTC, or None."""
    return None if moment is None else moment.isoformat()


def medium(delivery: Delivery) -> str:
    """The platform a delivery went through (``slack``, ``email``, …): its target's prefix."""
    return delivery.target.partition(":")[0]


def delivery_record(delivery: Delivery, acknowledged_here: int) -> dict[str, Any]:
    """One delivery, every field an auditor asks about; ``acknowledged_here``: receipts given on it."""
    return {
        "key": delivery.key,
        "group": delivery.group_id,
        "purpose": delivery.purpose.value,
        "target": delivery.target,
        "medium": medium(delivery),
        "kind": delivery.kind.value,
        "via": delivery.via,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "created_at": when(delivery.created_at),
        "sent_at": when(delivery.sent_at),
        "message_ref": delivery.message_ref,
        "error": delivery.error,
        "permanent": delivery.permanent,
        "report": delivery.report,
        "confirmed_at": when(delivery.confirmed_at),
        "read_at": when(delivery.read_at),
        "auto_reply": delivery.auto_reply,
        "audience": len(delivery.audience),
        "acknowledged_here": acknowledged_here,
    }


def delivery_records(pack: EvidencePack) -> list[dict[str, Any]]:
    """Every delivery of the pack as a record, in the ledger's order."""
    here = Counter(r.receipt.delivery_key for r in pack.receipts)
    return [delivery_record(d, here[d.key]) for d in pack.deliveries]


def pack_record(pack: EvidencePack) -> dict[str, Any]:
    """The whole pack as one JSON-ready object; ``status`` is exactly ``herald status --json``'s."""
    deliveries = delivery_records(pack)
    for record, delivery in zip(deliveries, pack.deliveries, strict=True):
        record["audience"] = list(delivery.audience)
        record["body"] = delivery.body
    return {
        "format": FORMAT,
        "version": pack.version,
        "product": pack.product,
        "state": pack.state.value,
        "generated_at": when(pack.generated_at),
        "plan": {
            "source": pack.plan.source,
            "sha256": pack.plan.sha256,
            "as_announced": pack.plan.as_announced,
            "label": pack.plan.label,
            "text": pack.plan.text,
        },
        "audit_head": pack.audit_head,
        "audit_entries": pack.audit_entries,
        "status": pack.status.as_json(),
        "deadlines": {group_id: when(at) for group_id, at in pack.deadlines.items()},
        "milestones": [{"step": m.step, "actor": m.actor, "at": when(m.at)} for m in pack.milestones],
        "communiques": [_communique(c) for c in pack.communiques],
        "trail": [_entry(e) for e in pack.trail],
        "deliveries": deliveries,
        "receipts": [_receipt(r) for r in pack.receipts],
        "outside_receipts": [_receipt(r) for r in pack.outside],
        "refusals": [_entry(e) for e in pack.refusals],
        "earlier_texts": [
            {"group": e.group_id, "revision": e.revision, "text": e.text, "replaced_at": when(e.replaced_at)}
            for e in pack.earlier_texts
        ],
        "subscriptions": [
            {
                "place": s.medium,
                "person": s.person,
                "component": s.component,
                "level": s.level.value,
                "since": when(s.since),
            }
            for s in pack.subscriptions
        ],
    }


def _communique(communique: CommuniqueEvidence) -> dict[str, Any]:
    return {
        "group": communique.group_id,
        "name": communique.group_name,
        "revision": communique.revision,
        "review": communique.review.value,
        "reviewed_by": communique.reviewed_by,
        "reviewed_at": when(communique.reviewed_at),
        "sha256": communique.sha256,
        "text": communique.text,
        "checks": [
            {"code": c.code, "ok": c.ok, "severity": c.severity.value, "message": c.message} for c in communique.checks
        ],
        "steps": [
            {"at": when(s.at), "actor": s.actor, "step": s.step, "revision": s.revision, "note": s.note}
            for s in communique.steps
        ],
    }


def _receipt(found: ReceiptEvidence) -> dict[str, Any]:
    receipt = found.receipt
    return {
        "group": receipt.group_id,
        "person": receipt.person,
        "source": receipt.source.value,
        "at": when(receipt.at),
        "delivery": receipt.delivery_key,
        "superseded_revision": receipt.superseded,  # None: it acknowledges the current text
        "deadline": when(found.deadline),
        "late": found.late,
    }


def _entry(entry: AuditEntry) -> dict[str, Any]:
    return {"at": when(entry.at), "actor": entry.actor, "action": entry.action, "detail": entry.detail}
