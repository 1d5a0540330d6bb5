"""The ledger's ports: the repositories of releases, deliveries, receipts and the audit log, in one unit of work.

Implemented by ``storage.repositories`` (SQLite, PostgreSQL) and ``storage.memory`` (the twin).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bot.domain.audit import AuditEntry
from bot.domain.communique import EarlierText
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind
from bot.domain.plan import PlanSnapshot, ReceiptLevel
from bot.domain.receipt import Receipt, ReceiptSource
from bot.domain.release import Release
from bot.domain.subscriptions import Subscription


class ConcurrentUpdate(Exception):
    """Another writer changed the release since it was read; the caller retries."""


class ReleaseRepository(Protocol):
    """Releases and their communiqués, saved whole."""

    async def get(self, version: str) -> Release | None:
        """The release, or None."""
        ...

    async def add(self, release: Release) -> None:
        """Store a new release. Raises ConcurrentUpdate if the version exists."""
        ...

    async def save(self, release: Release) -> None:
        """Store changes, bumping ``release.revision``.

        Raises ConcurrentUpdate when the stored revision is not the one that was read.
        """
        ...

    async def versions(self) -> list[str]:
        """Every release version announced, in no particular order."""
        ...

    async def in_state(self, state: str) -> list[Release]:
        """Releases in that state, oldest first."""
        ...

    async def keep_plan(self, version: str, plan: PlanSnapshot) -> None:
        """Keep the plan a release is announced under, once, beside the release just added.

        Never changed afterwards; a second call for the same version keeps the first.
        """
        ...

    async def announced_plan(self, version: str) -> PlanSnapshot | None:
        """The plan ``version`` was announced under; None when none was kept (announced before 0009)."""
        ...

    async def keep_earlier(self, version: str, earlier: EarlierText) -> None:
        """Keep a text a correction replaced (once: a second call for that revision keeps the first)."""
        ...

    async def earlier_texts(self, version: str) -> list[EarlierText]:
        """The texts corrections replaced, by group, then revision."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryCount:
    """How many deliveries of a release have one group, purpose and status."""

    group_id: str
    purpose: Purpose
    status: DeliveryStatus
    count: int


@dataclass(frozen=True, slots=True)
class DeliveryTotal:
    """How many deliveries, over every release, go through one medium and have one status."""

    medium: str  # the target's platform: "slack", "email", ...
    status: DeliveryStatus
    count: int


