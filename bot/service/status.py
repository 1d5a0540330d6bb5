"""The status report: per group, what was sent and who acknowledged.

The store does the counting (``count_status``): nothing of the ledger is loaded to be
counted, so a report costs the same for ten people as for ten thousand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind
from bot.domain.people import display_name
from bot.domain.plan import AckPolicy, Plan, ReceiptLevel
from bot.domain.release import Release
from bot.service.gates import Tally, below_acknowledged, holds, levels, met
from bot.service.ports import UnitOfWork
from bot.service.reconcile import Reconciliation, reconcile
from bot.service.views import GroupStatus, MailboxStatus, StatusView

_RATE_WINDOW = 50  # recent sends the rate is measured over (any process's)


async def count_status(
    uow: UnitOfWork, plan: Plan, release: Release, *, names: bool = True, now: datetime | None = None
) -> StatusView:
    """The status report of ``release``, counted by the store; ``names=False`` leaves out who has not acknowledged.

    A group held by an ``after`` table says what it waits for; ``now`` decides whether a gate's
    timeout has passed (None: as if it had not). Who has not acknowledged is named by the plan's
    ``[people]`` where it names them, else by their id (each front end shows ids its own way).
    """
    version = release.version
    counts: Counter[tuple[str, Purpose, DeliveryStatus]] = Counter()
    for count in await uow.deliveries.counts(version):
        counts[count.group_id, count.purpose, count.status] += count.count
    acknowledged = await uow.receipts.counts(version)
    outside = await uow.receipts.outside_counts(version)
    expected = await uow.receipts.expected(version)
    waiting = await uow.receipts.waiting(version, levels(plan)) if names else {}
    # Only a group asked for less than an acknowledgement needs who was reached (an unnesting of every audience).
    reached = await uow.receipts.met_counts(version) if below_acknowledged(plan) else {}
    failures = [d for d in await uow.deliveries.failed(version) if d.purpose is Purpose.COMMUNIQUE]
    # Who was meant and where each stands: read whole, so only for a report with names (not a chat redraw).
    reconciled = (
        reconcile(await uow.deliveries.for_release(version), await uow.receipts.for_release(version)) if names else {}
    )
    went_out = await uow.deliveries.went_out(version)
    corrected = any(c.corrected_at is not None for c in release.communiques.values())
    earlier = await uow.receipts.per_revision(version) if corrected else {}  # receipts a correction superseded
    late = await _late(uow, plan, version, went_out)
    tally = Tally(went_out=went_out, acknowledged=met(acknowledged, reached, plan), expected=expected)
    mail = (
        [d for d in await uow.deliveries.of_kind(version, Kind.EMAIL) if d.purpose is Purpose.COMMUNIQUE]
        if names
        else []
    )
    groups: list[GroupStatus] = []
    for group_id in _group_ids(plan, release):
        group = next((g for g in plan.groups if g.id == group_id), None)
        ack = group.ack if group else AckPolicy.NONE
        mine = {status: counts[group_id, Purpose.COMMUNIQUE, status] for status in DeliveryStatus}
        unsettled = sum(n for status, n in mine.items() if not status.settled)
        gated = group is not None and unsettled and release.held_by_receipts(group_id)
        held = holds(group, tally, now or datetime.min.replace(tzinfo=UTC)) if group and gated else []
        groups.append(
            GroupStatus(
                id=group_id,
                name=group.name if group else group_id,
                ack=ack.value,
                targets=sum(mine.values()),
                sent=mine[DeliveryStatus.SENT],
                failed=mine[DeliveryStatus.FAILED],
                pending=unsettled,
                acknowledged=acknowledged.get(group_id, 0),
                expected=0 if ack is AckPolicy.NONE else expected.get(group_id, 0),
                not_acknowledged=() if ack is AckPolicy.NONE else _named(plan, waiting.get(group_id, ())),
                late=late.get(group_id, 0),
                outside=0 if ack is AckPolicy.NONE else outside.get(group_id, 0),
                failures=tuple((d.target, d.error or "failed") for d in failures if d.group_id == group_id),
                reminders=counts[group_id, Purpose.REMINDER, DeliveryStatus.SENT],
                escalated=counts[group_id, Purpose.ESCALATION, DeliveryStatus.SENT] > 0,
                mailboxes=tuple(_mailbox(d, ack, waiting.get(group_id, ())) for d in mail if d.group_id == group_id),
                holds=tuple(held),
                require=group.require.value if group else ReceiptLevel.ACKNOWLEDGED.value,
                reconciled=_states(reconciled.get(group_id)),
                missed=reconciled[group_id].missed if group_id in reconciled else (),
                people=tuple((p, s.words) for p, s in reconciled[group_id].people) if group_id in reconciled else (),
                met=reached.get(group_id, {}).get(group.require, 0) if group else 0,
                **_revision(release, group_id, counts, earlier.get(group_id, {})),
            )
        )
    pending = sum(g.pending for g in groups)
    recent = await uow.deliveries.recent_sends(version, _RATE_WINDOW) if pending else []
    return StatusView(
        version=version,
        product=release.product,
        state=release.state,
        groups=tuple(groups),
        eta_seconds=_eta(recent, pending),
        retraction=_retraction(release, names=names),
    )


def _states(found: Reconciliation | None) -> tuple[tuple[str, int], ...]:
    """A group's reconciled states, strongest first, those with nobody left out."""
    if found is None:
        return ()
    return tuple((state.words, found.states[state]) for state in sorted(found.states, reverse=True))


