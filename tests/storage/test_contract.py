"""The storage contract: every implementation of the ports behaves as the in-memory twin does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain.audit import AuditEntry, Outcome, chained
from bot.domain.communique import Communique, ReviewState
from bot.domain.delivery import DeliveryStatus, Purpose, delivery_key
from bot.domain.destinations import Kind
from bot.domain.receipt import ReceiptSource
from bot.domain.release import ReleaseState
from bot.service.ports import ConcurrentUpdate, UnitOfWorkFactory
from tests.storage.support import T0, a_delivery, a_receipt, a_release, an_entry, announce, at, plan

# -- releases ------------------------------------------------------------------------


async def test_a_release_reads_back_as_it_was_added(uow: UnitOfWorkFactory) -> None:
    """A release comes back whole: fields, communiqués in their order, revision 1, aware UTC times."""
    release = a_release()
    release.thread = "shell:#releases/17"
    release.confirmed_by, release.confirmed_at = (
        "shell:dana",
        datetime(2025, 3, 14, 11, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    release.communiques["support"].reviewed_at = at(5)
    await announce(uow, release)

    async with uow() as work:
        stored = await work.releases.get("2.4")

    assert stored is not None
    assert stored == release
    assert list(stored.communiques) == ["support", "engineering"]
    assert stored.revision == 1
    assert stored.confirmed_at == datetime(2025, 3, 14, 9, 0, tzinfo=UTC)  # the same instant
    for moment in (stored.announced_at, stored.communiques["support"].reviewed_at):
        assert moment is not None
        assert moment.utcoffset() == timedelta(0)
    assert stored.announced_at == T0  # microseconds survive


async def test_an_unknown_release_is_none(uow: UnitOfWorkFactory) -> None:
    """Asking for a version never announced gives None."""
    async with uow() as work:
        assert await work.releases.get("9.9") is None


async def test_adding_an_existing_version_raises_concurrent_update(uow: UnitOfWorkFactory) -> None:
    """A second release with the same version is refused, and the first is untouched."""
    await announce(uow, a_release())
    duplicate = a_release()
    duplicate.product = "Someone Else"

    async with uow() as work:
        with pytest.raises(ConcurrentUpdate):
            await work.releases.add(duplicate)
        await work.audit.append(an_entry("announce_release"))  # the unit of work is still usable
        await work.commit()

    async with uow() as work:
        stored = await work.releases.get("2.4")
        assert stored is not None
        assert stored.product == "Acme Cloud"
        assert len(await work.audit.for_release("2.4")) == 1


async def test_saving_stores_changes_and_bumps_the_revision(uow: UnitOfWorkFactory) -> None:
    """Save writes state, communiqué edits and new communiqués, and counts one revision up."""
    await announce(uow, a_release())
    async with uow() as work:
        release = await work.releases.get("2.4")
        assert release is not None
        release.state = ReleaseState.SENDING
        release.approved_by, release.approved_at = "shell:lead", at(30)
        release.communiques["engineering"] = Communique(
            group_id="engineering",
            text="Edited.",
            revision=2,
            review=ReviewState.APPROVED,
            reviewed_by="shell:lead",
            reviewed_at=at(20),
            edited_by="shell:dana",
            edited_at=at(10),
        )
        release.communiques["sales"] = Communique(group_id="sales", text="Sales: it is live.")
        await work.releases.save(release)
        await work.commit()

    assert release.revision == 2
    async with uow() as work:
        assert await work.releases.get("2.4") == release


async def test_saving_drops_communiques_the_release_no_longer_has(uow: UnitOfWorkFactory) -> None:
    """A release is saved whole: a communiqué removed from it is gone from storage too."""
    await announce(uow, a_release())
    async with uow() as work:
        release = await work.releases.get("2.4")
        assert release is not None
        del release.communiques["support"]
        await work.releases.save(release)
        await work.commit()

    async with uow() as work:
        stored = await work.releases.get("2.4")
    assert stored is not None
    assert list(stored.communiques) == ["engineering"]


async def test_a_stale_save_raises_concurrent_update(uow: UnitOfWorkFactory) -> None:
    """Of two writers who read the same revision, the second to save is refused."""
    await announce(uow, a_release())
    async with uow() as first, uow() as second:
        mine = await first.releases.get("2.4")
        theirs = await second.releases.get("2.4")
        assert mine is not None
        assert theirs is not None
        mine.thread = "shell:#releases/1"
        await first.releases.save(mine)
        await first.commit()
        theirs.thread = "shell:#releases/2"
        with pytest.raises(ConcurrentUpdate):
            await second.releases.save(theirs)

    async with uow() as work:
        stored = await work.releases.get("2.4")
    assert stored is not None
    assert (stored.thread, stored.revision) == ("shell:#releases/1", 2)


async def test_saving_a_release_never_added_raises_concurrent_update(uow: UnitOfWorkFactory) -> None:
    """Save only changes a stored release."""
    async with uow() as work:
        with pytest.raises(ConcurrentUpdate):
            await work.releases.save(a_release())


async def test_releases_in_a_state_come_oldest_first(uow: UnitOfWorkFactory) -> None:
    """in_state lists the releases in that state by announcement time, communiqués included."""
    newest, oldest, middle, other = (
        a_release("2.6", announced_at=at(60)),
        a_release("2.4", announced_at=at(0)),
        a_release("2.5", announced_at=at(30)),
        a_release("2.7", announced_at=at(45)),
    )
    for release in (newest, oldest, middle):
        release.state = ReleaseState.SENDING
    await announce(uow, newest, oldest, other, middle)

    async with uow() as work:
        sending = await work.releases.in_state("sending")
        assert await work.releases.in_state("sent") == []

    assert [r.version for r in sending] == ["2.4", "2.5", "2.6"]
    assert sending == [oldest, middle, newest]


# -- units of work -------------------------------------------------------------------


async def test_leaving_without_commit_keeps_nothing(uow: UnitOfWorkFactory) -> None:
    """Everything written in a unit of work that is not committed is gone after it."""
    async with uow() as work:
        await work.releases.add(a_release())
        await work.deliveries.add_new([a_delivery()])
        await work.receipts.add(a_receipt("shell:kim"))
        await work.audit.append(an_entry("announce_release"))

    async with uow() as work:
        assert await work.releases.get("2.4") is None
        assert await work.deliveries.for_release("2.4") == []
        assert await work.receipts.for_release("2.4") == []
        assert await work.audit.for_release("2.4") == []


async def test_rollback_discards_only_what_came_after_the_last_commit(uow: UnitOfWorkFactory) -> None:
    """Commit, write more, roll back: the committed part stays, and the unit of work goes on."""
    async with uow() as work:
        await work.releases.add(a_release("2.4"))
        await work.commit()
        await work.releases.add(a_release("2.5"))
        await work.rollback()
        assert await work.releases.get("2.5") is None
        await work.releases.add(a_release("2.6"))
        await work.commit()

    async with uow() as work:
        assert [v for v in ("2.4", "2.5", "2.6") if await work.releases.get(v)] == ["2.4", "2.6"]


async def test_a_unit_of_work_sees_other_commits_after_its_own(uow: UnitOfWorkFactory) -> None:
    """Reading again after a commit shows what others have committed meanwhile, not a cached copy."""
    await plan(uow, a_delivery())
    async with uow() as mine:
        assert (await mine.deliveries.get(a_delivery().key)) == a_delivery()
        await mine.commit()
        async with uow() as other:
            await other.deliveries.claim([a_delivery().key], at(1), at(6), "herald-other")
            await other.commit()
        again = await mine.deliveries.get(a_delivery().key)
        assert again is not None
        assert again.status is DeliveryStatus.SENDING


# -- deliveries ----------------------------------------------------------------------


async def test_a_delivery_reads_back_as_it_was_added(uow: UnitOfWorkFactory) -> None:
    """Every field of a delivery survives storage, audience order and aware times included."""
    failed = replace(
        a_delivery("email:ops@example.com"),
        status=DeliveryStatus.FAILED,
        error="mailbox full",
        permanent=True,
        attempts=3,
        audience=("email:ops@example.com",),
    )
    sent = replace(a_delivery("shell:@kim"), status=DeliveryStatus.SENT, message_ref="shell:@kim/1", sent_at=at(2))
    await plan(uow, a_delivery(), failed, sent)

    async with uow() as work:
        stored = await work.deliveries.for_release("2.4")

    assert stored == [a_delivery(), failed, sent]
    assert stored[2].sent_at is not None
    assert stored[2].sent_at.utcoffset() == timedelta(0)


async def test_a_delivery_keeps_its_purpose_schedule_and_lease(uow: UnitOfWorkFactory) -> None:
    """Purpose, body, not-before time and lease survive storage; a time in another zone is the same instant."""
    reminder = replace(
        a_delivery("shell:@kim"),
        key=delivery_key("2.4", "engineering", "shell:@kim", "reminder-1"),
        purpose=Purpose.REMINDER,
        body="A reminder: please acknowledge the 2.4 communiqué.",
        not_before=datetime(2025, 3, 14, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        status=DeliveryStatus.SENDING,
        attempts=2,
        leased_until=at(9),
        lease_owner="herald-0123456789ab",
    )
    escalation = replace(
        a_delivery("shell:@lead"),
        key=delivery_key("2.4", "engineering", "shell:@lead", "escalation"),
        purpose=Purpose.ESCALATION,
        body="Not acknowledged yet: shell:sam.",
    )
    await plan(uow, a_delivery(), reminder, escalation)

    async with uow() as work:
        stored = await work.deliveries.for_release("2.4")

    assert stored == [a_delivery(), reminder, escalation]
    assert stored[0].purpose is Purpose.COMMUNIQUE
    assert (stored[0].body, stored[0].not_before, stored[0].leased_until, stored[0].lease_owner) == (None,) * 4
    assert stored[1].not_before == datetime(2025, 3, 14, 10, 0, tzinfo=UTC)  # the same instant


async def test_add_new_is_idempotent(uow: UnitOfWorkFactory) -> None:
    """Adding the same deliveries again inserts nothing and changes nothing."""
    deliveries = [a_delivery("shell:#engineering"), a_delivery("shell:@kim"), a_delivery("shell:@sam")]
    await announce(uow, a_release())
    async with uow() as work:
        assert await work.deliveries.add_new(deliveries) == 3
        await work.commit()
    async with uow() as work:
        [claimed] = await work.deliveries.claim([deliveries[0].key], at(1), at(6), "herald-one")
        assert await work.deliveries.add_new(deliveries) == 0
        await work.commit()

    async with uow() as work:
        stored = await work.deliveries.for_release("2.4")
    assert stored == [claimed, *deliveries[1:]]


async def test_add_new_inserts_only_the_unknown_keys(uow: UnitOfWorkFactory) -> None:
    """A batch mixing stored and new keys inserts the new ones, in order, after the old."""
    await plan(uow, a_delivery("shell:@kim"))
    batch = [a_delivery("shell:#engineering"), replace(a_delivery("shell:@kim"), attempts=9), a_delivery("shell:@sam")]
    async with uow() as work:
        assert await work.deliveries.add_new(batch) == 2
        assert await work.deliveries.add_new([]) == 0
        await work.commit()

    async with uow() as work:
        stored = await work.deliveries.for_release("2.4")
    assert [d.target for d in stored] == ["shell:@kim", "shell:#engineering", "shell:@sam"]
    assert stored[0].attempts == 0


async def test_an_update_stores_the_outcome(uow: UnitOfWorkFactory) -> None:
    """A delivery recorded as sent, or failed, reads back so."""
    await plan(uow, a_delivery("shell:#engineering"), a_delivery("shell:@kim"))
    sent = a_delivery("shell:#engineering").sent("shell:#engineering/42", at(3))
    failed = a_delivery("shell:@kim").failed("no such user", permanent=True, now=at(4))
    async with uow() as work:
        await work.deliveries.update(sent)
        await work.deliveries.update(failed)
        await work.commit()

    async with uow() as work:
        assert await work.deliveries.for_release("2.4") == [sent, failed]


async def test_delivery_reports_are_stored_with_the_delivery(uow: UnitOfWorkFactory) -> None:
    """A confirmation by the recipient's server, a noted delay and a bounce read back as recorded."""
    await plan(uow, a_delivery("email:ada@example.com"), a_delivery("email:bob@example.org"))
    ada = a_delivery("email:ada@example.com").sent("mail:aa", at(1))
    ada = ada.noted("delayed: 4.4.1 connection timed out", at(2)).confirmed("delivered: 2.0.0", at(3))
    bob = a_delivery("email:bob@example.org").sent("mail:bb", at(1))
    bob = bob.bounced("550 5.1.1 user unknown", "failed: 5.1.1 user unknown", at(4))
    async with uow() as work:
        await work.deliveries.update(ada)
        await work.deliveries.update(bob)
        await work.commit()

    async with uow() as work:
        stored_ada = await work.deliveries.by_message_ref("mail:aa")
        stored_bob = await work.deliveries.by_message_ref("mail:bb")
    assert stored_ada == ada
    assert stored_ada is not None
    assert (stored_ada.confirmed_at, stored_ada.report) == (at(3), "delivered: 2.0.0")
    assert stored_bob == bob
    assert stored_bob is not None
    assert (stored_bob.status, stored_bob.permanent, stored_bob.error) == (
        DeliveryStatus.FAILED,
        True,
        "550 5.1.1 user unknown",
    )


