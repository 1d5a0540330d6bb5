"""The storage contract, continued: receipts in bulk and the ledger counted by the store, on every implementation."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.audit import chained
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose, delivery_key
from bot.domain.receipt import ReceiptSource
from bot.service.ports import DeliveryCount, UnitOfWorkFactory
from tests.storage.support import a_delivery, a_receipt, a_release, an_entry, announce, at, plan


def _to(target: str, *people: str, group_id: str = "engineering", status: DeliveryStatus = DeliveryStatus.SENT):
    """A delivery of ``group_id``'s 2.4 communiqué to ``target``, meant for ``people``."""
    return replace(a_delivery(target, group_id=group_id, status=status), audience=people)


async def test_receipts_added_together_report_each_whether_it_was_new(uow: UnitOfWorkFactory) -> None:
    """add_all records each person once: a repeat in the batch or an earlier receipt is not new."""
    await plan(uow, a_delivery(), a_delivery(group_id="support"))
    async with uow() as work:
        assert await work.receipts.add(a_receipt("shell:lee")) is True
        await work.commit()

    async with uow() as work:
        added = await work.receipts.add_all(
            [
                a_receipt("shell:kim", minutes=1),
                a_receipt("shell:kim", source=ReceiptSource.BUTTON, minutes=2),
                a_receipt("shell:lee", minutes=3),
                a_receipt("shell:kim", group_id="support", minutes=4),
            ]
        )
        await work.commit()
    assert added == [True, False, False, True]

    async with uow() as work:
        stored = await work.receipts.for_release("2.4")
    assert [(r.person, r.group_id, r.source) for r in stored] == [
        ("shell:lee", "engineering", ReceiptSource.REACTION),
        ("shell:kim", "engineering", ReceiptSource.REACTION),
        ("shell:kim", "support", ReceiptSource.REACTION),
    ]


async def test_receipts_added_together_are_discarded_without_commit(uow: UnitOfWorkFactory) -> None:
    """A batch of receipts is one transaction: leaving without commit keeps none of them."""
    await plan(uow, a_delivery())
    async with uow() as work:
        await work.receipts.add_all([a_receipt("shell:kim"), a_receipt("shell:sam")])

    async with uow() as work:
        assert await work.receipts.for_release("2.4") == []


async def test_deliveries_are_found_by_many_message_refs_at_once(uow: UnitOfWorkFactory) -> None:
    """by_message_refs maps each reference sent to its delivery and leaves unknown ones out."""
    await plan(uow, a_delivery("shell:@kim"), a_delivery("shell:@sam"), a_delivery("shell:@lee"))
    kim = a_delivery("shell:@kim").sent("ref-kim", at(1))
    sam = a_delivery("shell:@sam").sent("ref-sam", at(1))
    async with uow() as work:
        await work.deliveries.update(kim)
        await work.deliveries.update(sam)
        await work.commit()

    async with uow() as work:
        found = await work.deliveries.by_message_refs(["ref-sam", "ref-kim", "ref-nobody", "ref-kim"])
    assert found == {"ref-kim": kim, "ref-sam": sam}


async def test_deliveries_are_counted_per_group_purpose_and_status(uow: UnitOfWorkFactory) -> None:
    """counts gives one release's deliveries by group, purpose and status."""
    await announce(uow, a_release("2.5"))
    reminder = replace(
        _to("shell:@kim", "shell:kim"),
        key=delivery_key("2.4", "engineering", "shell:@kim", "reminder-1"),
        purpose=Purpose.REMINDER,
    )
    await plan(
        uow,
        _to("shell:@kim", "shell:kim"),
        _to("shell:@sam", "shell:sam"),
        _to("shell:@lee", "shell:lee", status=DeliveryStatus.FAILED),
        _to("shell:@kim", "shell:kim", group_id="support", status=DeliveryStatus.PENDING),
        reminder,
    )
    async with uow() as work:
        await work.deliveries.add_new([a_delivery("shell:@kim", version="2.5")])
        await work.commit()

    async with uow() as work:
        counts = await work.deliveries.counts("2.4")
        assert await work.deliveries.counts("9.9") == []
    assert sorted(counts, key=lambda c: (c.group_id, c.purpose, c.status)) == [
        DeliveryCount("engineering", Purpose.COMMUNIQUE, DeliveryStatus.FAILED, 1),
        DeliveryCount("engineering", Purpose.COMMUNIQUE, DeliveryStatus.SENT, 2),
        DeliveryCount("engineering", Purpose.REMINDER, DeliveryStatus.SENT, 1),
        DeliveryCount("support", Purpose.COMMUNIQUE, DeliveryStatus.PENDING, 1),
    ]


