"""What Herald's release site shows: each communiqué posted on a ``web:`` page, newest release first.

A retracted release stays listed: what was posted stays on the page, marked as withdrawn
(and why), so a reader who saw it learns that it no longer holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.destinations import Platform
from bot.domain.plan import AckPolicy, Plan
from bot.domain.release import ReleaseState
from bot.service.ports import UnitOfWork

_PUBLISHED = (ReleaseState.SENDING, ReleaseState.SENT, ReleaseState.RETRACTED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Posting:
    """One communiqué as posted on a page of the release site."""

    version: str
    product: str
    group_id: str
    group_name: str
    page: str
    text: str
    posted_at: datetime
    ref: str  # the posting's message reference: what an acknowledgement on the page names
    asks_acknowledgement: bool  # False once the release is retracted: nothing is left to acknowledge
    revision: int = 1  # the communiqué's revision the page shows (its current one)
    corrected_at: datetime | None = None  # when a correction made that revision (None: never corrected)
    retraction: str | None = None  # why the release was withdrawn (None: it was not)
    retracted_at: datetime | None = None  # when the retraction took effect


async def postings(uow: UnitOfWork, plan: Plan, version: str | None = None) -> list[Posting]:
    """Every posting (of ``version``, or of every release), newest first."""
    if version is not None:
        found = await uow.releases.get(version)
        releases = [found] if found is not None and found.state in _PUBLISHED else []
    else:
        releases = [r for state in _PUBLISHED for r in await uow.releases.in_state(state.value)]
    groups = {g.id: g for g in plan.groups}
    posted: list[Posting] = []
    for release in releases:
        withdrawn = release.retraction if release.retracted_at is not None else None  # in effect, not proposed
        for delivery in await uow.deliveries.for_release(release.version):
            if (
                delivery.to.platform is not Platform.WEB
                or delivery.status is not DeliveryStatus.SENT
                or delivery.purpose is not Purpose.COMMUNIQUE
                or delivery.message_ref is None
            ):
                continue
            group = groups.get(delivery.group_id)
            communique = release.communiques.get(delivery.group_id)
            posted.append(
                Posting(
                    version=release.version,
                    product=release.product,
                    group_id=delivery.group_id,
                    group_name=group.name if group else delivery.group_id,
                    page=delivery.to.id,
                    text=delivery.body or (communique.text if communique else ""),
                    posted_at=delivery.sent_at or delivery.updated_at,
                    ref=delivery.message_ref,
                    asks_acknowledgement=withdrawn is None and group is not None and group.ack is not AckPolicy.NONE,
                    revision=communique.revision if communique else 1,
                    corrected_at=communique.corrected_at if communique else None,
                    retraction=withdrawn.reason if withdrawn is not None else None,
                    retracted_at=release.retracted_at if withdrawn is not None else None,
                )
            )
    return sorted(posted, key=lambda p: (p.posted_at, p.version, p.group_id), reverse=True)
