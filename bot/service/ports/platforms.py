"""The platforms' ports: who a destination reaches, how a message is sent, and how a copy in doubt is found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.domain.budgets import UNLIMITED, Limits
from bot.domain.delivery import Purpose
from bot.domain.destinations import Destination, Kind, Target
from bot.domain.errors import DeliveryError
from bot.domain.plan import AckPolicy, Sender


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A concrete place to send one message, and who is expected to acknowledge it."""

    destination: str  # the target's written form: ``slack:@U0123``
    kind: Kind
    audience: tuple[str, ...]

    @property
    def to(self) -> Target:
        """The target, typed."""
        return Target.written(self.destination, self.kind)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a plan destination expands to.

    ``problem`` is set when the destination cannot be reached (no targets then);
    ``transient`` when that may pass (the platform was rate limiting or did not answer),
    so it is looked up again rather than recorded as a failure; ``note`` says anything
    else a person should know (e.g. "simulated locally").
    """

    destination: Destination
    targets: tuple[ResolvedTarget, ...]
    problem: str | None = None
    note: str | None = None
    transient: bool = False
    # Members the destination names whom Herald will not message there, each with why (a deactivated
    # account, a bot): recorded as never attempted, so the intended audience still adds up.
    excluded: tuple[tuple[ResolvedTarget, str], ...] = ()

    @classmethod
    def failed(cls, destination: Destination, error: DeliveryError) -> Resolution:
        """The destination could not be looked up: a problem for good, or one that may pass."""
        return cls(destination, (), problem=str(error), transient=not error.permanent)


class Directory(Protocol):
    """Expands plan destinations (channels, user groups, roles) into targets and people."""

    async def resolve(self, destination: Destination) -> Resolution:
        """Resolve one destination. Never raises for an unreachable one: set ``problem``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """One communiqué on its way to one target."""

    delivery_key: str
    version: str
    product: str
    group_id: str
    group_name: str
    target: str
    kind: Kind
    text: str
    ack: AckPolicy
    purpose: Purpose = Purpose.COMMUNIQUE
    attempt: int = 1
    allow_mentions: bool = False  # the group lets @channel/@here through; otherwise adapters neutralise them
    subject: str = ""  # for media with a subject line (e-mail): the group's, rendered, one line
    read_receipt: bool = False  # e-mail: ask the reader's client for a read receipt (RFC 8098)
    sender: Sender | None = None  # the group's own sender (From, Slack name and icon); None: the platform's
    correction: int | None = None  # the text is revision N, correcting an earlier one: shown as corrected
    retracted: str | None = None  # the release was withdrawn, for this reason: the copy says so
    # Reached through a subscription (``subscribers:api``: "api"; ``subscribers:all``: "*"): the copy carries a
    # one-step way out (a button in chat, List-Unsubscribe in e-mail) that ends the subscriptions that brought it.
    unsubscribe: str | None = None

    @property
    def to(self) -> Target:
        """Where it goes, typed (``target`` is its written form)."""
        return Target.written(self.target, self.kind)


class Messenger(Protocol):
    """Sends communiqués on one platform."""

    async def send(self, message: OutgoingMessage) -> str:
        """Deliver the message and return the platform's reference to it.

        Raises:
            RetryableDeliveryError: the platform may accept it later.
            PermanentDeliveryError: it never will.
        Implementers need not deduplicate: the ledger never sends a key twice.
        """
        ...


@runtime_checkable
class Reconciler(Protocol):
    """A messenger that can tell whether a message it may have sent is on the platform."""

    async def find(self, message: OutgoingMessage, since: datetime) -> str | None:
        """The reference of the message with ``message.delivery_key`` posted since ``since``, or None.

        None means the platform was asked and has no such message, so sending it is safe.

        Raises:
            RetryableDeliveryError: ask again later (a 429, a time-out: never a reason to send blind).
            PermanentDeliveryError: the platform cannot be asked here (a missing scope, a channel
                left); the caller sends again unverified and says so.
        """
        ...


@runtime_checkable
class Editor(Protocol):
    """A messenger that can change a copy it sent, in place (a chat message, a web page)."""

    async def edit(self, message: OutgoingMessage, ref: str) -> None:
        """Make the copy ``ref`` carry ``message`` (its text, and ``message.delivery_key`` as its mark).

        Raises:
            RetryableDeliveryError: the platform may accept it later.
            PermanentDeliveryError: it never will (the copy was deleted, the channel left).
        """
        ...

    async def carries(self, message: OutgoingMessage, ref: str) -> bool:
        """Whether the copy ``ref`` already carries ``message``'s mark: an edit whose fate is in doubt landed.

        Raises:
            RetryableDeliveryError: ask again later.
            PermanentDeliveryError: the platform cannot be asked; the caller edits again, which is harmless.
        """
        ...


@dataclass(frozen=True, slots=True)
class PlatformLink:
    """A configured platform: how to expand its destinations, send to them, and how fast."""

    directory: Directory
    messenger: Messenger
    simulated: bool = False
    limits: Limits = UNLIMITED