async def test_failed_deliveries_and_recent_sends_are_read_per_release(uow: UnitOfWorkFactory) -> None:
    """failed lists one release's failures; recent_sends the last send times, oldest first."""
    await plan(uow, a_delivery("shell:@kim"), a_delivery("shell:@sam"), a_delivery("shell:@lee"))
    async with uow() as work:
        await work.deliveries.update(a_delivery("shell:@kim").sent("ref-kim", at(3)))
        await work.deliveries.update(a_delivery("shell:@sam").sent("ref-sam", at(1)))
        await work.deliveries.update(a_delivery("shell:@lee").failed("channel_not_found", permanent=True, now=at(2)))
        await work.commit()

    async with uow() as work:
        failed = await work.deliveries.failed("2.4")
        assert await work.deliveries.recent_sends("2.4", 5) == [at(1), at(3)]
        assert await work.deliveries.recent_sends("2.4", 1) == [at(3)]
        assert await work.deliveries.failed("9.9") == []
    assert [(d.target, d.error) for d in failed] == [("shell:@lee", "channel_not_found")]


async def test_a_group_went_out_when_its_communiques_first_delivery_was_sent(uow: UnitOfWorkFactory) -> None:
    """went_out gives per group the earliest send of its communiqué, not of a reminder, nor a failure's."""
    reminder = replace(
        _to("shell:@kim", "shell:kim", status=DeliveryStatus.PENDING),
        key=delivery_key("2.4", "engineering", "shell:@kim", "reminder-1"),
        purpose=Purpose.REMINDER,
    )
    pending = DeliveryStatus.PENDING
    await plan(uow, _to("shell:@kim", status=pending), _to("shell:@sam", status=pending), reminder)
    await plan_more(uow, _to("shell:@lee", status=pending), _to("shell:@kim", group_id="support", status=pending))
    async with uow() as work:
        await work.deliveries.update(_to("shell:@kim", status=pending).sent("ref-kim", at(5)))
        await work.deliveries.update(_to("shell:@sam", status=pending).sent("ref-sam", at(3)))
        await work.deliveries.update(reminder.sent("ref-reminder", at(1)))
        await work.deliveries.update(_to("shell:@lee", status=pending).failed("boom", permanent=True, now=at(2)))
        await work.commit()

    async with uow() as work:
        assert await work.deliveries.went_out("2.4") == {"engineering": at(3)}
        assert await work.deliveries.went_out("9.9") == {}


async def plan_more(uow: UnitOfWorkFactory, *deliveries: Delivery) -> None:
    """Store more deliveries of the release already planned."""
    async with uow() as work:
        await work.deliveries.add_new(deliveries)
        await work.commit()


async def test_receipts_are_counted_per_group_and_per_delivery(uow: UnitOfWorkFactory) -> None:
    """counts gives how many acknowledged each group; count_for how many did on one delivery."""
    channel = _to("shell:#engineering", "shell:kim", "shell:sam")
    await plan(uow, channel, _to("shell:@lee", "shell:lee"), _to("shell:@kim", "shell:kim", group_id="support"))
    async with uow() as work:
        await work.receipts.add_all(
            [
                a_receipt("shell:kim"),
                a_receipt("shell:sam"),
                replace(a_receipt("shell:lee"), delivery_key=_to("shell:@lee").key),
                replace(
                    a_receipt("shell:kim", group_id="support"), delivery_key=_to("shell:@kim", group_id="support").key
                ),
            ]
        )
        await work.commit()

    async with uow() as work:
        assert await work.receipts.counts("2.4") == {"engineering": 3, "support": 1}
        assert await work.receipts.counts("9.9") == {}
        assert await work.receipts.count_for("2.4", "engineering", channel.key) == 2
        assert await work.receipts.count_for("2.4", "engineering", _to("shell:@lee").key) == 1
        assert await work.receipts.count_for("2.4", "support", channel.key) == 0


