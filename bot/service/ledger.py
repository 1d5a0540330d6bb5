"""Planning the deliveries a release needs, at the moment it is approved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.domain.delivery import Delivery, DeliveryStatus, delivery_key
from bot.domain.destinations import Destination, Platform
from bot.domain.people import People
from bot.domain.plan import AckPolicy, Group, Plan
from bot.domain.release import Release
from bot.service.ports import PlatformLink, Resolution, ResolvedTarget


def plan_deliveries(
    release: Release,
    plan: Plan,
    links: Mapping[Platform, PlatformLink],
    resolutions: Mapping[Destination, Resolution],
    now: datetime,
) -> list[Delivery]:
    """One delivery per group and concrete target, each with its idempotency key.

    A target reached twice within a group (a person both DMed and in a user group)
    gets one message. Unreachable destinations are recorded as failed deliveries so
    that the status shows them; members a destination names whom Herald will not message
    (a deactivated account, a bot) as never attempted, with why. Audiences name each person by their
    ``People.canonical`` id: one listed person reached on Slack and by e-mail gets both messages, but is expected once.
    """
    planned: dict[str, Delivery] = {}
    for group in plan.groups:
        if group.id not in release.communiques:
            continue
        for destination in group.to:
            resolution = resolutions.get(destination)
            if destination.platform not in links:
                problem: str | None = f"{destination.platform.value} is not configured"
            elif resolution is None:
                problem = "could not be resolved"
            else:
                problem = resolution.problem
            if problem is not None or resolution is None:
                as_target = ResolvedTarget(str(destination), destination.kind, ())
                _add(planned, release.version, group, plan.people, destination, as_target, problem, now)
                continue
            for target in resolution.targets:
                _add(planned, release.version, group, plan.people, destination, target, None, now)
            for target, why in resolution.excluded:  # named, never messaged: recorded, so the audience adds up
                _add(planned, release.version, group, plan.people, destination, target, why, now, unreachable=True)
    return list(planned.values())


def _add(
    planned: dict[str, Delivery],
    version: str,
    group: Group,
    people: People,
    via: Destination,
    target: ResolvedTarget,
    error: str | None,
    now: datetime,
    *,
    unreachable: bool = False,
) -> None:
    key = delivery_key(version, group.id, target.destination)
    audience = tuple(sorted({people.canonical(p) for p in target.audience})) if group.ack is not AckPolicy.NONE else ()
    existing = planned.get(key)
    if existing is not None:
        if error is None and existing.status is DeliveryStatus.PENDING:
            planned[key] = replace(existing, audience=tuple(sorted(set(existing.audience) | set(audience))))
        return
    scheduled = group.not_before(now) if error is None else None
    planned[key] = Delivery(
        key=key,
        version=version,
        group_id=group.id,
        target=target.destination,
        via=str(via),
        kind=target.kind,
        audience=audience,
        status=_status(error, unreachable=unreachable),
        error=error,
        permanent=error is not None,
        created_at=now,
        updated_at=now,
        not_before=scheduled,
    )


def _status(error: str | None, *, unreachable: bool) -> DeliveryStatus:
    if unreachable:
        return DeliveryStatus.UNREACHABLE
    return DeliveryStatus.FAILED if error else DeliveryStatus.PENDING
