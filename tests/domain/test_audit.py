"""The audit log's hash chain: how an entry is hashed, how a chain is linked, and what verifying it finds."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain.audit import (
    GENESIS,
    AuditEntry,
    BrokenLink,
    Flaw,
    Outcome,
    chain_report,
    chained,
    entry_hash,
    verify_chain,
)
from bot.domain.errors import AuditChainBroken

T0 = datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)


def _entry(action: str, *, minutes: int = 0, version: str | None = "2.4", detail: str = "") -> AuditEntry:
    return AuditEntry(
        at=T0 + timedelta(minutes=minutes),
        actor="shell:deployer",
        action=action,
        version=version,
        outcome=Outcome.DONE,
        detail=detail,
    )


def _chain(length: int = 4) -> list[AuditEntry]:
    return chained(_entry(f"step_{i}", minutes=i) for i in range(length))


def test_the_hash_is_sha256_over_the_documented_encoding() -> None:
    """An entry's hash is SHA-256 of the JSON array the module docstring spells out, byte for byte."""
    entry = _entry("announce_release", detail="Zoë's “notes”\n")
    encoded = (
        '["herald-audit-v1","","2025-03-14T09:30:15.123456+00:00","shell:deployer","announce_release",'
        '"2.4","done","Zoë\'s “notes”\\n"]'
    )

    assert entry_hash(entry, GENESIS) == hashlib.sha256(encoded.encode()).hexdigest()


def test_an_entry_about_no_release_hashes_its_version_as_null() -> None:
    """A version of None is encoded as null, so it never hashes like a release named by an empty string."""
    entry = _entry("show_help", version=None)
    encoded = '["herald-audit-v1","","2025-03-14T09:30:15.123456+00:00","shell:deployer","show_help",null,"done",""]'

    assert entry_hash(entry, GENESIS) == hashlib.sha256(encoded.encode()).hexdigest()


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    """Time is hashed in UTC, so an entry read back from the database hashes as it was written."""
    entry = _entry("announce_release")
    elsewhere = replace(entry, at=entry.at.astimezone(timezone(timedelta(hours=-5))))

    assert entry_hash(elsewhere, GENESIS) == entry_hash(entry, GENESIS)


def test_a_naive_time_is_refused() -> None:
    """An entry whose time has no zone cannot be hashed: it names no instant."""
    with pytest.raises(ValueError, match="timezone-aware"):
        entry_hash(replace(_entry("x"), at=T0.replace(tzinfo=None)), GENESIS)


def test_every_recorded_field_and_the_previous_hash_change_the_hash() -> None:
    """Changing any recorded field, or the hash before, gives another hash."""
    entry = _entry("approve_release", detail="ok")
    variants = [
        replace(entry, at=entry.at + timedelta(microseconds=1)),
        replace(entry, actor="shell:mallory"),
        replace(entry, action="cancel_release"),
        replace(entry, version="2.5"),
        replace(entry, version=None),
        replace(entry, outcome=Outcome.REFUSED),
        replace(entry, detail="ok "),
    ]
    hashes = {entry_hash(entry, GENESIS), entry_hash(entry, "0" * 64), *(entry_hash(v, GENESIS) for v in variants)}

    assert len(hashes) == 2 + len(variants)


def test_chaining_links_each_entry_to_the_one_before_it() -> None:
    """The first entry starts at the genesis value; each next one's prev_hash is the hash before it."""
    chain = _chain(3)

    assert [e.prev_hash for e in chain] == [GENESIS, chain[0].hash, chain[1].hash]
    assert all(e.hash == entry_hash(e, e.prev_hash) for e in chain)


def test_chaining_keeps_each_release_in_its_own_chain() -> None:
    """Mixed entries each follow the last one of their own release; a given head continues its chain."""
    before = _chain(1)[0]
    mixed = chained(
        [_entry("a", version="2.5"), _entry("b"), _entry("c", version=None), _entry("d", version="2.5")],
        {"2.4": before.hash},
    )

    assert [e.prev_hash for e in mixed] == [GENESIS, before.hash, GENESIS, mixed[0].hash]


def test_an_untouched_chain_verifies() -> None:
    """A chain as it was linked has no broken link; its head is its last hash."""
    chain = _chain()

    assert verify_chain(chain) is None
    report = chain_report(chain)
    assert (report.intact, report.entries, report.head) == (True, 4, chain[-1].hash)


def test_an_empty_chain_is_intact_with_the_genesis_head() -> None:
    """Nothing recorded: nothing broken, no entries, the head is the genesis value."""
    assert chain_report([]) == chain_report(())
    assert (chain_report([]).intact, chain_report([]).entries, chain_report([]).head) == (True, 0, GENESIS)


def test_a_changed_entry_is_named_as_altered() -> None:
    """Editing an entry's content makes its own hash wrong: that entry is the first broken link."""
    chain = _chain()
    chain[2] = replace(chain[2], detail="nothing to see")

    assert verify_chain(chain) == BrokenLink(3, chain[2], Flaw.ALTERED)


def test_a_changed_entry_with_its_hash_redone_breaks_the_next_link() -> None:
    """Rehashing an edited entry moves the break to the entry after it, whose prev_hash no longer matches."""
    chain = _chain()
    forged = replace(chain[1], actor="shell:lead")
    chain[1] = replace(forged, hash=entry_hash(forged, forged.prev_hash))

    assert verify_chain(chain) == BrokenLink(3, chain[2], Flaw.UNLINKED)


@pytest.mark.parametrize(
    ("tamper", "position"),
    [
        (lambda chain: chain[:1] + chain[2:], 2),  # one removed
        (lambda chain: [chain[1], chain[0], *chain[2:]], 1),  # two swapped
        (lambda chain: chain[1:], 1),  # the first removed
        (lambda chain: [*chain[:2], *chained([_entry("forged")]), *chain[2:]], 3),  # one added
    ],
    ids=["removed", "reordered", "first-removed", "inserted"],
)
def test_removing_reordering_or_inserting_entries_breaks_the_chain_there(
    tamper: Callable[[list[AuditEntry]], list[AuditEntry]], position: int
) -> None:
    """An entry removed, moved or slipped in leaves an entry whose prev_hash does not match the one before."""
    broken = verify_chain(tamper(_chain()))

    assert broken is not None
    assert (broken.position, broken.flaw) == (position, Flaw.UNLINKED)


def test_removing_the_newest_entries_is_not_seen_by_the_chain_alone() -> None:
    """Cutting the tail leaves a shorter intact chain: only a head kept elsewhere shows it (the known limit)."""
    chain = _chain()

    assert verify_chain(chain[:-1]) is None
    assert chain_report(chain[:-1]).head != chain_report(chain).head


def test_the_broken_chain_error_names_the_entry_and_why() -> None:
    """The sentence gives the position, the time, who, what, and the reason."""
    chain = _chain()
    chain[1] = replace(chain[1], detail="edited")

    message = str(AuditChainBroken("2.4", chain_report(chain)))

    assert message == (
        "The audit log of 2.4 is broken at entry 2 of 4 (2025-03-14 09:31:15.123456 UTC, shell:deployer, step_1, "
        "done): its hash does not match its content: it was changed after it was written."
    )
