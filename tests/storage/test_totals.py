"""The ledger's totals for monitoring, on every implementation: deliveries by medium and status, receipts by source."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.delivery import DeliveryStatus
from bot.domain.receipt import ReceiptSource
from bot.service.ports import DeliveryTotal, UnitOfWorkFactory
from tests.storage.support import a_delivery, a_receipt, a_release, announce, at, plan


async def test_an_empty_ledger_has_no_totals(uow: UnitOfWorkFactory) -> None:
    """With nothing stored both totals are empty."""
    async with uow() as work:
        assert await work.deliveries.totals() == []
        assert await work.receipts.totals() == {}


async def test_deliveries_are_totalled_by_medium_and_status_over_every_release(uow: UnitOfWorkFactory) -> None:
    """Each medium (the target's platform) and status has its count, whatever the release or group."""
    await plan(
        uow,
        a_delivery("shell:#engineering", status=DeliveryStatus.SENT),
        a_delivery("shell:@kim"),
        a_delivery("slack:@U1", group_id="support"),
        replace(a_delivery("email:ada@example.com"), status=DeliveryStatus.FAILED),
    )
    await announce(uow, a_release("2.5", announced_at=at(5)))
    async with uow() as work:
        await work.deliveries.add_new([a_delivery("slack:#eng", version="2.5")])
        await work.commit()
    async with uow() as work:
        totals = await work.deliveries.totals()
    assert sorted(totals, key=lambda t: (t.medium, t.status.value)) == [
        DeliveryTotal("email", DeliveryStatus.FAILED, 1),
        DeliveryTotal("shell", DeliveryStatus.PENDING, 1),
        DeliveryTotal("shell", DeliveryStatus.SENT, 1),
        DeliveryTotal("slack", DeliveryStatus.PENDING, 2),
    ]


async def test_receipts_are_totalled_by_source_outside_ones_included(uow: UnitOfWorkFactory) -> None:
    """Every receipt recorded counts once under its source, one from outside the audience too."""
    await plan(uow, a_delivery(), a_delivery(group_id="support"))
    async with uow() as work:
        await work.receipts.add_all(
            [
                a_receipt("shell:kim"),
                a_receipt("shell:sam", source=ReceiptSource.BUTTON),
                a_receipt("shell:kim", group_id="support", source=ReceiptSource.BUTTON),
                replace(a_receipt("shell:zoe", source=ReceiptSource.REACTION), outside=True),
            ]
        )
        await work.commit()
    async with uow() as work:
        assert await work.receipts.totals() == {ReceiptSource.REACTION: 2, ReceiptSource.BUTTON: 2}
