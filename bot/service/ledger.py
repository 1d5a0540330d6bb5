"""Planning the deliveries a release needs, at the moment it is approved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.domain.delivery import Delivery, DeliveryStatus, delivery_key
from bot.domain.destinations import Destination, Kind, Platform
from bot.domain.plan import AckPolicy, Plan
from bot.domain.release import Release
from bot.service.ports import PlatformLink, Resolution


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
    that the status shows them.
    """
    deliveries: dict[str, Delivery] = {}
    for group in plan.groups:
        if group.id not in release.communiques:
            continue
        expects_ack = group.ack is not AckPolicy.NONE

        def add(target: str, via: Destination, kind: Kind, audience: tuple[str, ...], error: str | None) -> None:
            key = delivery_key(release.version, group.id, target)
            existing = deliveries.get(key)
            if existing is not None:
                if error is None and existing.status is DeliveryStatus.PENDING:
                    merged = tuple(sorted(set(existing.audience) | set(audience)))
                    deliveries[key] = replace(existing, audience=merged if expects_ack else ())
                return
            deliveries[key] = Delivery(
                key=key,
                version=release.version,
                group_id=group.id,
                target=target,
                via=str(via),
                kind=kind,
                audience=tuple(sorted(set(audience))) if expects_ack else (),
                status=DeliveryStatus.FAILED if error else DeliveryStatus.PENDING,
                error=error,
                permanent=error is not None,
                created_at=now,
                updated_at=now,
            )

        for destination in group.to:
            link = links.get(destination.platform)
            if link is None:
                add(str(destination), destination, destination.kind, (), f"{destination.platform.value} is not configured")
                continue
            resolution = resolutions[destination]
            if resolution.problem:
                add(str(destination), destination, destination.kind, (), resolution.problem)
                continue
            for target in resolution.targets:
                add(target.destination, destination, target.kind, target.audience, None)
    return list(deliveries.values())
