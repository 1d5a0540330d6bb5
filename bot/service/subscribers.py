"""Who a ``subscribers:COMPONENT`` destination reaches for one release: the subscriptions it matches, by its level.

Plan destinations are looked up through each platform's directory before a command; these are
not a platform's but Herald's own: the subscriptions in the ledger that take this release (its
level against the releases before it, whether it is a pre-release, the components it is of),
each reaching its subscriber where they chose. A subscriber whose platform Herald is not
connected to (a mailbox without SMTP) is recorded as never attempted, with why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.domain.destinations import Destination, Platform
from bot.domain.errors import PermanentDeliveryError
from bot.domain.plan import Plan
from bot.domain.subscriptions import ALL, Subscription
from bot.service.announce_rules import level_of
from bot.service.ports import OutgoingMessage, PlatformLink, Resolution, ResolvedTarget


def subscriber_destinations(plan: Plan) -> list[Destination]:
    """The plan's ``subscribers:…`` destinations, each once."""
    return list(dict.fromkeys(d for g in plan.groups for d in g.to if d.platform is Platform.SUBSCRIBERS))


def known_components(plan: Plan) -> frozenset[str]:
    """The components the plan names (a group's ``components``, a ``subscribers:COMPONENT``); empty: it names none."""
    named = {c for g in plan.groups for c in g.components}
    named |= {d.address for d in subscriber_destinations(plan) if d.address != ALL}
    return frozenset(named)


def resolve_subscribers(
    plan: Plan,
    version: str,
    components: Sequence[str],
    earlier: Iterable[str],
    subscriptions: Iterable[Subscription],
    connected: Iterable[Platform],
) -> dict[Destination, Resolution]:
    """Each ``subscribers:…`` destination of the plan, expanded for ``version`` (of ``components``)."""
    destinations = subscriber_destinations(plan)
    if not destinations:
        return {}
    found = level_of(version, [v for v in earlier if v != version], plan.versioning)
    level, pre = found if found is not None else (None, False)
    wanted = list(subscriptions)
    online = set(connected)
    resolved: dict[Destination, Resolution] = {}
    for destination in destinations:
        if destination.address != ALL and components and destination.address not in components:
            note = f"{version} is not a release of {destination.address}: none of its subscribers hears of it"
            resolved[destination] = Resolution(destination, (), note=note)
            continue
        targets: list[ResolvedTarget] = []
        excluded: list[tuple[ResolvedTarget, str]] = []
        for subscription in wanted:
            if not subscription.within(destination) or not subscription.hears(level, pre, components):
                continue
            target = ResolvedTarget(subscription.medium, subscription.kind, (subscription.person,))
            if subscription.platform in online:
                targets.append(target)
            else:
                excluded.append((target, f"subscribed by {subscription.platform.value}, which is not configured"))
        note = f"{len(targets)} subscriber{'s' if len(targets) != 1 else ''} hear of {version}"
        resolved[destination] = Resolution(destination, tuple(targets), note=note, excluded=tuple(excluded))
    return resolved


class _Nobody:
    """No platform call expands subscribers: the desk reads them from the ledger for each release."""

    async def resolve(self, destination: Destination) -> Resolution:
        return Resolution(destination, (), note="the subscribers are found when the release is sent")


class _Never:
    """A subscriber is messaged on their own platform: nothing is ever sent to ``subscribers:`` itself."""

    async def send(self, message: OutgoingMessage) -> str:
        raise PermanentDeliveryError(f"{message.target} is expanded into its subscribers before sending")


SUBSCRIBERS = PlatformLink(_Nobody(), _Never())
"""The desk's link for ``subscribers:…`` destinations: always there, since the ledger holds the subscriptions."""


def with_subscribers(links: Mapping[Platform, PlatformLink]) -> dict[Platform, PlatformLink]:
    """``links`` and the subscribers' own."""
    return {**links, Platform.SUBSCRIBERS: SUBSCRIBERS}
