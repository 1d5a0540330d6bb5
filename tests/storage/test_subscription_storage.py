"""Subscriptions in the ledger: every store keeps, replaces, confirms and removes them alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.subscriptions import ALL, Level, Subscription
from bot.service.ports import UnitOfWorkFactory

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _sub(medium: str, component: str = ALL, level: Level = Level.ALL, *, confirmed: bool = True) -> Subscription:
    person = medium.replace(":@", ":").replace("user:", "")
    return Subscription(person=person, medium=medium, component=component, level=level, since=T0, confirmed=confirmed)


async def test_a_place_has_one_subscription_per_component_and_a_second_replaces_it(uow: UnitOfWorkFactory) -> None:
    async with uow() as unit:
        assert await unit.subscriptions.put(_sub("slack:@U1", "api", Level.MINOR)) is None
        await unit.subscriptions.put(_sub("slack:@U1", "web"))
        await unit.commit()
    async with uow() as unit:
        before = await unit.subscriptions.put(_sub("slack:@U1", "api", Level.MAJOR))
        await unit.commit()
    async with uow() as unit:
        mine = await unit.subscriptions.of_media(["slack:@U1"])
    assert before is not None
    assert before.level is Level.MINOR
    assert [(s.component, s.level) for s in mine] == [("api", Level.MAJOR), ("web", Level.ALL)]
    assert mine[0].since == T0


async def test_removing_takes_the_named_components_or_every_one(uow: UnitOfWorkFactory) -> None:
    async with uow() as unit:
        for component in ("api", "web", ALL):
            await unit.subscriptions.put(_sub("discord:user:123456789012345678", component))
        await unit.subscriptions.put(_sub("slack:@U2", "api"))
        gone = await unit.subscriptions.remove("discord:user:123456789012345678", ["api", ALL])
        await unit.commit()
    assert sorted(s.component for s in gone) == [ALL, "api"]
    async with uow() as unit:
        left = await unit.subscriptions.everyone()
        rest = await unit.subscriptions.remove("discord:user:123456789012345678")
        await unit.commit()
    assert [(s.medium, s.component) for s in left] == [
        ("discord:user:123456789012345678", "web"),
        ("slack:@U2", "api"),
    ]
    assert [s.component for s in rest] == ["web"]


async def test_a_mailbox_waiting_for_its_link_counts_only_once_confirmed(uow: UnitOfWorkFactory) -> None:
    waiting = _sub("email:ann@example.com", "api", confirmed=False)
    async with uow() as unit:
        await unit.subscriptions.put(waiting)
        await unit.commit()
    async with uow() as unit:
        assert await unit.subscriptions.everyone() == []
        assert await unit.subscriptions.everyone(confirmed=False) == [waiting]
        confirmed = await unit.subscriptions.confirm(waiting.key)
        await unit.commit()
    assert confirmed is not None
    assert confirmed.confirmed
    async with uow() as unit:
        assert [s.medium for s in await unit.subscriptions.everyone()] == ["email:ann@example.com"]
        assert await unit.subscriptions.confirm("email:nobody@example.com|api") is None


async def test_leaving_without_commit_keeps_no_subscription(uow: UnitOfWorkFactory) -> None:
    async with uow() as unit:
        await unit.subscriptions.put(_sub("shell:@sam"))
    async with uow() as unit:
        assert await unit.subscriptions.get(_sub("shell:@sam").key) is None


async def test_sign_ups_never_confirmed_are_forgotten_after_their_link_expired(uow: UnitOfWorkFactory) -> None:
    old = replace(_sub("email:old@example.com", "api", confirmed=False), since=T0 - timedelta(days=8))
    recent = _sub("email:new@example.com", "api", confirmed=False)
    kept = replace(_sub("email:kept@example.com", "api"), since=T0 - timedelta(days=30))
    async with uow() as unit:
        for subscription in (old, recent, kept):
            await unit.subscriptions.put(subscription)
        assert await unit.subscriptions.forget_unconfirmed(T0 - timedelta(days=7)) == 1
        await unit.commit()
    async with uow() as unit:
        left = await unit.subscriptions.everyone(confirmed=False)
    assert [s.medium for s in left] == ["email:kept@example.com", "email:new@example.com"]
