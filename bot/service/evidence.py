"""The evidence pack: what shows, after the fact, that every group was told and who acknowledged.

``evidence_pack`` gathers it from the ledger in one unit of work: the plan the release was
announced under, each communiqué with its checks and review steps, the release's own steps,
every delivery, every receipt (late ones and those from outside the audience told apart),
every refusal, the status counts (``count_status``, the same figures ``herald status``
shows) and the head of the release's audit chain, verified first (``bot.domain.audit``).
It is platform-neutral; ``adapters.export`` writes it as Markdown, CSV or JSON.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.audit import AuditEntry, Outcome, chain_report
from bot.domain.checks import CheckResult
from bot.domain.communique import EarlierText, ReviewState
from bot.domain.delivery import Delivery
from bot.domain.destinations import Platform
from bot.domain.errors import AuditChainBroken, NotFound
from bot.domain.plan import AckPolicy, Plan
from bot.domain.receipt import Receipt
from bot.domain.release import Release, ReleaseState
from bot.domain.subscriptions import Subscription
from bot.service.ports import UnitOfWork
from bot.service.status import count_status
from bot.service.views import StatusView
from bot.service.walkthrough import content_checks

AS_ANNOUNCED = "as announced"
CURRENT_PLAN = "current, not as announced"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanEvidence:
    """The plan behind the release: the one kept when it was announced, or else the current one, marked so."""

    source: str
    sha256: str | None  # None: the plan has no text (it was built in code, not read from a file)
    text: str | None
    as_announced: bool  # False: no copy was kept at announce time (announced before 0009)

    @property
    def label(self) -> str:
        """Which plan this is, in words: ``as announced`` or ``current, not as announced``."""
        return AS_ANNOUNCED if self.as_announced else CURRENT_PLAN


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone:
    """One step of the release itself: announced, confirmed, send requested, final approval, …"""

    step: str
    actor: str | None  # None: no person took it (sending completed)
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewStep:
    """One review step on a communiqué, as the audit log recorded it."""

    at: datetime
    actor: str
    step: str  # "approved", "edited" or "sent back"
    revision: int  # the revision it concerns (for an edit: the one it made)
    note: str = ""  # why it was sent back


@dataclass(frozen=True, slots=True, kw_only=True)
class CommuniqueEvidence:
    """One group's communiqué: the text that was (or would be) sent, its checks and every review step."""

    group_id: str
    group_name: str
    revision: int
    review: ReviewState
    reviewed_by: str | None
    reviewed_at: datetime | None
    text: str
    sha256: str  # of the text's UTF-8 bytes
    checks: tuple[CheckResult, ...]  # the text's checks, run again on it at export (reach: see the deliveries)
    steps: tuple[ReviewStep, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptEvidence:
    """One receipt and the deadline of its group (its first send plus ``ack_within``)."""

    receipt: Receipt
    deadline: datetime | None  # None: the group asks for none, or nothing of it went out

    @property
    def late(self) -> bool:
        """Whether it came after the deadline (as ``status`` counts late ones)."""
        return self.deadline is not None and self.receipt.at > self.deadline


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidencePack:
    """Everything the ledger holds about one release, for an auditor."""

    version: str
    product: str
    state: ReleaseState
    generated_at: datetime
    plan: PlanEvidence
    milestones: tuple[Milestone, ...]
    communiques: tuple[CommuniqueEvidence, ...]
    trail: tuple[AuditEntry, ...]  # every step done, oldest first (acknowledgements are the receipts)
    deliveries: tuple[Delivery, ...]  # every one, communiqués, reminders and escalations, in insertion order
    receipts: tuple[ReceiptEvidence, ...]  # from the audience: counted
    outside: tuple[ReceiptEvidence, ...]  # from outside the audience: recorded, not counted
    refusals: tuple[AuditEntry, ...]
    status: StatusView  # the counts, exactly as ``herald status`` gives them
    deadlines: Mapping[str, datetime] = field(default_factory=dict)  # per group asking for receipts
    audit_head: str | None = None  # the hash of the release's last audit entry: its chain, verified, ends there
    audit_entries: int = 0  # how many entries that chain holds
    earlier_texts: tuple[EarlierText, ...] = ()  # each text a correction replaced, by group then revision
    # The subscriptions, as they stand now, of the places a ``subscribers:…`` destination reached for this release.
    subscriptions: tuple[Subscription, ...] = ()


async def evidence_pack(uow: UnitOfWork, plan: Plan, version: str, *, now: datetime) -> EvidencePack:
    """The evidence pack of release ``version``, read in ``uow``; ``now`` is when it is made.

    Raises:
        NotFound: the release was never announced.
        AuditChainBroken: its audit log does not verify as a hash chain; a broken one is never vouched for.
    """
    release = await uow.releases.get(version)
    if release is None:
        raise NotFound(f"Release {version} has not been announced, so there is no evidence to export.")
    entries = await uow.audit.for_release(version)
    chain = chain_report(entries)
    if chain.broken is not None:
        raise AuditChainBroken(version, chain)
    kept = await uow.releases.announced_plan(version)
    if kept is not None:
        plan_evidence = PlanEvidence(source=kept.source, sha256=kept.sha256, text=kept.text, as_announced=True)
    else:
        current = plan.snapshot()
        plan_evidence = PlanEvidence(
            source=plan.source,
            sha256=current.sha256 if current else None,
            text=current.text if current else None,
            as_announced=False,
        )
    went_out = await uow.deliveries.went_out(version)
    deadlines = {
        group.id: went_out[group.id] + group.ack_within
        for group in plan.groups
        if group.ack is not AckPolicy.NONE and group.id in went_out
    }
    receipts = [
        ReceiptEvidence(receipt=r, deadline=deadlines.get(r.group_id)) for r in await uow.receipts.for_release(version)
    ]
    deliveries = await uow.deliveries.for_release(version)
    return EvidencePack(
        version=release.version,
        product=release.product,
        state=release.state,
        generated_at=now,
        plan=plan_evidence,
        milestones=milestones(release),
        communiques=await asyncio.to_thread(_communiques, release, plan, entries),  # templates: off the loop
        trail=tuple(e for e in entries if e.outcome is Outcome.DONE and e.action != "acknowledge"),
        deliveries=tuple(deliveries),
        receipts=tuple(r for r in receipts if not r.receipt.outside),
        outside=tuple(r for r in receipts if r.receipt.outside),
        refusals=tuple(e for e in entries if e.outcome is Outcome.REFUSED),
        status=await count_status(uow, plan, release, names=True, now=now),
        deadlines=deadlines,
        audit_head=chain.head or None,
        audit_entries=chain.entries,
        earlier_texts=tuple(await uow.releases.earlier_texts(version)),
        subscriptions=tuple(await uow.subscriptions.of_media(sorted(_subscribed(deliveries)))),
    )


def _subscribed(deliveries: Iterable[Delivery]) -> set[str]:
    """The places reached through subscriptions."""
    return {d.target for d in deliveries if d.via.startswith(f"{Platform.SUBSCRIBERS.value}:")}


def milestones(release: Release) -> tuple[Milestone, ...]:
    """The release's own steps that were taken, in the order they happen."""
    steps: list[tuple[str, str | None, datetime | None]] = [
        ("announced", release.announced_by, release.announced_at),
        ("confirmed live", release.confirmed_by, release.confirmed_at),
        ("send requested", release.send_requested_by, release.send_requested_at),
        ("final approval", release.approved_by, release.approved_at),
        ("cancelled", release.cancelled_by, release.cancelled_at),
        ("sending completed", None, release.completed_at),
    ]
    return tuple(Milestone(step=step, actor=actor, at=at) for step, actor, at in steps if at is not None)


def _communiques(release: Release, plan: Plan, entries: Sequence[AuditEntry]) -> tuple[CommuniqueEvidence, ...]:
    groups = {g.id: g for g in plan.groups}
    steps = review_steps(entries, release.communiques)
    found: list[CommuniqueEvidence] = []
    for group_id, communique in release.communiques.items():
        group = groups.get(group_id)
        found.append(
            CommuniqueEvidence(
                group_id=group_id,
                group_name=group.name if group else group_id,
                revision=communique.revision,
                review=communique.review,
                reviewed_by=communique.reviewed_by,
                reviewed_at=communique.reviewed_at,
                text=communique.text,
                sha256=hashlib.sha256(communique.text.encode("utf-8")).hexdigest(),
                checks=tuple(content_checks(release, group, communique, plan)) if group else (),
                steps=tuple(steps[group_id]),
            )
        )
    return tuple(found)


def review_steps(entries: Iterable[AuditEntry], group_ids: Iterable[str]) -> dict[str, list[ReviewStep]]:
    """Per group, the review steps the audit log recorded (``bot.service.desk.review`` and ``.corrections``).

    Each communiqué starts at revision 1; an edit, or an approved correction, records the
    revision it made, and an approval or a send-back concerns the revision current then.
    """
    steps: dict[str, list[ReviewStep]] = {group_id: [] for group_id in group_ids}
    revision = dict.fromkeys(steps, 1)

    def add(group_id: str, entry: AuditEntry, step: str, note: str = "") -> None:
        if group_id in steps:
            steps[group_id].append(
                ReviewStep(at=entry.at, actor=entry.actor, step=step, revision=revision[group_id], note=note)
            )

    for entry in entries:
        if entry.outcome is not Outcome.DONE:
            continue
        if entry.action == "approve_communique" and ": correction by " in entry.detail:
            # "support revision 2: correction by dana approved; 300 copies to correct; ..."
            group_id, _, rest = entry.detail.partition(" revision ")
            number, _, note = rest.partition(": ")
            if group_id in revision and number.isdigit():
                revision[group_id] = int(number)
                add(group_id, entry, "correction approved", note)
        elif entry.action == "approve_communique":  # "approved engineering, support"
            for group_id in entry.detail.removeprefix("approved ").split(", "):
                add(group_id, entry, "approved")
        elif entry.action == "correct_communique":  # "support: correction proposed"
            add(entry.detail.partition(": ")[0], entry, "correction proposed")
        elif entry.action == "edit_communique":  # "engineering revision 2"
            group_id, _, number = entry.detail.rpartition(" revision ")
            if group_id in revision and number.isdigit():
                revision[group_id] = int(number)
                add(group_id, entry, "edited")
        elif entry.action == "send_back_communique":  # "engineering: the reason", or "engineering"
            group_id, _, reason = entry.detail.partition(": ")
            add(group_id, entry, "sent back", reason)
    return steps
