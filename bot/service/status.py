"""The status report: per group, what was sent and who acknowledged."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.plan import AckPolicy, Plan
from bot.domain.receipt import Receipt
from bot.domain.release import Release
from bot.service.views import GroupStatus, StatusView


def group_status(
    plan: Plan, release: Release, group_id: str, deliveries: Sequence[Delivery], receipts: Sequence[Receipt]
) -> GroupStatus:
    """Counts for one group."""
    group = next((g for g in plan.groups if g.id == group_id), None)
    name = group.name if group else group_id
    ack = group.ack if group else AckPolicy.NONE
    mine = [d for d in deliveries if d.group_id == group_id and d.purpose is Purpose.COMMUNIQUE]
    chasers = [d for d in deliveries if d.group_id == group_id and d.purpose is not Purpose.COMMUNIQUE]
    acknowledged = {r.person for r in receipts if r.group_id == group_id}
    expected: set[str] = set()
    if ack is not AckPolicy.NONE:
        for delivery in mine:
            if delivery.status is not DeliveryStatus.FAILED:
                expected.update(delivery.audience)
        # Channel members who acknowledged were meant to get it, even when the
        # channel's membership could not be listed in advance.
        expected |= acknowledged
    return GroupStatus(
        id=group_id,
        name=name,
        ack=ack.value,
        targets=len(mine),
        sent=sum(d.status is DeliveryStatus.SENT for d in mine),
        failed=sum(d.status is DeliveryStatus.FAILED for d in mine),
        pending=sum(not d.status.settled for d in mine),
        acknowledged=len(acknowledged),
        expected=len(expected),
        not_acknowledged=tuple(sorted(expected - acknowledged)),
        failures=tuple((d.target, d.error or "failed") for d in mine if d.status is DeliveryStatus.FAILED),
        reminders=sum(d.purpose is Purpose.REMINDER and d.status is DeliveryStatus.SENT for d in chasers),
        escalated=any(d.purpose is Purpose.ESCALATION and d.status is DeliveryStatus.SENT for d in chasers),
    )


def build_status(
    plan: Plan, release: Release, deliveries: Sequence[Delivery], receipts: Sequence[Receipt]
) -> StatusView:
    """The whole status report for a release."""
    group_ids = [g.id for g in plan.groups if g.id in release.communiques]
    group_ids += [gid for gid in release.communiques if gid not in group_ids]
    groups = tuple(group_status(plan, release, gid, deliveries, receipts) for gid in group_ids)
    return StatusView(
        version=release.version,
        product=release.product,
        state=release.state,
        groups=groups,
        eta_seconds=eta_seconds(deliveries, sum(g.pending for g in groups)),
    )


_RATE_WINDOW = 50  # recent sends the rate is measured over


def eta_seconds(deliveries: Sequence[Delivery], pending: int) -> float | None:
    """Time left for ``pending`` messages at the rate of the most recent sends (any process's)."""
    if not pending:
        return None
    recent = sorted(d.sent_at for d in deliveries if d.sent_at is not None)[-_RATE_WINDOW:]
    if len(recent) < 2:
        return None
    span = (recent[-1] - recent[0]).total_seconds()
    return pending * span / (len(recent) - 1) if span > 0 else None
