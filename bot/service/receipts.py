"""Recording receipts in groups: acknowledgements that arrive together share one transaction.

Reactions and clicks can pour in by the hundred a second, and one transaction each is
what a single SQLite writer can least afford. ``ReceiptBook.acknowledge`` queues an
acknowledgement; one writer at a time takes everything queued (up to ``batch``), looks
up in one query the messages it has not seen yet, and records the new receipts and
their audit entries in one transaction, one multi-row INSERT each. While it writes, the
next group gathers (a group commit).

A sent message's delivery is remembered by its reference: once sent, the reference,
the target, the audience and the group of a delivery never change, so the lookup is
safe to keep for the life of the process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.audit import AuditEntry, Outcome
from bot.domain.commands import Acknowledge
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind, Platform
from bot.domain.plan import AckPolicy, Plan
from bot.domain.receipt import Receipt
from bot.service.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

_BATCH = 500  # acknowledgements per transaction at most
_REMEMBERED = 50_000  # sent messages whose delivery is kept (about 1 KB each; the collector scans them)


class Verdict(StrEnum):
    """What became of one acknowledgement."""

    RECORDED = "recorded"  # a new receipt
    ALREADY = "already"  # that person had acknowledged that group's communiqué before
    UNKNOWN = "unknown"  # not a message Herald sent
    NOT_ASKED = "not_asked"  # no acknowledgement is asked for that message
    NOT_ADDRESSED = "not_addressed"  # the message was not meant for that person
    OUTSIDE = "outside"  # a channel post's reader outside the group's audience: recorded, not counted
    SUPERSEDED = "superseded"  # through a mail carrying a text a correction replaced: recorded as that, not counted


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """The verdict on one acknowledgement, and the delivery it was about (None when unknown)."""

    verdict: Verdict
    delivery: Delivery | None


class ReceiptsNotRecorded(Exception):
    """The transaction holding a group of receipts failed; nothing of it was recorded."""


class ReceiptBook:
    """Checks acknowledgements against the ledger and records them, many to a transaction."""

    def __init__(
        self,
        *,
        plan: Plan,
        uow: UnitOfWorkFactory,
        clock: Clock,
        batch: int = _BATCH,
        on_recorded: Callable[[str], None] | None = None,
    ) -> None:
        self._plan = plan
        self._uow = uow
        self._clock = clock
        self._batch = batch
        # Told each release that has new receipts: a group waiting for them (``after`` tables) may go now.
        # Only a plan with such a group wakes the engine: otherwise a receipt never frees a delivery, and
        # waking it for each batch costs the receipts themselves (a claim query per batch on one database).
        gated = any(group.gates for group in plan.groups)
        self._on_recorded = (on_recorded if gated else None) or (lambda _version: None)
        self._queue: list[tuple[Acknowledge, asyncio.Future[Acknowledged]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._sent: dict[str, Delivery] = {}

    async def acknowledge(self, command: Acknowledge) -> Acknowledged:
        """Record ``command`` with whatever else is queued; return the verdict once it is committed.

        Raises:
            ReceiptsNotRecorded: the transaction failed (the database went away): try again.
        """
        future: asyncio.Future[Acknowledged] = asyncio.get_running_loop().create_future()
        self._queue.append((command, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def delivery(self, ref: str) -> Delivery | None:
        """The delivery sent as the message ``ref``, remembered once looked up."""
        found = self._sent.get(ref)
        if found is None:
            async with self._uow() as uow:
                found = await uow.deliveries.by_message_ref(ref)
            if found is not None:
                self._remember(ref, found)
        return found

    def _remember(self, ref: str, delivery: Delivery) -> None:
        if delivery.status is not DeliveryStatus.SENT:
            return  # its reference could still change
        if len(self._sent) >= _REMEMBERED:
            del self._sent[next(iter(self._sent))]  # the oldest
        self._sent[ref] = delivery

    async def _write(self) -> None:
        await asyncio.sleep(0)  # acknowledgements already on their way join the first group
        while self._queue:
            taken, self._queue = self._queue[: self._batch], self._queue[self._batch :]
            try:
                verdicts = await self._record([command for command, _ in taken])
            except Exception as error:  # each waiter decides whether to try again
                log.warning("recording %d receipts failed: %s", len(taken), error)
                for _, future in taken:
                    if not future.done():
                        failure = ReceiptsNotRecorded(f"recording {len(taken)} receipts failed")
                        failure.__cause__ = error
                        future.set_exception(failure)
                continue
            for (_, future), verdict in zip(taken, verdicts, strict=True):
                if not future.done():  # its waiter may have been cancelled; the receipt stands
                    future.set_result(verdict)

    async def _record(self, commands: list[Acknowledge]) -> list[Acknowledged]:
        # A person is counted by their first listed id, whichever of theirs acknowledged: one
        # receipt stands for all their media, and a second one through another is "already".
        people = self._plan.people
        commands = [replace(c, actor=people.canonical(c.actor)) for c in commands]
        unknown = sorted(
            {c.message_ref for c in commands if c.delivery_key is None and c.message_ref not in self._sent}
        )
        keys = sorted({c.delivery_key for c in commands if c.delivery_key is not None})
        found: dict[str, Delivery] = {}
        by_key: dict[str, Delivery] = {}
        if unknown or keys:
            async with self._uow() as uow:
                found = await uow.deliveries.by_message_refs(unknown) if unknown else {}
                for key in keys:  # a signed link names its delivery, which may still be being recorded as sent
                    delivery = await uow.deliveries.get(key)
                    if delivery is not None:
                        by_key[key] = delivery
            for ref, delivery in found.items():
                self._remember(ref, delivery)
        now = self._clock.now()
        deliveries = [
            by_key.get(c.delivery_key)
            if c.delivery_key is not None
            else self._sent.get(c.message_ref) or found.get(c.message_ref)
            for c in commands
        ]
        refusals = [self._check(c, d) for c, d in zip(commands, deliveries, strict=True)]
        outsiders = await self._outsiders(commands, deliveries, refusals)
        earlier = await self._earlier(deliveries)
        receipts = [
            Receipt(
                version=d.version,
                group_id=d.group_id,
                person=c.actor,
                source=c.source,
                delivery_key=d.key,
                at=now,
                outside=(d.version, d.group_id, c.actor) in outsiders,
                superseded=d.revision if d.key in earlier else None,
            )
            for c, d, refused in zip(commands, deliveries, refusals, strict=True)
            if refused is None and d is not None
        ]
        added = iter(await self._store(receipts, now) if receipts else [])
        verdicts: list[Acknowledged] = []
        for c, d, refused in zip(commands, deliveries, refusals, strict=True):
            if refused is not None or d is None:
                verdicts.append(Acknowledged(refused or Verdict.UNKNOWN, d))
            elif d.key in earlier:
                next(added)
                verdicts.append(Acknowledged(Verdict.SUPERSEDED, d))
            elif not next(added):
                verdicts.append(Acknowledged(Verdict.ALREADY, d))
            else:
                outside = (d.version, d.group_id, c.actor) in outsiders
                verdicts.append(Acknowledged(Verdict.OUTSIDE if outside else Verdict.RECORDED, d))
        return verdicts

    async def _earlier(self, deliveries: list[Delivery | None]) -> set[str]:
        """The keys of the mails among ``deliveries`` that carry a text a correction has since replaced.

        A chat copy is corrected in place, so whatever is acknowledged on it is the current
        text; a mail is not, and its link, clicked after the correction, acknowledges what it
        says. Asked only for mails: the release is read once per release in the batch.
        """
        mails = [d for d in deliveries if d is not None and d.kind is Kind.EMAIL and d.revision is not None]
        if not mails:
            return set()
        current: dict[str, dict[str, int]] = {}
        async with self._uow() as uow:
            for version in sorted({d.version for d in mails}):
                release = await uow.releases.get(version)
                communiques = release.communiques.values() if release else ()
                current[version] = {c.group_id: c.revision for c in communiques}
        return {
            d.key
            for d in mails
            if d.revision is not None and d.revision < current[d.version].get(d.group_id, d.revision)
        }

    async def _outsiders(
        self, commands: list[Acknowledge], deliveries: list[Delivery | None], refusals: list[Verdict | None]
    ) -> set[tuple[str, str, str]]:
        """(version, group, person) of those acknowledging a channel post whose listed audience leaves them out,
        and who are in no other audience of the group either (rare: looked up one by one)."""
        candidates = {
            (d.version, d.group_id, c.actor)
            for c, d, refused in zip(commands, deliveries, refusals, strict=True)
            if refused is None and d is not None and _listed(d) and c.actor not in d.audience
        }
        if not candidates:
            return set()
        async with self._uow() as uow:
            return {found for found in sorted(candidates) if not await uow.receipts.is_meant_for(*found)}

    async def _store(self, receipts: list[Receipt], now: datetime) -> list[bool]:
        """One transaction: the receipts, and an audit entry for each new one."""
        async with self._uow() as uow:
            added = await uow.receipts.add_all(receipts)
            await uow.audit.extend(
                [
                    AuditEntry(
                        at=now,
                        actor=receipt.person,
                        action="acknowledge",
                        version=receipt.version,
                        outcome=Outcome.DONE,
                        detail=f"{receipt.group_id} by {receipt.source.value}"
                        + (", outside the audience (not counted)" if receipt.outside else "")
                        + (
                            f", of revision {receipt.superseded}, which a correction replaced (not counted)"
                            if receipt.superseded is not None
                            else ""
                        ),
                    )
                    for receipt, new in zip(receipts, added, strict=True)
                    if new
                ]
            )
            await uow.commit()
        for version in dict.fromkeys(r.version for r, new in zip(receipts, added, strict=True) if new):
            self._on_recorded(version)
        return added

    def _check(self, command: Acknowledge, delivery: Delivery | None) -> Verdict | None:
        """Why ``command`` gives no receipt, or None when it does."""
        if delivery is None:
            return Verdict.UNKNOWN
        group = next((g for g in self._plan.groups if g.id == delivery.group_id), None)
        if delivery.purpose is Purpose.ESCALATION or (group is not None and group.ack is AckPolicy.NONE):
            return Verdict.NOT_ASKED
        if not delivery.accepts_receipt_from(command.actor):
            return Verdict.NOT_ADDRESSED
        return None


def _listed(delivery: Delivery) -> bool:
    """Whether a delivery's audience says who it was meant for: a channel with its members listed, or a web
    page (meant for nobody in particular: its readers count only where the group meant them anyway)."""
    if delivery.kind is not Kind.CHANNEL:
        return False
    return bool(delivery.audience) or delivery.to.platform is Platform.WEB