def _retraction(release: Release, *, names: bool) -> str | None:
    """The release's retraction in one line: in effect (who, who approved, when, why), or waiting for approval;
    ``names=False`` names nobody."""
    retraction = release.retraction
    if retraction is None:
        return None
    by = f" by {display_name(retraction.by)}" if names else ""
    if release.retracted_at is None:
        return f"{retraction.what} proposed{by}, waiting for an approver: {retraction.reason}"
    approved = release.retraction_approved_by
    also = f", approved by {display_name(approved)}" if names and approved and approved != retraction.by else ""
    return f"{retraction.what}{by}{also} at {release.retracted_at:%Y-%m-%d %H:%M UTC}: {retraction.reason}"


def _revision(
    release: Release,
    group_id: str,
    counts: Mapping[tuple[str, Purpose, DeliveryStatus], int],
    earlier: Mapping[int, int],
) -> dict[str, Any]:
    """A group's revision, who corrected it, how its copies' corrections stand, and the earlier receipts."""
    communique = release.communiques.get(group_id)
    if communique is None:
        return {}
    corrections = {status: counts.get((group_id, Purpose.CORRECTION, status), 0) for status in DeliveryStatus}
    retractions = {status: counts.get((group_id, Purpose.RETRACTION, status), 0) for status in DeliveryStatus}
    return {
        "stopped": counts.get((group_id, Purpose.COMMUNIQUE, DeliveryStatus.CANCELLED), 0),
        "unreachable": counts.get((group_id, Purpose.COMMUNIQUE, DeliveryStatus.UNREACHABLE), 0),
        "withdrawn": retractions[DeliveryStatus.SENT],
        "withdrawing": sum(n for status, n in retractions.items() if not status.settled),
        "revision": communique.revision,
        "corrected_by": display_name(communique.corrected_by) if communique.corrected_by else None,
        "corrected": corrections[DeliveryStatus.SENT],
        "correcting": sum(n for status, n in corrections.items() if not status.settled),
        "earlier": tuple(sorted(earlier.items())),
    }


async def _late(uow: UnitOfWork, plan: Plan, version: str, went_out: Mapping[str, datetime]) -> dict[str, int]:
    """Per group asking for receipts, how many came after its deadline (first send plus ``ack_within``)."""
    return {
        group.id: await uow.receipts.count_after(version, group.id, went_out[group.id] + group.ack_within)
        for group in plan.groups
        if group.ack is not AckPolicy.NONE and group.id in went_out
    }


def _named(plan: Plan, people: Sequence[str]) -> tuple[str, ...]:
    """``people``, each by the name the plan's ``[people]`` gives them, or by their id."""
    return tuple(plan.people.name_of(person) or person for person in people)


def _mailbox(delivery: Delivery, ack: AckPolicy, waiting: Sequence[str]) -> MailboxStatus:
    """One e-mail recipient: what its server reported, and whether they acknowledged (not among the waiting)."""
    if delivery.status is DeliveryStatus.FAILED:
        state = "bounced" if delivery.report is not None else "failed"
    elif delivery.status is DeliveryStatus.SENT:
        state = "confirmed" if delivery.confirmed_at is not None else "sent"
    else:
        state = "pending"
    acknowledged = (
        ack is not AckPolicy.NONE
        and delivery.status is not DeliveryStatus.FAILED
        and not any(person in waiting for person in delivery.audience)
    )
    return MailboxStatus(
        target=delivery.target,
        delivery=state,
        acknowledged=acknowledged,
        report=delivery.report,
        read=delivery.read_at is not None,
        auto_reply=delivery.auto_reply,
    )


def _group_ids(plan: Plan, release: Release) -> list[str]:
    """The release's groups, in the plan's order, then any the plan no longer has."""
    group_ids = [g.id for g in plan.groups if g.id in release.communiques]
    return group_ids + [gid for gid in release.communiques if gid not in group_ids]


def _eta(recent: Sequence[datetime], pending: int) -> float | None:
    """Time left for ``pending`` messages at the pace of ``recent`` send times (oldest first)."""
    if not pending or len(recent) < 2:
        return None
    span = (recent[-1] - recent[0]).total_seconds()
    return pending * span / (len(recent) - 1) if span > 0 else None