async def test_one_persons_receipt_is_read_by_release_group_and_person(uow: UnitOfWorkFactory) -> None:
    """receipts.get finds that person's receipt of that group's communiqué, and None for anyone or anything else."""
    await plan(uow, a_delivery())
    async with uow() as work:
        await work.receipts.add(a_receipt("shell:kim", source=ReceiptSource.LINK))
        await work.commit()

    async with uow() as work:
        assert await work.receipts.get("2.4", "engineering", "shell:kim") == a_receipt(
            "shell:kim", source=ReceiptSource.LINK
        )
        assert await work.receipts.get("2.4", "engineering", "shell:sam") is None
        assert await work.receipts.get("2.4", "support", "shell:kim") is None
        assert await work.receipts.get("2.5", "engineering", "shell:kim") is None


async def test_deliveries_are_read_by_kind_per_release(uow: UnitOfWorkFactory) -> None:
    """of_kind lists one release's deliveries to targets of that kind (every mailbox), in insertion order."""
    mailbox = replace(a_delivery("email:ada@example.com"), kind=Kind.EMAIL)
    other_mailbox = replace(a_delivery("email:bob@example.org"), kind=Kind.EMAIL)
    await plan(uow, mailbox, a_delivery("shell:#engineering"), other_mailbox)
    await announce(uow, a_release("2.5"))
    async with uow() as work:
        await work.deliveries.add_new([replace(a_delivery("email:cy@example.net", version="2.5"), kind=Kind.EMAIL)])
        await work.commit()

    async with uow() as work:
        assert await work.deliveries.of_kind("2.4", Kind.EMAIL) == [mailbox, other_mailbox]
        assert await work.deliveries.of_kind("2.4", Kind.WEBHOOK) == []


