"""A release's receipts dashboard: the status report, every target, acknowledgements over time, the trail.

Built from the ledger for one viewer. Whoever may see names (the plan's announcers,
approvers and viewers) gets people as they are; anyone else gets the same figures with
every person left out: DMs and mailboxes are counted, not named, and the trail says
what was done, not by whom.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.domain.audit import AuditEntry
from bot.domain.delivery import Delivery
from bot.domain.destinations import Kind
from bot.domain.people import display_name
from bot.domain.plan import Plan
from bot.domain.receipt import Receipt
from bot.domain.release import Release
from bot.service.ports import UnitOfWork
from bot.service.status import count_status
from bot.service.views import GroupStatus, StatusView

_PERSONAL = (Kind.DM, Kind.EMAIL)  # a target that is one person
HIDDEN = "(hidden)"


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetRow:
    """One delivery: where it went, what became of it, and its own acknowledgements."""

    group_id: str
    group_name: str
    target: str  # HIDDEN for a person when names are not shown
    kind: str
    purpose: str
    status: str
    attempts: int
    sent_at: datetime | None
    report: str
    acknowledged: int
    expected: int

    def as_json(self) -> dict[str, Any]:
        """The row as the dashboard's live data carries it."""
        return {
            "group": self.group_id,
            "group_name": self.group_name,
            "target": self.target,
            "kind": self.kind,
            "purpose": self.purpose,
            "status": self.status,
            "attempts": self.attempts,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "report": self.report,
            "acknowledged": self.acknowledged,
            "expected": self.expected,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One line of the approval trail."""

    at: datetime
    actor: str  # HIDDEN when names are not shown
    action: str
    outcome: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardView:
    """Everything the dashboard shows, for one viewer."""

    status: StatusView
    names: bool  # whether this viewer sees people
    rows: tuple[TargetRow, ...]
    timeline: tuple[tuple[datetime, str], ...]  # each counted acknowledgement: when, which group
    trail: tuple[Step, ...]
    as_of: datetime  # when the figures were counted (Herald's clock)

    def as_json(self) -> dict[str, Any]:
        """The dashboard's live data (``/dashboard/VERSION/live.json``)."""
        return {
            "as_of": self.as_of.isoformat(),
            "status": self.status.as_json(),
            "names": self.names,
            "rows": [row.as_json() for row in self.rows],
            "timeline": [{"at": at.isoformat(), "group": group} for at, group in self.timeline],
            "trail": [
                {"at": s.at.isoformat(), "actor": s.actor, "action": s.action, "outcome": s.outcome, "detail": s.detail}
                for s in self.trail
            ],
        }


async def dashboard_view(uow: UnitOfWork, plan: Plan, release: Release, viewer: str, now: datetime) -> DashboardView:
    """The dashboard of ``release`` as ``viewer`` may see it."""
    names = plan.may_see_names(viewer)
    status = await count_status(uow, plan, release, names=names, now=now)
    deliveries = await uow.deliveries.for_release(release.version)
    # The receipts of the current texts: those of a text a correction replaced are kept, and no longer count.
    receipts = [r for r in await uow.receipts.for_release(release.version) if r.superseded is None]
    trail = await uow.audit.for_release(release.version)
    if not names:
        status = _without_people(status, deliveries)
    return DashboardView(
        status=status,
        names=names,
        rows=_rows(plan, deliveries, receipts, names),
        timeline=tuple(sorted((r.at, r.group_id) for r in receipts if not r.outside)),
        trail=tuple(_step(entry, names) for entry in trail),
        as_of=now,
    )


def _rows(plan: Plan, deliveries: list[Delivery], receipts: list[Receipt], names: bool) -> tuple[TargetRow, ...]:
    group_names = {g.id: g.name for g in plan.groups}
    per_delivery = Counter(r.delivery_key for r in receipts if not r.outside)
    return tuple(
        TargetRow(
            group_id=d.group_id,
            group_name=group_names.get(d.group_id, d.group_id),
            target=d.target if names or d.kind not in _PERSONAL else HIDDEN,
            kind=d.kind.value,
            purpose=d.purpose.value,
            status=d.status.value,
            attempts=d.attempts,
            sent_at=d.sent_at,
            report=(d.report or d.error or "") if names or d.kind not in _PERSONAL else "",
            acknowledged=per_delivery[d.key],
            expected=len(d.audience),
        )
        for d in sorted(deliveries, key=lambda d: (d.group_id, d.purpose.value, d.target))
    )


def _without_people(status: StatusView, deliveries: list[Delivery]) -> StatusView:
    """The status with every person left out: failures at people's addresses unnamed, no mailbox list."""
    personal = {d.target for d in deliveries if d.kind in _PERSONAL}

    def unnamed(group: GroupStatus) -> GroupStatus:
        failures = tuple((HIDDEN, "") if target in personal else (target, error) for target, error in group.failures)
        return replace(group, failures=failures, mailboxes=(), not_acknowledged=())

    return replace(status, groups=tuple(unnamed(group) for group in status.groups))


def _step(entry: AuditEntry, names: bool) -> Step:
    return Step(
        at=entry.at,
        actor=display_name(entry.actor) if names else HIDDEN,
        action=entry.action.replace("_", " "),
        outcome=entry.outcome.value,
        detail=entry.detail if names else "",
    )
