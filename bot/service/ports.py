"""The ports: one small Protocol per outside capability.

Storage, platforms and time plug in here. Each has an in-memory twin shipped beside
the real one (``storage.memory``, ``adapters.shell``, ``bot.service.clock.FixedClock``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from bot.domain.audit import AuditEntry
from bot.domain.budgets import UNLIMITED, Limits
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import DeliveryError
from bot.domain.plan import AckPolicy
from bot.domain.receipt import Receipt, ReceiptSource
from bot.domain.release import Release


class Clock(Protocol):
    """Where time comes from."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


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

    async def in_state(self, state: str) -> list[Release]:
        """Releases in that state, oldest first."""
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

    async def expected(self, version: str) -> dict[str, int]:
        """Per group, how many people its communiqué was meant for.

        They are the audiences of the group's communiqué deliveries that did not fail, and
        anyone who acknowledged it from inside (on a delivery whose audience was not
        listed), each person once.
        """
        ...

    async def waiting(self, version: str) -> dict[str, list[str]]:
        """Per group, the people its communiqué deliveries that did not fail were meant for who have
        not acknowledged it, sorted (a group with nobody waiting: absent)."""
        ...


class AuditLog(Protocol):
    """Append-only record of every step and refusal."""

    async def append(self, entry: AuditEntry) -> None:
        """Add an entry. Entries are never changed or removed."""
        ...

    async def extend(self, entries: Sequence[AuditEntry]) -> None:
        """Add entries, in order (one statement for many)."""
        ...

    async def for_release(self, version: str) -> list[AuditEntry]:
        """The entries about one release, oldest first."""
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


class BudgetStore(Protocol):
    """Token buckets shared by every Herald process on one database (the workspace ceilings).

    Each call is its own short transaction; implementers serialise concurrent takers
    (a row lock on PostgreSQL, the single writer on SQLite).
    """

    async def take(self, bucket: str, *, now: datetime, rate: float, burst: float) -> float:
        """Take one token from ``bucket`` (refilled at ``rate`` per second, holding at most ``burst``).

        Returns 0.0 when a token was taken; otherwise the seconds until one will be
        there (or until the bucket's block ends), and nothing is taken.
        """
        ...

    async def reserve(
        self, bucket: str, *, now: datetime, rate: float, burst: float, within: float
    ) -> tuple[bool, float]:
        """Take the next token of ``bucket`` if it will be there within ``within`` seconds.

        Returns ``(True, wait)`` when it was taken: the caller may spend it ``wait``
        seconds from ``now`` (0.0: at once), and the next taker is scheduled after it,
        so a taker's own lateness costs the bucket nothing. Otherwise ``(False, wait)``:
        nothing was taken, and ``wait`` seconds from ``now`` the token will be within
        reach (or the bucket's block ends). ``within=0`` is ``take``.
        """
        ...

    async def block(self, bucket: str, until: datetime) -> None:
        """Give no token from ``bucket`` before ``until`` (a platform's Retry-After), to any process."""
        ...

    async def blocked(self, bucket: str, *, now: datetime) -> float:
        """Seconds from ``now`` until the bucket's block ends (0.0: not blocked). Reads only."""
        ...


@dataclass(frozen=True, slots=True)
class Target:
    """A concrete place to send one message, and who is expected to acknowledge it."""

    destination: str
    kind: Kind
    audience: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a plan destination expands to.

    ``problem`` is set when the destination cannot be reached (no targets then);
    ``transient`` when that may pass (the platform was rate limiting or did not answer),
    so it is looked up again rather than recorded as a failure; ``note`` says anything
    else a person should know (e.g. "simulated locally").
    """

    destination: Destination
    targets: tuple[Target, ...]
    problem: str | None = None
    note: str | None = None
    transient: bool = False

    @classmethod
    def failed(cls, destination: Destination, error: DeliveryError) -> Resolution:
        """The destination could not be looked up: a problem for good, or one that may pass."""
        return cls(destination, (), problem=str(error), transient=not error.permanent)


class Directory(Protocol):
    """Expands plan destinations (channels, user groups, roles) into targets and people."""

    async def resolve(self, destination: Destination) -> Resolution:
        """Resolve one destination. Never raises for an unreachable one: set ``problem``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """One communiqué on its way to one target."""

    delivery_key: str
    version: str
    product: str
    group_id: str
    group_name: str
    target: str
    kind: Kind
    text: str
    ack: AckPolicy
    purpose: Purpose = Purpose.COMMUNIQUE
    attempt: int = 1
    allow_mentions: bool = False  # the group lets @channel/@here through; otherwise adapters neutralise them
    subject: str = ""  # for media with a subject line (e-mail): the group's, rendered, one line
    read_receipt: bool = False  # e-mail: ask the reader's client for a read receipt (RFC 8098)


class Messenger(Protocol):
    """Sends communiqués on one platform."""

    async def send(self, message: OutgoingMessage) -> str:
        """Deliver the message and return the platform's reference to it.

        Raises:
            RetryableDeliveryError: the platform may accept it later.
            PermanentDeliveryError: it never will.
        Implementers need not deduplicate: the ledger never sends a key twice.
        """
        ...


@runtime_checkable
class Reconciler(Protocol):
    """A messenger that can tell whether a message it may have sent is on the platform."""

    async def find(self, message: OutgoingMessage, since: datetime) -> str | None:
        """The reference of the message with ``message.delivery_key`` posted since ``since``, or None.

        None means the platform was asked and has no such message, so sending it is safe.

        Raises:
            RetryableDeliveryError: ask again later (a 429, a time-out: never a reason to send blind).
            PermanentDeliveryError: the platform cannot be asked here (a missing scope, a channel
                left); the caller sends again unverified and says so.
        """
        ...


@dataclass(frozen=True, slots=True)
class PlatformLink:
    """A configured platform: how to expand its destinations, send to them, and how fast."""

    directory: Directory
    messenger: Messenger
    simulated: bool = False
    limits: Limits = UNLIMITED
