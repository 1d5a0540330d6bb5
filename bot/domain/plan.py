"""The Release Communications plan: who hears what, where, and what receipt is asked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.destinations import Destination
from bot.domain.errors import NotFound
from bot.domain.fallback import FallbackStep
from bot.domain.notes import NotesSource
from bot.domain.order import ReceiptGate
from bot.domain.people import People

DEFAULT_SUBJECT = "{{ product }} {{ version }} is live"
"""The e-mail subject template of a group that sets none."""


class ReceiptLevel(StrEnum):
    """What a group's readers owe as proof: each level includes the ones above it."""

    DELIVERED = "delivered"  # the copy reached them (sent; for e-mail, not bounced)
    READ = "read"  # their mail client reported it displayed (an MDN), or they acknowledged
    ACKNOWLEDGED = "acknowledged"  # they pressed Acknowledge, reacted, or clicked the link


class ReleaseLevel(StrEnum):
    """How big a release is, against the one before it: a group hears of releases of its level and up."""

    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"

    @property
    def rank(self) -> int:
        """Its order: patch 0, minor 1, major 2."""
        return list(ReleaseLevel).index(self)


class Versioning(StrEnum):
    """How the plan's versions are read and compared."""

    SEMVER = "semver"  # 2.4.1, 3.0.0-rc.1 (semver.org)
    PEP440 = "pep440"  # 2.4.1, 3.0.0rc1 (Python's versions)


