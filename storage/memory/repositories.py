"""The in-memory twins of the repositories: releases, deliveries, receipts and the audit log.

Each write goes straight to the ``MemoryStore`` and notes in the unit of work's journal how to undo it.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial

from bot.domain.audit import GENESIS, AuditEntry, chain_of, chained
from bot.domain.communique import EarlierText
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind
from bot.domain.plan import PlanSnapshot, ReceiptLevel
from bot.domain.receipt import Receipt, ReceiptSource
from bot.domain.release import Release
from bot.service.ports import ConcurrentUpdate, DeliveryCount, DeliveryTotal
from storage.memory.store import MemoryStore, Undo


class _Releases:
    def __init__(self, data: MemoryStore, undo: Undo) -> None:
        self._data, self._undo = data, undo

    def _put(self, release: Release) -> None:
        previous = self._data.releases.get(release.version)
        self._data.releases[release.version] = copy.deepcopy(release)
        if previous is None:
            self._undo.append(lambda: self._data.releases.pop(release.version, None))
        else:
            self._undo.append(lambda: self._data.releases.__setitem__(release.version, previous))

    async def get(self, version: str) -> Release | None:
        release = self._data.releases.get(version)
        return copy.deepcopy(release) if release else None

    async def add(self, release: Release) -> None:
        if release.version in self._data.releases:
            raise ConcurrentUpdate(release.version)
        release.revision = 1
        self._put(release)

    async def save(self, release: Release) -> None:
        stored = self._data.releases.get(release.version)
        if stored is None or stored.revision != release.revision:
            raise ConcurrentUpdate(release.version)
        release.revision += 1
        self._put(release)

    async def versions(self) -> list[str]:
        return list(self._data.releases)

    async def in_state(self, state: str) -> list[Release]:
        found = [r for r in self._data.releases.values() if r.state.value == state]
        return [copy.deepcopy(r) for r in sorted(found, key=lambda r: r.announced_at)]

    async def keep_plan(self, version: str, plan: PlanSnapshot) -> None:
        if version not in self._data.plans:
            self._data.plans[version] = plan
            self._undo.append(lambda: self._data.plans.pop(version, None))

    async def announced_plan(self, version: str) -> PlanSnapshot | None:
        return self._data.plans.get(version)

    async def keep_earlier(self, version: str, earlier: EarlierText) -> None:
        key = (version, earlier.group_id, earlier.revision)
        if key not in self._data.earlier:
            self._data.earlier[key] = earlier
            self._undo.append(lambda: self._data.earlier.pop(key, None))

    async def earlier_texts(self, version: str) -> list[EarlierText]:
        return [e for (v, _g, _r), e in sorted(self._data.earlier.items()) if v == version]


class _Deliveries:
    def __init__(self, data: MemoryStore, undo: Undo) -> None:
        self._data, self._undo = data, undo

    def _put(self, delivery: Delivery) -> None:
        previous = self._data.deliveries.get(delivery.key)
        self._data.deliveries[delivery.key] = delivery
        if previous is None:
            self._undo.append(lambda: self._data.deliveries.pop(delivery.key, None))
        else:
            self._undo.append(lambda: self._data.deliveries.__setitem__(delivery.key, previous))

    async def add_new(self, deliveries: Sequence[Delivery]) -> int:
        added = 0
        for delivery in deliveries:
            if delivery.key not in self._data.deliveries:
                self._put(delivery)
                added += 1
        return added

    async def get(self, key: str) -> Delivery | None:
        return self._data.deliveries.get(key)

    async def for_release(self, version: str) -> list[Delivery]:
        return [d for d in self._data.deliveries.values() if d.version == version]

    async def by_message_ref(self, ref: str) -> Delivery | None:
        return next((d for d in self._data.deliveries.values() if d.message_ref == ref), None)

    async def by_message_refs(self, refs: Sequence[str]) -> dict[str, Delivery]:
        wanted = set(refs)
        found: dict[str, Delivery] = {}
        for delivery in self._data.deliveries.values():
            if delivery.message_ref in wanted:
                found.setdefault(delivery.message_ref, delivery)
        return found

    async def in_status(self, status: DeliveryStatus) -> list[Delivery]:
        return [d for d in self._data.deliveries.values() if d.status is status]

    async def counts(self, version: str) -> list[DeliveryCount]:
        mine = [d for d in self._data.deliveries.values() if d.version == version]
        counted = Counter((d.group_id, d.purpose, d.status) for d in mine)
        return [DeliveryCount(group, purpose, status, n) for (group, purpose, status), n in counted.items()]

    async def totals(self) -> list[DeliveryTotal]:
        counted = Counter((d.to.platform.value, d.status) for d in self._data.deliveries.values())
        return [DeliveryTotal(medium, status, n) for (medium, status), n in counted.items()]

    async def cancel_pending(self, version: str, why: str, now: datetime) -> int:
        pending = [
            d for d in self._data.deliveries.values() if d.version == version and d.status is DeliveryStatus.PENDING
        ]
        for delivery in pending:
            self._put(delivery.cancelled(why, now))
        return len(pending)

    async def copies(self, version: str, group_id: str) -> list[Delivery]:
        return [
            d
            for d in self._data.deliveries.values()
            if d.version == version
            and d.group_id == group_id
            and d.purpose is Purpose.COMMUNIQUE
            and d.status not in (DeliveryStatus.FAILED, DeliveryStatus.UNREACHABLE)
        ]

    async def failed(self, version: str) -> list[Delivery]:
        return [d for d in self._data.deliveries.values() if d.version == version and d.status is DeliveryStatus.FAILED]

    async def of_kind(self, version: str, kind: Kind) -> list[Delivery]:
        return [d for d in self._data.deliveries.values() if d.version == version and d.kind is kind]

    async def went_out(self, version: str) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for d in self._data.deliveries.values():
            sent = d.version == version and d.purpose is Purpose.COMMUNIQUE and d.status is DeliveryStatus.SENT
            if sent and d.sent_at is not None and (d.group_id not in found or d.sent_at < found[d.group_id]):
                found[d.group_id] = d.sent_at
        return found

    async def recent_sends(self, version: str, limit: int) -> list[datetime]:
        sent = sorted(d.sent_at for d in self._data.deliveries.values() if d.version == version and d.sent_at)
        return sent[-limit:] if limit > 0 else []

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        return [d for d in self._data.deliveries.values() if d.claimable(now)][:limit]

    async def claim(self, keys: Sequence[str], now: datetime, until: datetime, owner: str) -> list[Delivery]:
        claimed: list[Delivery] = []
        for key in keys:
            delivery = self._data.deliveries.get(key)
            if delivery is not None and delivery.claimable(now):
                leased = delivery.leased(owner, until, now)
                self._put(leased)
                claimed.append(leased)
        return claimed

    async def renew(self, keys: Sequence[str], owner: str, until: datetime) -> set[str]:
        renewed: set[str] = set()
        for key in keys:
            stored = self._data.deliveries.get(key)
            if stored is not None and stored.status is DeliveryStatus.SENDING and stored.lease_owner == owner:
                self._put(replace(stored, leased_until=until))
                renewed.add(key)
        return renewed

    async def start(self, key: str, owner: str, at: datetime) -> bool:
        stored = self._data.deliveries.get(key)
        if stored is None or stored.status is not DeliveryStatus.SENDING or stored.lease_owner != owner:
            return False
        self._put(replace(stored, in_doubt_since=stored.in_doubt_since or at))
        return True

    async def settle(self, delivery: Delivery, owner: str) -> bool:
        stored = self._data.deliveries.get(delivery.key)
        if stored is None or stored.status is not DeliveryStatus.SENDING or stored.lease_owner != owner:
            return False
        self._put(delivery)
        return True

    async def update(self, delivery: Delivery) -> None:
        if delivery.key not in self._data.deliveries:
            raise KeyError(delivery.key)
        self._put(delivery)

    async def next_due(self, now: datetime) -> datetime | None:
        times = [
            d.not_before if d.status is DeliveryStatus.PENDING else d.leased_until
            for d in self._data.deliveries.values()
            if d.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
        ]
        upcoming = [t for t in times if t is not None and t > now]
        return min(upcoming, default=None)


class _Receipts:
    def __init__(self, data: MemoryStore, undo: Undo) -> None:
        self._data, self._undo = data, undo

    async def add(self, receipt: Receipt) -> bool:
        if receipt.superseded is not None:  # a receipt of a text a correction replaced: once per revision
            same = (receipt.version, receipt.group_id, receipt.person, receipt.superseded)
            if any((r.version, r.group_id, r.person, r.superseded) == same for r in self._data.superseded):
                return False
            self._data.superseded.append(receipt)
            self._undo.append(lambda: self._data.superseded.remove(receipt))
            return True
        key = (receipt.version, receipt.group_id, receipt.person)
        if key in self._data.receipts:
            return False
        self._data.receipts[key] = receipt
        self._undo.append(lambda: self._data.receipts.pop(key, None))
        return True

    async def add_all(self, receipts: Sequence[Receipt]) -> list[bool]:
        return [await self.add(receipt) for receipt in receipts]

    async def for_release(self, version: str) -> list[Receipt]:
        found = [r for r in (*self._data.superseded, *self._data.receipts.values()) if r.version == version]
        return sorted(found, key=lambda r: r.at)

    async def supersede(self, version: str, group_id: str, revision: int) -> int:
        keys = [k for k in self._data.receipts if k[0] == version and k[1] == group_id]
        for key in keys:
            receipt = self._data.receipts.pop(key)
            self._data.superseded.append(replace(receipt, superseded=revision))
            self._undo.append(partial(self._restore, key, receipt))
        return len(keys)

    def _restore(self, key: tuple[str, str, str], receipt: Receipt) -> None:
        self._data.receipts[key] = receipt
        self._data.superseded = [r for r in self._data.superseded if replace(r, superseded=None) != receipt]

    async def per_revision(self, version: str) -> dict[str, dict[int, int]]:
        found: dict[str, dict[int, int]] = {}
        for r in self._data.superseded:
            if r.version == version and not r.outside and r.superseded is not None:
                counts = found.setdefault(r.group_id, {})
                counts[r.superseded] = counts.get(r.superseded, 0) + 1
        return found

    async def get(self, version: str, group_id: str, person: str) -> Receipt | None:
        return self._data.receipts.get((version, group_id, person))

    def _inside(self, version: str) -> list[Receipt]:
        return [r for (v, _group, _person), r in self._data.receipts.items() if v == version and not r.outside]

    async def counts(self, version: str) -> dict[str, int]:
        return dict(Counter(r.group_id for r in self._inside(version)))

    async def outside_counts(self, version: str) -> dict[str, int]:
        return dict(Counter(r.group_id for r in self._data.receipts.values() if r.version == version and r.outside))

    async def totals(self) -> dict[ReceiptSource, int]:
        return dict(Counter(r.source for r in self._data.receipts.values()))

    async def is_meant_for(self, version: str, group_id: str, person: str) -> bool:
        return person in self._meant_for(version).get(group_id, set())

    async def count_after(self, version: str, group_id: str, moment: datetime) -> int:
        return sum(r.at > moment for r in self._inside(version) if r.group_id == group_id)

    async def count_for(self, version: str, group_id: str, delivery_key: str) -> int:
        return sum(r.delivery_key == delivery_key for r in self._inside(version) if r.group_id == group_id)

    async def expected(self, version: str) -> dict[str, int]:
        people = self._meant_for(version)
        for r in self._inside(version):
            people.setdefault(r.group_id, set()).add(r.person)
        return {group: len(members) for group, members in people.items()}

    async def waiting(self, version: str, levels: Mapping[str, ReceiptLevel] | None = None) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for group, members in self._meant_for(version).items():
            met = self._met(version, group, (levels or {}).get(group, ReceiptLevel.ACKNOWLEDGED))
            left = sorted(p for p in members if p not in met)
            if left:
                found[group] = left
        return found

    async def met_counts(self, version: str) -> dict[str, dict[ReceiptLevel, int]]:
        found: dict[str, dict[ReceiptLevel, int]] = {}
        groups = {d.group_id for d in self._data.deliveries.values() if d.version == version}
        for group in groups:
            for level in (ReceiptLevel.DELIVERED, ReceiptLevel.READ):
                if met := self._met(version, group, level):
                    found.setdefault(group, {})[level] = len(met)
        return found

    def _met(self, version: str, group: str, level: ReceiptLevel) -> set[str]:
        """Who met ``level`` for the group's current text (an acknowledgement meets every level)."""
        met = {r.person for r in self._inside(version) if r.group_id == group}
        if level is ReceiptLevel.ACKNOWLEDGED:
            return met
        for d in self._data.deliveries.values():
            if (
                d.version == version
                and d.group_id == group
                and d.purpose is Purpose.COMMUNIQUE
                and d.status is DeliveryStatus.SENT
                and (level is ReceiptLevel.DELIVERED or d.read_at is not None)
            ):
                met.update(d.audience)
        return met

    def _meant_for(self, version: str) -> dict[str, set[str]]:
        people: dict[str, set[str]] = {}
        for d in self._data.deliveries.values():
            if (
                d.version == version
                and d.purpose is Purpose.COMMUNIQUE
                and d.status not in (DeliveryStatus.FAILED, DeliveryStatus.UNREACHABLE)
            ):
                people.setdefault(d.group_id, set()).update(d.audience)
        return people


class _Audit:
    def __init__(self, data: MemoryStore, undo: Undo) -> None:
        self._data, self._undo = data, undo

    async def append(self, entry: AuditEntry) -> None:
        await self.extend([entry])

    async def extend(self, entries: Sequence[AuditEntry]) -> None:
        heads = {chain: self._head(chain) for chain in {chain_of(entry.version) for entry in entries}}
        for entry in chained(entries, heads):
            self._data.audit.append(entry)
            self._undo.append(partial(self._data.audit.remove, entry))

    async def for_release(self, version: str) -> list[AuditEntry]:
        return [e for e in self._data.audit if e.version == version]

    def _head(self, chain: str) -> str:
        return next((e.hash for e in reversed(self._data.audit) if chain_of(e.version) == chain), GENESIS)
