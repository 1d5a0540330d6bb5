"""Builders shared by the storage tests, and the SQL databases they run on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.audit import AuditEntry, Outcome
from bot.domain.communique import Communique
from bot.domain.delivery import Delivery, DeliveryStatus, delivery_key
from bot.domain.destinations import Kind
from bot.domain.receipt import Receipt, ReceiptSource
from bot.domain.release import Release, ReleaseState
from bot.service.ports import UnitOfWorkFactory
from storage.mapping import release_values

SQL_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""``database_url`` parameters: every SQL database the storage runs on (PostgreSQL marked)."""

T0 = datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """A moment ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def a_release(version: str = "2.4", *, announced_at: datetime = T0) -> Release:
    """A release being validated, with two communiqués (one failed to render)."""
    return Release(
        version=version,
        product="Acme Cloud",
        state=ReleaseState.VALIDATING,
        announced_by="shell:deployer",
        announced_at=announced_at,
        communiques={
            "support": Communique(group_id="support", text=f"Support: Acme Cloud {version} is live."),
            "engineering": Communique(group_id="engineering", text="", render_error="'notes' is undefined"),
        },
    )


def a_delivery(
    target: str = "shell:#engineering",
    *,
    version: str = "2.4",
    group_id: str = "engineering",
    status: DeliveryStatus = DeliveryStatus.PENDING,
) -> Delivery:
    """A delivery of ``group_id``'s communiqué to ``target``."""
    return Delivery(
        key=delivery_key(version, group_id, target),
        version=version,
        group_id=group_id,
        target=target,
        via=target,
        kind=Kind.CHANNEL if "#" in target else Kind.DM,
        audience=("shell:kim", "shell:sam"),
        status=status,
        created_at=T0,
        updated_at=T0,
    )


def a_receipt(
    person: str, *, group_id: str = "engineering", source: ReceiptSource = ReceiptSource.REACTION, minutes: int = 0
) -> Receipt:
    """``person``'s acknowledgement of the 2.4 communiqué of ``group_id``."""
    return Receipt(
        version="2.4",
        group_id=group_id,
        person=person,
        source=source,
        delivery_key=delivery_key("2.4", group_id, "shell:#engineering"),
        at=at(minutes),
    )


def an_entry(action: str, *, version: str | None = "2.4", minutes: int = 0) -> AuditEntry:
    """An audit entry of ``action`` by the deployer."""
    return AuditEntry(at=at(minutes), actor="shell:deployer", action=action, version=version, outcome=Outcome.DONE)


async def announce(uow: UnitOfWorkFactory, *releases: Release) -> None:
    """Store releases and commit."""
    async with uow() as work:
        for release in releases:
            await work.releases.add(release)
        await work.commit()


async def plan(uow: UnitOfWorkFactory, *deliveries: Delivery) -> None:
    """Store the 2.4 release and the deliveries, and commit."""
    await announce(uow, a_release())
    async with uow() as work:
        await work.deliveries.add_new(deliveries)
        await work.commit()


RELEASE_COLUMNS_SINCE_0012 = frozenset(
    {"retraction_reason", "retraction_by", "retraction_at", "retraction_approved_by", "retracted_at"}
    | {"retraction_go_live", "skipped", "components", "notes"}  # since 0013, 0014, 0015, 0016
)


def old_release_values(release: Release) -> dict[str, object]:
    """A release's ``releases`` columns as a revision before 0012 has them (no retraction, no reschedule)."""
    return {k: v for k, v in release_values(release).items() if k not in RELEASE_COLUMNS_SINCE_0012}
