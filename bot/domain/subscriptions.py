"""People who choose to hear of releases: what they subscribed to, where, and which releases that means.

A subscription is one place (a Slack or Discord DM, a mailbox, a shell name) asking to hear of
releases of one component (or of the whole product: ``component`` None) at a level: ``major``
(major releases only), ``minor`` (minor and major) or ``all`` (every release, pre-releases
included). A place holds at most one subscription per component; subscribing again changes
its level. A mailbox signs up from the web and counts only once it has confirmed by the link
it was sent (double opt-in); chat subscriptions are confirmed by being typed by their owner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.destinations import Destination, Kind, Platform
from bot.domain.plan import ReleaseLevel

ALL = "*"  # the component of a subscription to the whole product, as stored and as ``subscribers:all`` names it
_COMPONENT = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}\Z")


class Level(StrEnum):
    """How many releases a subscriber hears of."""

    MAJOR = "major"  # major releases only
    MINOR = "minor"  # minor and major releases
    ALL = "all"  # every release, patches and pre-releases too

    def takes(self, level: ReleaseLevel | None, prerelease: bool) -> bool:
        """Whether a release of ``level`` (None: its version could not be read) reaches this subscriber."""
        if self is Level.ALL:
            return True
        if prerelease or level is None:
            return False  # a version read as nothing cannot be shown to be major or minor
        return level is ReleaseLevel.MAJOR or (self is Level.MINOR and level is ReleaseLevel.MINOR)

    @property
    def described(self) -> str:
        """How a person is told what they get: "major releases", "minor and major releases", "every release"."""
        return {Level.MAJOR: "major releases", Level.MINOR: "minor and major releases", Level.ALL: "every release"}[
            self
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """One place's wish to hear of a component's releases at a level."""

    person: str  # who: ``slack:U0123``, ``discord:8123…``, ``shell:sam``, ``email:ann@example.com``
    medium: str  # where they hear: a DM or mailbox target as written, ``slack:@U0123``, ``email:ann@example.com``
    component: str = ALL
    level: Level = Level.MINOR
    since: datetime
    confirmed: bool = True  # a mailbox that signed up on the web: False until its link is used

    @property
    def key(self) -> str:
        """What identifies it: one subscription per place and component."""
        return subscription_key(self.medium, self.component)

    @property
    def kind(self) -> Kind:
        """What sort of place it is delivered to."""
        return Kind.EMAIL if self.medium.startswith("email:") else Kind.DM

    @property
    def platform(self) -> Platform:
        """The platform that carries it."""
        return Platform(self.medium.split(":", 1)[0])

    @property
    def what(self) -> str:
        """What it is to, for a person: "api (major releases)"."""
        name = "every component" if self.component == ALL else self.component
        return f"{name} ({self.level.described})"

    def hears(self, level: ReleaseLevel | None, prerelease: bool, components: Iterable[str]) -> bool:
        """Whether a release (of ``components``; none: the whole product) reaches this subscription."""
        of = set(components)
        if self.component != ALL and of and self.component not in of:
            return False
        return self.confirmed and self.level.takes(level, prerelease)

    def within(self, destination: Destination) -> bool:
        """Whether the plan destination ``subscribers:COMPONENT`` (or ``subscribers:all``) takes this subscription.

        ``subscribers:api`` takes those who subscribed to api and those who subscribed to every component.
        """
        return destination.address == ALL or self.component in (ALL, destination.address)


def subscription_key(medium: str, component: str) -> str:
    """The key of the subscription of ``medium`` to ``component``."""
    return f"{medium}|{component}"


def parse_component(text: str) -> str:
    """A component name as a subscription stores it (``all`` or ``*``: the whole product).

    Raises:
        ValueError: it is not a component name.
    """
    name = text.strip().lower()
    if name in ("all", ALL, "everything"):
        return ALL
    if not _COMPONENT.match(name):
        raise ValueError(f"“{name[:30]}” is not a component name (letters, digits, . _ -)")
    return name