async def test_updating_a_delivery_never_added_raises_key_error(uow: UnitOfWorkFactory) -> None:
    """Update changes a stored delivery; it does not create one."""
    await announce(uow, a_release())
    async with uow() as work:
        with pytest.raises(KeyError):
            await work.deliveries.update(a_delivery())


async def test_a_delivery_is_found_by_its_message_ref(uow: UnitOfWorkFactory) -> None:
    """by_message_ref finds the delivery whose sent message has that reference, and None otherwise."""
    await plan(uow, a_delivery("shell:#engineering"), a_delivery("shell:@kim"))
    sent = a_delivery("shell:@kim").sent("shell:@kim/7", at(1))
    async with uow() as work:
        await work.deliveries.update(sent)
        await work.commit()

    async with uow() as work:
        assert await work.deliveries.by_message_ref("shell:@kim/7") == sent
        assert await work.deliveries.by_message_ref("shell:@kim/8") is None


async def test_deliveries_are_listed_by_status(uow: UnitOfWorkFactory) -> None:
    """in_status lists every delivery in that status, across releases, in insertion order."""
    await announce(uow, a_release("2.5"))
    await plan(
        uow,
        a_delivery("shell:#engineering"),
        a_delivery("shell:@kim", status=DeliveryStatus.FAILED),
        a_delivery("shell:@sam"),
    )
    async with uow() as work:
        await work.deliveries.add_new([a_delivery("shell:@kim", version="2.5")])
        await work.deliveries.claim([a_delivery("shell:@sam").key], at(1), at(6), "herald-one")
        await work.commit()

    async with uow() as work:
        pending = await work.deliveries.in_status(DeliveryStatus.PENDING)
        failed = await work.deliveries.in_status(DeliveryStatus.FAILED)
        sending = await work.deliveries.in_status(DeliveryStatus.SENDING)
        sent = await work.deliveries.in_status(DeliveryStatus.SENT)

    assert [(d.version, d.target) for d in pending] == [("2.4", "shell:#engineering"), ("2.5", "shell:@kim")]
    assert [d.target for d in failed] == ["shell:@kim"]
    assert [d.target for d in sending] == ["shell:@sam"]
    assert sent == []