class AckPolicy(StrEnum):
    """Whether a group's recipients are asked to acknowledge."""

    REQUIRED = "required"  # counted, reminded until the deadline, then escalated
    OPTIONAL = "optional"  # counted, never chased
    NONE = "none"  # no Acknowledge button, nothing counted


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """Who a group's messages say they come from; a field left None keeps the platform's configured sender."""

    email_from: str | None = None  # the e-mail From header: "Release Team <releases@example.com>"
    username: str | None = None  # Slack: the name shown on the group's posts
    icon: str | None = None  # Slack: an emoji code (":rocket:") or an https URL of an image
    # Discord: the webhook the group's channel copy is posted through. Its URL holds the webhook's
    # token, a secret: it is never shown, so it is left out of the repr.
    discord_webhook: str | None = field(default=None, repr=False)
    discord_username: str | None = None  # Discord: the name on the webhook's posts (None: the webhook's own)
    discord_avatar: str | None = None  # Discord: an https URL of the image on them (None: the webhook's own)

    @property
    def icon_emoji(self) -> str | None:
        """The icon when it is an emoji code."""
        return self.icon if self.icon and self.icon.startswith(":") else None

    @property
    def icon_url(self) -> str | None:
        """The icon when it is an image's URL."""
        return self.icon if self.icon and not self.icon.startswith(":") else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """One stakeholder group and the communiqué it must receive."""

    id: str
    name: str
    to: tuple[Destination, ...]
    template: str
    template_name: str
    ack: AckPolicy
    ack_within: timedelta
    remind_every: timedelta
    escalate_to: tuple[Destination, ...] = ()
    after: tuple[str, ...] = ()  # every group this one waits for, in either form of ``after``
    gates: tuple[ReceiptGate, ...] = ()  # of those, the ones whose receipts it waits for too
    allow_broadcast_mentions: bool = False
    send_at: datetime | None = None  # not before this moment
    send_after: timedelta | None = None  # not before this long after the final approval
    subject: str = DEFAULT_SUBJECT  # the e-mail subject, a template rendered like the message
    read_receipt: bool = False  # e-mail: also ask the reader's client for a read receipt (RFC 8098)
    ack_link_valid_for: timedelta = timedelta(days=30)  # e-mail: how long a personal acknowledgement link works
    sender: Sender | None = None  # who its messages come from (None: each platform's configured sender)
    notify_corrections: bool = False  # a correction edited into a chat copy is also announced below it
    require: ReceiptLevel = ReceiptLevel.ACKNOWLEDGED  # what completes a reader: the level counted, chased, gated
    announce_for: ReleaseLevel = ReleaseLevel.PATCH  # the smallest release this group hears of
    prereleases: bool = True  # whether it hears of pre-releases (2.5.0-rc.1)
    components: frozenset[str] = frozenset()  # set: it hears only of releases of one of these (or of the whole)
    announcers: frozenset[str] = frozenset()  # set: only they (and approvers) may act for this group
    fallback: tuple[FallbackStep, ...] = ()  # who still waits after each step's time gets it on its medium
    sections: tuple[str, ...] = ()  # the release notes' sections its template is about (Added, Security)

    def not_before(self, approved_at: datetime) -> datetime | None:
        """When this group's communiqué may leave, given the moment of the final approval."""
        moments = [m for m in (self.send_at, approved_at + self.send_after if self.send_after else None) if m]
        return max(moments, default=None)

    def gate(self, group_id: str) -> ReceiptGate | None:
        """The receipt gate on the earlier group ``group_id`` (None: waiting for its sending is enough)."""
        return next((g for g in self.gates if g.group == group_id), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSnapshot:
    """A plan file's text and its SHA-256, as kept with a release when it is announced.

    The digest is of the text's UTF-8 bytes, which are the file's own bytes: ``sha256sum``
    on the file gives the same.
    """

    source: str  # where the text was read from (a path, or ``<plan>``)
    text: str
    sha256: str

    @classmethod
    def of(cls, text: str, source: str) -> PlanSnapshot:
        """The snapshot of ``text``, read from ``source``."""
        return cls(source=source, text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A validated plan. Build it with ``bot.service.planfile.load_plan``."""

    product: str
    announcers: frozenset[str]
    approvers: frozenset[str]
    groups: tuple[Group, ...]
    vars: Mapping[str, str] = field(default_factory=dict)
    vars_file: str | None = None
    source: str = "<memory>"
    base_dir: str = "."
    viewers: frozenset[str] = frozenset()  # may see who has not acknowledged, without announcing or approving
    people: People = field(default_factory=People)  # ``[people]``: which ids are one person, and their names
    scopes: Mapping[str, frozenset[str]] = field(default_factory=dict)  # ``[access] scopes``: person -> their groups
    versioning: Versioning = Versioning.SEMVER  # how versions are compared for ``announce_for``
    notes: NotesSource | None = None  # ``[notes]``: where each release's own notes are read
    text: str | None = field(default=None, repr=False)  # the plan file's text (None: built in code)

    def snapshot(self) -> PlanSnapshot | None:
        """The plan's text and digest, to keep with a release announced under it (None: no text to keep)."""
        return None if self.text is None else PlanSnapshot.of(self.text, self.source)

    def may_see_names(self, person: str) -> bool:
        """Whether ``person`` may see, in status, who has and has not acknowledged."""
        return person in self.announcers or person in self.approvers or person in self.viewers

    def out_of_scope(self, actor: str, group_ids: Iterable[str]) -> str | None:
        """Why ``actor`` may not act for one of ``group_ids`` (None: they may act for all of them).

        ``[access] scopes`` limits a person to their groups; a group's own ``announcers`` limits
        who may act for it (approvers aside), each enforced wherever a group is acted on.
        """
        scope = self.scopes.get(actor)
        for group_id in group_ids:
            if scope is not None and group_id not in scope:
                mine = ", ".join(sorted(scope)) or "no group"
                return f"your scope in the plan is {mine}, and this touches {group_id}"
            group = next((g for g in self.groups if g.id == group_id), None)
            if group is not None and group.announcers and actor not in group.announcers and actor not in self.approvers:
                return f"only {group_id}'s own announcers may act for it"
        return None

    @property
    def four_eyes(self) -> bool:
        """Whether the plan asks for a second person: approvers are named, so nobody approves their own work."""
        return bool(self.approvers)

    @property
    def group_ids(self) -> tuple[str, ...]:
        """Every group's id, in the plan's order."""
        return tuple(group.id for group in self.groups)

    def __iter__(self) -> Iterator[Group]:
        return iter(self.groups)

    def group(self, group_id: str) -> Group:
        """The group with that id.

        Raises:
            NotFound: naming the groups that do exist.
        """
        for group in self.groups:
            if group.id == group_id:
                return group
        known = ", ".join(g.id for g in self.groups)
        raise NotFound(f"The plan has no group “{group_id}”; its groups are {known}.")

    @property
    def needs_second_approval(self) -> bool:
        """Whether a second person, not the announcer, must approve before sending."""
        return bool(self.approvers)

    def send_order(self) -> list[str]:
        """Group ids in an order where every group comes after those it waits for."""
        done: list[str] = []
        pending = list(self.groups)
        while pending:
            ready = [g for g in pending if all(a in done for a in g.after)]
            if not ready:  # a cycle; the loader refuses such plans, so keep file order
                done.extend(g.id for g in pending)
                break
            for group in ready:
                done.append(group.id)
                pending.remove(group)
        return done
