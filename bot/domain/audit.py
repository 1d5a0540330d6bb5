"""The append-only audit log: who did what, when, and whether it was allowed.

The entries of one release form a hash chain (entries about no release form the chain
``""``): each entry's ``hash`` is SHA-256 over its recorded fields and its ``prev_hash``,
which is the ``hash`` of the entry before it in the same chain, or ``GENESIS`` (the empty
string) for the first. Changing, removing, inserting or reordering entries breaks the
chain at the first entry touched, and ``verify_chain`` names it. Rewriting a whole chain
from the changed entry to its end does not break it: the head (the last entry's hash),
exported and kept elsewhere, is what shows that.

The encoding (``ENCODING``, version 1) is the JSON array, UTF-8, without whitespace::

    ["herald-audit-v1", prev_hash, at, actor, action, version, outcome, detail]

``at`` in UTC as ISO 8601 with microseconds (``2025-03-14T09:30:15.123456+00:00``),
``version`` null for an entry about no release. Every element is a string or null, so
that text is also its RFC 8785 (JCS) canonical form: any JSON library can redo it. A
later encoding would change the tag, so no two encodings ever hash the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

ENCODING = "herald-audit-v1"
GENESIS = ""
"""The ``prev_hash`` of the first entry of every chain."""


class Outcome(StrEnum):
    """Whether the step happened."""

    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One recorded step.

    ``prev_hash`` and ``hash`` are empty until the audit log appends the entry and links
    it into its release's chain (see ``linked``); entries read back carry both.
    """

    at: datetime
    actor: str
    action: str
    version: str | None
    outcome: Outcome
    detail: str = ""
    prev_hash: str = ""
    hash: str = ""


def chain_of(version: str | None) -> str:
    """The chain an entry about ``version`` belongs to: the version, or ``""`` for none."""
    return version or ""


def entry_hash(entry: AuditEntry, prev: str) -> str:
    """SHA-256 (hex) of the entry's recorded fields after ``prev`` (its own hash fields are not read).

    Raises:
        ValueError: for a naive ``at``, which names no instant.
    """
    if entry.at.utcoffset() is None:
        raise ValueError(f"an audit entry needs a timezone-aware time, not {entry.at.isoformat()}")
    fields = [
        ENCODING,
        prev,
        entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        entry.actor,
        entry.action,
        entry.version,
        entry.outcome.value,
        entry.detail,
    ]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def linked(entry: AuditEntry, prev: str) -> AuditEntry:
    """``entry`` as the link after the one whose hash is ``prev``: ``prev_hash`` and ``hash`` filled in."""
    return replace(entry, prev_hash=prev, hash=entry_hash(entry, prev))


def chained(entries: Iterable[AuditEntry], heads: Mapping[str, str] | None = None) -> list[AuditEntry]:
    """The entries linked in order, each after the one before it in its own chain.

    ``heads`` gives the hash each chain ends with so far (by ``chain_of``); a chain it
    does not name starts at ``GENESIS``.
    """
    ends = dict(heads or {})
    done: list[AuditEntry] = []
    for entry in entries:
        chain = chain_of(entry.version)
        done.append(linked(entry, ends.get(chain, GENESIS)))
        ends[chain] = done[-1].hash
    return done


class Flaw(StrEnum):
    """Why a link of the chain is broken."""

    ALTERED = "altered"
    """Its hash does not match its content: the entry was changed after it was written."""
    UNLINKED = "unlinked"
    """Its prev_hash is not the hash of the entry before it: an entry was removed, added or moved."""


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first entry at which a chain does not hold, and why."""

    position: int
    """1 for the oldest entry of the chain."""
    entry: AuditEntry
    flaw: Flaw


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What verifying one release's chain found."""

    entries: int
    head: str
    """The last entry's hash as stored (``GENESIS`` for an empty chain): what an evidence pack keeps."""
    broken: BrokenLink | None = None

    @property
    def intact(self) -> bool:
        """Whether every entry matches its content and follows the one before it."""
        return self.broken is None


def verify_chain(entries: Sequence[AuditEntry]) -> BrokenLink | None:
    """The first broken link of one chain, given oldest first; None when it holds throughout."""
    prev = GENESIS
    for position, entry in enumerate(entries, start=1):
        if entry.hash != entry_hash(entry, entry.prev_hash):
            return BrokenLink(position, entry, Flaw.ALTERED)
        if entry.prev_hash != prev:
            return BrokenLink(position, entry, Flaw.UNLINKED)
        prev = entry.hash
    return None


def chain_report(entries: Sequence[AuditEntry]) -> ChainReport:
    """Verify one chain, oldest first, and give its length and head."""
    head = entries[-1].hash if entries else GENESIS
    return ChainReport(entries=len(entries), head=head, broken=verify_chain(entries))