async def test_deliveries_are_listed_per_release(uow: UnitOfWorkFactory) -> None:
    """for_release lists one release's deliveries only."""
    await announce(uow, a_release("2.5"))
    await plan(uow, a_delivery("shell:@kim"), a_delivery("shell:@kim", version="2.5"))

    async with uow() as work:
        assert [d.version for d in await work.deliveries.for_release("2.5")] == ["2.5"]
        assert await work.deliveries.for_release("9.9") == []


# -- receipts ------------------------------------------------------------------------


async def test_a_receipt_is_recorded_once_per_person_and_group(uow: UnitOfWorkFactory) -> None:
    """A person's second acknowledgement of the same communiqué is refused, whatever its source."""
    await plan(uow, a_delivery(), a_delivery(group_id="support"))
    async with uow() as work:
        assert await work.receipts.add(a_receipt("shell:kim", minutes=1)) is True
        assert await work.receipts.add(a_receipt("shell:kim", source=ReceiptSource.BUTTON, minutes=2)) is False
        assert await work.receipts.add(a_receipt("shell:kim", source=ReceiptSource.REACTION, minutes=3)) is False
        assert await work.receipts.add(a_receipt("shell:kim", group_id="support", minutes=4)) is True
        assert await work.receipts.add(a_receipt("shell:sam", minutes=5)) is True
        await work.commit()

    async with uow() as work:
        assert await work.receipts.add(a_receipt("shell:sam", source=ReceiptSource.LINK, minutes=6)) is False
        receipts = await work.receipts.for_release("2.4")
    assert receipts == [
        a_receipt("shell:kim", minutes=1),
        a_receipt("shell:kim", group_id="support", minutes=4),
        a_receipt("shell:sam", minutes=5),
    ]