async def test_receipts_after_a_moment_are_counted_per_group(uow: UnitOfWorkFactory) -> None:
    """count_after counts a group's receipts strictly after the moment (its deadline): the late ones."""
    await plan(uow, a_delivery(), a_delivery(group_id="support"))
    async with uow() as work:
        await work.receipts.add_all(
            [
                a_receipt("shell:kim", minutes=5),
                a_receipt("shell:sam", minutes=10),
                a_receipt("shell:lee", minutes=11),
                a_receipt("shell:kim", group_id="support", minutes=30),
            ]
        )
        await work.commit()
    async with uow() as work:
        assert await work.receipts.count_after("2.4", "engineering", at(10)) == 1
        assert await work.receipts.count_after("2.4", "engineering", at(0)) == 3
        assert await work.receipts.count_after("2.4", "support", at(10)) == 1
        assert await work.receipts.count_after("9.9", "engineering", at(0)) == 0


async def test_the_people_expected_are_the_audiences_not_failed_and_whoever_acknowledged(
    uow: UnitOfWorkFactory,
) -> None:
    """expected counts each person once per group: in a channel and a DM, or acknowledging from outside."""
    await plan(
        uow,
        _to("shell:#engineering", "shell:kim", "shell:sam"),
        _to("shell:@kim", "shell:kim"),
        _to("shell:@lee", "shell:lee", status=DeliveryStatus.FAILED),
        _to("shell:@ann", "shell:ann", status=DeliveryStatus.PENDING),
        _to("shell:@kim", "shell:kim", group_id="support"),
    )
    async with uow() as work:
        await work.receipts.add_all([a_receipt("shell:kim"), a_receipt("shell:jo")])  # jo: a member not listed
        await work.commit()

    async with uow() as work:
        assert await work.receipts.expected("2.4") == {"engineering": 4, "support": 1}
        assert await work.receipts.expected("9.9") == {}


async def test_the_people_waiting_are_those_expected_who_have_not_acknowledged(uow: UnitOfWorkFactory) -> None:
    """waiting lists, sorted per group, who a delivery that did not fail was meant for and who has not acknowledged."""
    await plan(
        uow,
        _to("shell:#engineering", "shell:sam", "shell:kim", "shell:ann"),
        _to("shell:@kim", "shell:kim"),
        _to("shell:@lee", "shell:lee", status=DeliveryStatus.FAILED),
        _to("shell:@kim", "shell:kim", group_id="support"),
    )
    async with uow() as work:
        support = replace(
            a_receipt("shell:kim", group_id="support"), delivery_key=_to("shell:@kim", group_id="support").key
        )
        await work.receipts.add_all([a_receipt("shell:kim"), support])
        await work.commit()

    async with uow() as work:
        assert await work.receipts.waiting("2.4") == {"engineering": ["shell:ann", "shell:sam"]}


async def test_audit_entries_added_together_keep_their_order(uow: UnitOfWorkFactory) -> None:
    """extend appends entries in the order given, after the ones already there."""
    first = an_entry("announce_release")
    batch = [an_entry("acknowledge", minutes=3), an_entry("acknowledge", minutes=1), an_entry("acknowledge")]
    async with uow() as work:
        await work.audit.append(first)
        await work.audit.extend(batch)
        await work.audit.extend([])
        await work.commit()

    async with uow() as work:
        assert await work.audit.for_release("2.4") == chained([first, *batch])
