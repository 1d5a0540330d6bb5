"""Builders for the domain tests: groups and plans, with only what a test cares about said."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.destinations import parse_destination
from bot.domain.plan import AckPolicy, Group, Plan

MakeGroup = Callable[..., Group]
MakePlan = Callable[..., Plan]


@pytest.fixture
def now() -> datetime:
    """A fixed moment; the domain never reads the clock itself."""
    return datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_group() -> MakeGroup:
    """Build a group sent to a shell channel unless told otherwise."""

    def build(
        group_id: str = "support",
        *,
        to: tuple[str, ...] = ("shell:#support",),
        after: tuple[str, ...] = (),
        allow_broadcast_mentions: bool = False,
    ) -> Group:
        return Group(
            id=group_id,
            name=group_id.title(),
            to=tuple(parse_destination(d) for d in to),
            template="Acme Cloud {{ version }} is live.",
            template_name=f"group {group_id!r} message",
            ack=AckPolicy.REQUIRED,
            ack_within=timedelta(hours=24),
            remind_every=timedelta(hours=4),
            after=after,
            allow_broadcast_mentions=allow_broadcast_mentions,
        )

    return build


@pytest.fixture
def make_plan(make_group: MakeGroup) -> MakePlan:
    """Build a plan; by default two groups (engineering, support) and nobody in the access lists."""

    def build(
        *,
        announcers: frozenset[str] = frozenset(),
        approvers: frozenset[str] = frozenset(),
        groups: tuple[Group, ...] | None = None,
    ) -> Plan:
        return Plan(
            product="Acme Cloud",
            announcers=announcers,
            approvers=approvers,
            groups=groups if groups is not None else (make_group("engineering"), make_group("support")),
        )

    return build
