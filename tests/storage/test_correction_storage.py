"""The storage contract for corrections, on every implementation: superseded receipts, earlier texts, copies."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.communique import EarlierText
from bot.domain.delivery import DeliveryStatus
from bot.domain.plan import ReceiptLevel
from bot.service.ports import UnitOfWorkFactory
from tests.storage.support import a_delivery, a_receipt, at, plan


async def test_superseded_receipts_are_kept_apart_and_a_person_may_acknowledge_the_new_text(
    uow: UnitOfWorkFactory,
) -> None:
    """After supersede, counts start again; the old receipts stay, counted per revision; kim may acknowledge anew."""
    await plan(uow, replace(a_delivery("shell:#engineering"), audience=("shell:kim", "shell:lee")))
    async with uow() as work:
        await work.receipts.add_all([a_receipt("shell:kim"), a_receipt("shell:lee", minutes=1)])
        await work.commit()

    async with uow() as work:
        assert await work.receipts.supersede("2.4", "engineering", 1) == 2
        await work.commit()

    async with uow() as work:
        assert await work.receipts.counts("2.4") == {}
        assert await work.receipts.per_revision("2.4") == {"engineering": {1: 2}}
        assert await work.receipts.waiting("2.4") == {"engineering": ["shell:kim", "shell:lee"]}
        assert await work.receipts.get("2.4", "engineering", "shell:kim") is None
        assert await work.receipts.add(a_receipt("shell:kim", minutes=5)) is True
        await work.commit()

    async with uow() as work:
        assert await work.receipts.counts("2.4") == {"engineering": 1}
        assert await work.receipts.expected("2.4") == {"engineering": 2}
        stored = await work.receipts.for_release("2.4")
    assert [(r.person, r.superseded) for r in stored] == [("shell:kim", 1), ("shell:lee", 1), ("shell:kim", None)]


async def test_a_supersede_without_commit_changes_nothing(uow: UnitOfWorkFactory) -> None:
    """Superseding is part of the correction's transaction: rolled back, the receipts still count."""
    await plan(uow, replace(a_delivery("shell:#engineering"), audience=("shell:kim",)))
    async with uow() as work:
        await work.receipts.add(a_receipt("shell:kim"))
        await work.commit()
    async with uow() as work:
        await work.receipts.supersede("2.4", "engineering", 1)

    async with uow() as work:
        assert await work.receipts.counts("2.4") == {"engineering": 1}


async def test_earlier_texts_are_kept_once_per_revision(uow: UnitOfWorkFactory) -> None:
    """keep_earlier keeps the first text of a revision; earlier_texts lists them by group, then revision."""
    await plan(uow, a_delivery())
    first = EarlierText(group_id="support", revision=1, text="old", replaced_at=at(5))
    async with uow() as work:
        await work.releases.keep_earlier("2.4", first)
        await work.releases.keep_earlier("2.4", replace(first, text="again"))
        await work.releases.keep_earlier("2.4", replace(first, group_id="engineering", revision=2, text="older"))
        await work.commit()

    async with uow() as work:
        texts = await work.releases.earlier_texts("2.4")
    assert [(t.group_id, t.revision, t.text) for t in texts] == [("engineering", 2, "older"), ("support", 1, "old")]


async def test_copies_are_a_groups_communique_deliveries_that_did_not_fail(uow: UnitOfWorkFactory) -> None:
    """copies leaves out failed copies and other groups; a copy's revision and a correction's copy are stored."""
    sent = a_delivery("shell:@kim").sent("ref-kim", at(1), revision=3)
    failed = a_delivery("shell:@sam", status=DeliveryStatus.FAILED)
    other = a_delivery("shell:@kim", group_id="support")
    await plan(uow, sent, failed, other, a_delivery("shell:@lee"))

    async with uow() as work:
        copies = await work.deliveries.copies("2.4", "engineering")
    assert [(d.target, d.revision) for d in copies] == [("shell:@kim", 3), ("shell:@lee", None)]


async def test_a_receipt_of_a_replaced_text_is_added_once_per_revision_beside_the_current_one(
    uow: UnitOfWorkFactory,
) -> None:
    """add_all takes a receipt of revision 1 (not counted) beside kim's current one; its repeat is not new."""
    await plan(uow, replace(a_delivery("shell:#engineering"), audience=("shell:kim",)))
    old = replace(a_receipt("shell:kim", minutes=1), superseded=1)
    async with uow() as work:
        added = await work.receipts.add_all([a_receipt("shell:kim"), old, old])
        await work.commit()
    async with uow() as work:
        again = await work.receipts.add_all([old])
        counts = await work.receipts.counts("2.4")
        earlier = await work.receipts.per_revision("2.4")

    assert added == [True, True, False]
    assert again == [False]
    assert counts == {"engineering": 1}
    assert earlier == {"engineering": {1: 1}}


async def test_waiting_and_met_counts_follow_each_groups_level(uow: UnitOfWorkFactory) -> None:
    """Kim's copy read, lee's sent, mo's still pending, ann acknowledged: each level counts its own."""
    kim = replace(a_delivery("shell:@kim").sent("ref-kim", at(1)), audience=("shell:kim",))
    lee = replace(a_delivery("shell:@lee").sent("ref-lee", at(1)), audience=("shell:lee",))
    mo = replace(a_delivery("shell:@mo"), audience=("shell:mo",))
    ann = replace(a_delivery("shell:@ann").sent("ref-ann", at(1)), audience=("shell:ann",))
    await plan(uow, kim.read(at(2)), lee, mo, ann)
    async with uow() as work:
        await work.receipts.add(replace(a_receipt("shell:ann"), delivery_key=ann.key))
        await work.commit()

    async with uow() as work:
        counts = await work.receipts.met_counts("2.4")
        acknowledged = await work.receipts.waiting("2.4")
        read = await work.receipts.waiting("2.4", {"engineering": ReceiptLevel.READ})
        delivered = await work.receipts.waiting("2.4", {"engineering": ReceiptLevel.DELIVERED})

    assert counts == {"engineering": {ReceiptLevel.DELIVERED: 3, ReceiptLevel.READ: 2}}
    assert acknowledged == {"engineering": ["shell:kim", "shell:lee", "shell:mo"]}
    assert read == {"engineering": ["shell:lee", "shell:mo"]}
    assert delivered == {"engineering": ["shell:mo"]}