class DeliveryRepository(Protocol):
    """The delivery ledger."""

    async def add_new(self, deliveries: Sequence[Delivery]) -> int:
        """Insert the deliveries whose key is not stored yet; return how many were inserted."""
        ...

    async def get(self, key: str) -> Delivery | None:
        """The delivery with that idempotency key."""
        ...

    async def for_release(self, version: str) -> list[Delivery]:
        """Every delivery of a release, in insertion order."""
        ...

    async def by_message_ref(self, ref: str) -> Delivery | None:
        """The delivery whose sent message has that platform reference."""
        ...

    async def by_message_refs(self, refs: Sequence[str]) -> dict[str, Delivery]:
        """``by_message_ref`` for many references at once; a reference nothing was sent as is left out."""
        ...

    async def in_status(self, status: DeliveryStatus) -> list[Delivery]:
        """Every delivery in that status."""
        ...

    async def counts(self, version: str) -> list[DeliveryCount]:
        """How many deliveries of a release there are per group, purpose and status (none: not listed)."""
        ...

    async def totals(self) -> list[DeliveryTotal]:
        """How many deliveries there are per medium and status over every release (none: not listed).

        For monitoring: one aggregate query, read at each scrape, never the rows themselves.
        """
        ...

    async def failed(self, version: str) -> list[Delivery]:
        """The failed deliveries of a release, in insertion order."""
        ...

    async def cancel_pending(self, version: str, why: str, now: datetime) -> int:
        """Cancel every pending delivery of the release (claimed ones are left to finish); how many."""
        ...

    async def copies(self, version: str, group_id: str) -> list[Delivery]:
        """The group's communiqué copies that have not failed (sent, or still to go), in insertion order."""
        ...

    async def of_kind(self, version: str, kind: Kind) -> list[Delivery]:
        """The deliveries of a release to targets of one kind (e.g. every mailbox), in insertion order."""
        ...

    async def went_out(self, version: str) -> dict[str, datetime]:
        """Per group, when the first delivery of its communiqué was sent (a group with none sent: absent)."""
        ...

    async def recent_sends(self, version: str, limit: int) -> list[datetime]:
        """When the last ``limit`` deliveries of a release were sent, oldest first."""
        ...

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Up to ``limit`` deliveries a worker may claim now (see ``Delivery.claimable``), oldest first."""
        ...

    async def claim(self, keys: Sequence[str], now: datetime, until: datetime, owner: str) -> list[Delivery]:
        """Lease those of ``keys`` that are still claimable to ``owner`` until ``until``.

        Returns the deliveries claimed (status sending, attempts + 1). A key another
        worker holds, or that has settled meanwhile, is left out: two workers never
        both get one. On PostgreSQL rows locked by another claim are skipped, not waited for.
        """
        ...

    async def renew(self, keys: Sequence[str], owner: str, until: datetime) -> set[str]:
        """Extend ``owner``'s lease to ``until`` on those of ``keys`` it still holds; return those keys.

        A key left out was lost: it settled, or its lease ran out and another claim took it.
        A lease that ran out but that nobody claimed since is still ``owner``'s, and renewed.
        """
        ...

    async def start(self, key: str, owner: str, at: datetime) -> bool:
        """Note, before the platform is called, that ``owner`` is sending ``key`` from ``at`` on.

        The delivery is then in doubt (``in_doubt_since``, the earliest such moment kept) until
        an outcome is settled. Returns False when ``owner`` no longer holds the lease: do not send.
        """
        ...

    async def settle(self, delivery: Delivery, owner: str) -> bool:
        """Store the outcome of a claimed delivery if ``owner`` still holds its lease.

        Returns False when the lease was lost (it ran out and another worker took the
        delivery); the outcome is then not stored.
        """
        ...

    async def update(self, delivery: Delivery) -> None:
        """Store the delivery as given (for a person's retry; the send loop uses ``settle``)."""
        ...

    async def next_due(self, now: datetime) -> datetime | None:
        """When the next delivery becomes claimable after ``now`` (a retry or a lease running out)."""
        ...


class ReceiptRepository(Protocol):
    """Acknowledgements, one per person per group's communiqué."""

    async def add(self, receipt: Receipt) -> bool:
        """Record a receipt; False when that person had already acknowledged."""
        ...

    async def add_all(self, receipts: Sequence[Receipt]) -> list[bool]:
        """Record many receipts at once; for each, whether it was new.

        A receipt repeated within ``receipts`` counts once, for its first occurrence.
        """
        ...

    async def for_release(self, version: str) -> list[Receipt]:
        """Every receipt of a release, oldest first."""
        ...

    async def get(self, version: str, group_id: str, person: str) -> Receipt | None:
        """That person's receipt of that group's communiqué, if they gave one."""
        ...

    async def counts(self, version: str) -> dict[str, int]:
        """How many people acknowledged each group's communiqué (a group nobody acknowledged: absent).

        Receipts from outside the audience (``Receipt.outside``) are not counted here, nor
        in ``count_for``, ``count_after``, ``expected`` and ``waiting``.
        """
        ...

    async def outside_counts(self, version: str) -> dict[str, int]:
        """Per group, how many people outside its audience acknowledged it (none: absent)."""
        ...

    async def totals(self) -> dict[ReceiptSource, int]:
        """How many receipts are recorded per source over every release, outside ones included (none: absent).

        For monitoring, as ``DeliveryRepository.totals``.
        """
        ...

    async def is_meant_for(self, version: str, group_id: str, person: str) -> bool:
        """Whether ``person`` is in the audience of one of that group's communiqué deliveries that did not fail."""
        ...

    async def count_for(self, version: str, group_id: str, delivery_key: str) -> int:
        """How many receipts of that group were given on the delivery ``delivery_key``."""
        ...

    async def count_after(self, version: str, group_id: str, moment: datetime) -> int:
        """How many receipts of that group came after ``moment`` (its deadline: late ones)."""
        ...

    async def supersede(self, version: str, group_id: str, revision: int) -> int:
        """Mark the group's current receipts as acknowledging ``revision``, which a correction replaced.

        They are kept, and no longer counted: the group is asked to acknowledge the new text.
        Returns how many were marked.
        """
        ...

    async def per_revision(self, version: str) -> dict[str, dict[int, int]]:
        """Per group, how many acknowledged each text a correction replaced (counted from inside only)."""
        ...

    async def expected(self, version: str) -> dict[str, int]:
        """Per group, how many people its communiqué was meant for.

        They are the audiences of the group's communiqué deliveries that did not fail, and
        anyone who acknowledged it from inside (on a delivery whose audience was not
        listed), each person once.
        """
        ...

    async def waiting(self, version: str, levels: Mapping[str, ReceiptLevel] | None = None) -> dict[str, list[str]]:
        """Per group, the people its communiqué deliveries that did not fail were meant for who have not met
        the group's level (``levels``; a group it leaves out: acknowledged), sorted (nobody waiting: absent).

        An acknowledgement meets every level, a read receipt ``read``, a copy sent ``delivered``.
        """
        ...

    async def met_counts(self, version: str) -> dict[str, dict[ReceiptLevel, int]]:
        """Per group, how many people met ``delivered`` and ``read`` (acknowledged: ``counts``)."""
        ...


class AuditLog(Protocol):
    """Append-only record of every step and refusal; each release's entries form a hash chain.

    Implementers link each entry after the last one of its chain (``bot.domain.audit.chained``,
    ignoring any ``prev_hash`` and ``hash`` it comes with) in the same transaction, so that
    two appends to one release at the same moment follow one another and never fork it.
    Callers append after their other writes, just before commit: the release's chain may
    stay locked until the transaction ends.
    """

    async def append(self, entry: AuditEntry) -> None:
        """Add an entry, linked into its release's chain. Entries are never changed or removed."""
        ...

    async def extend(self, entries: Sequence[AuditEntry]) -> None:
        """Add entries, in order, each linked into its release's chain (one statement for many)."""
        ...

    async def for_release(self, version: str) -> list[AuditEntry]:
        """The entries about one release, oldest first: its chain, with ``prev_hash`` and ``hash``."""
        ...


class SubscriptionRepository(Protocol):
    """Who subscribed to hear of releases, and where: one row per place and component."""

    async def put(self, subscription: Subscription) -> Subscription | None:
        """Store it, replacing the place's subscription to the same component; the one replaced, if any."""
        ...

    async def remove(self, medium: str, components: Sequence[str] | None = None) -> list[Subscription]:
        """Remove the place's subscriptions to ``components`` (None: every one); those removed."""
        ...

    async def get(self, key: str) -> Subscription | None:
        """The subscription with that key (``Subscription.key``), or None."""
        ...

    async def of_media(self, media: Sequence[str]) -> list[Subscription]:
        """The subscriptions of these places, by place and component."""
        ...

    async def everyone(self, *, confirmed: bool = True) -> list[Subscription]:
        """Every subscription (``confirmed`` False: those waiting for their link too), by place and component."""
        ...

    async def confirm(self, key: str) -> Subscription | None:
        """Mark a waiting subscription confirmed; it as it is now (None: there is no such subscription)."""
        ...

    async def forget_unconfirmed(self, before: datetime) -> int:
        """Remove the subscriptions still waiting for their link that were asked for before ``before``; how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Rolls back unless committed."""

    @property
    def releases(self) -> ReleaseRepository: ...

    @property
    def deliveries(self) -> DeliveryRepository: ...

    @property
    def receipts(self) -> ReceiptRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Make everything done in this unit of work durable."""
        ...

    async def rollback(self) -> None:
        """Discard everything done since the last commit."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