async def test_receipts_from_outside_the_audience_are_kept_apart_from_every_count(uow: UnitOfWorkFactory) -> None:
    """An outside receipt is stored and counted apart: not acknowledged, expected, late, per delivery or waiting."""
    await plan(uow, a_delivery())
    async with uow() as work:
        assert await work.receipts.add(a_receipt("shell:kim", minutes=1)) is True
        assert await work.receipts.add(replace(a_receipt("shell:newcomer", minutes=2), outside=True)) is True
        await work.commit()

    async with uow() as work:
        assert await work.receipts.counts("2.4") == {"engineering": 1}
        assert await work.receipts.outside_counts("2.4") == {"engineering": 1}
        assert await work.receipts.expected("2.4") == {"engineering": 2}  # kim and sam, the audience
        assert await work.receipts.waiting("2.4") == {"engineering": ["shell:sam"]}
        assert await work.receipts.count_after("2.4", "engineering", at(0)) == 1
        key = delivery_key("2.4", "engineering", "shell:#engineering")
        assert await work.receipts.count_for("2.4", "engineering", key) == 1
        stored = await work.receipts.get("2.4", "engineering", "shell:newcomer")
        assert stored is not None
        assert stored.outside is True
        assert await work.receipts.is_meant_for("2.4", "engineering", "shell:sam") is True
        assert await work.receipts.is_meant_for("2.4", "engineering", "shell:newcomer") is False
        assert await work.receipts.is_meant_for("2.4", "support", "shell:sam") is False


async def test_receipts_come_oldest_first(uow: UnitOfWorkFactory) -> None:
    """for_release lists receipts by the time they were given, not the order they were stored."""
    await plan(uow, a_delivery())
    async with uow() as work:
        for person, minutes in (("shell:sam", 9), ("shell:kim", 1), ("shell:lee", 5)):
            await work.receipts.add(a_receipt(person, minutes=minutes))
        await work.commit()

    async with uow() as work:
        assert [r.person for r in await work.receipts.for_release("2.4")] == ["shell:kim", "shell:lee", "shell:sam"]
        assert await work.receipts.for_release("2.5") == []


# -- the audit log -------------------------------------------------------------------


async def test_audit_entries_come_back_in_the_order_they_were_appended(uow: UnitOfWorkFactory) -> None:
    """for_release gives one release's entries in append order, refusals and details included."""
    refused = AuditEntry(
        at=at(2),
        actor="shell:kim",
        action="approve_release",
        version="2.4",
        outcome=Outcome.REFUSED,
        detail="Only an approver can give the final approval.",
    )
    entries = [an_entry("announce_release", minutes=5), refused, an_entry("confirm_release", minutes=1)]
    async with uow() as work:
        await work.audit.append(entries[0])
        await work.audit.append(an_entry("announce_release", version="2.5"))
        await work.audit.append(refused)
        await work.audit.append(an_entry("show_help", version=None))
        await work.audit.append(entries[2])
        await work.commit()

    async with uow() as work:
        assert await work.audit.for_release("2.4") == chained(entries)  # each linked to the one before
        assert [e.version for e in await work.audit.for_release("2.5")] == ["2.5"]
