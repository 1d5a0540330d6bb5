"""Corrections and retractions of copies already sent: edited in place where the platform allows, followed up
where it does not.

A correction (``Purpose.CORRECTION``) or a retraction (``Purpose.RETRACTION``) is a delivery
of its own that names the copy it changes (``replaces``). When it comes up it looks at that
copy first: still on its way, it waits (a corrected text goes out with it anyway); never
delivered, there is nothing to change (cancelled); sent with the corrected revision already,
nothing to do. Otherwise a platform that can edit (``Editor``: Slack, Discord, the release
page) changes the copy in place (a retracted copy shows its text struck through under
"Retracted: REASON"), and any other (e-mail, webhooks, Apprise) gets a short follow-up that
says what it corrects or withdraws.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.plan import AckPolicy
from bot.domain.release import Release
from bot.service.ports import Clock, Editor, OutgoingMessage, PlatformLink, UnitOfWorkFactory

_WAIT_FOR_COPY = timedelta(seconds=15)  # how long a correction waits before looking at a copy still on its way again


@dataclass(frozen=True, slots=True)
class Step:
    """How a correction goes out: the copy to edit in place (None: send a follow-up), and the message."""

    edit: str | None
    message: OutgoingMessage


def edited_ref(ref: str, delivery: Delivery) -> str:
    """The reference a correction made in place is recorded under: the copy's, marked with the correction.

    Never the copy's own, which keeps naming the copy (receipts find their delivery by it).
    """
    return f"{ref}#{delivery.via}"


def retracted(message: OutgoingMessage, reason: str, what: str = "Retracted") -> OutgoingMessage:
    """A copy as a retraction (``what``: or a reschedule) leaves it: what and why, then its text struck through;
    nothing left to acknowledge."""
    struck = "\n".join(f"~~{line}~~" if line.strip() else line for line in message.text.splitlines())
    return replace(message, text=f"**{what}:** {reason}\n\n{struck}", ack=AckPolicy.NONE, retracted=reason)


def retraction_notice(message: OutgoingMessage, reason: str, what: str = "Retracted") -> OutgoingMessage:
    """The message that withdraws (or reschedules) a copy which cannot be edited."""
    text = (
        f"{what}: {reason}\n\nThis withdraws the earlier {message.group_name} message about "
        f"{message.product} {message.version}: what it said no longer holds."
    )
    subject = f"{what}: {message.subject}" if message.subject else ""
    return replace(message, text=text, subject=subject, ack=AckPolicy.NONE, retracted=reason)


def follow_up(message: OutgoingMessage) -> OutgoingMessage:
    """The message that corrects a copy which cannot be edited: says what it corrects, then the corrected text."""
    lead = (
        f"Correction: this replaces the earlier {message.group_name} message about {message.product} {message.version}."
    )
    subject = f"Correction: {message.subject}" if message.subject else ""
    return replace(message, text=f"{lead}\n\n{message.text}", subject=subject)


class Corrections:
    """Decides, for one correction about to go out, whether and how: read from its copy in the ledger."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def step(
        self, delivery: Delivery, release: Release, link: PlatformLink, message: OutgoingMessage
    ) -> Step | Delivery:
        """How ``delivery`` goes out, or its outcome when it need not (or may not yet) go out."""
        now = self._clock.now()
        async with self._uow() as uow:
            copy = await uow.deliveries.get(delivery.replaces or "")
        communique = release.communiques.get(delivery.group_id)
        revision = communique.revision if communique is not None else None
        if copy is None or copy.status in (DeliveryStatus.FAILED, DeliveryStatus.CANCELLED, DeliveryStatus.UNREACHABLE):
            return delivery.cancelled("nothing to change: the copy was never delivered", now)
        if copy.status is not DeliveryStatus.SENT:
            return delivery.retry_at("waiting for the copy it changes to be sent", now + _WAIT_FOR_COPY, now)
        editable = isinstance(link.messenger, Editor) and copy.message_ref is not None
        if delivery.purpose is Purpose.RETRACTION:
            withdrawal = release.retraction
            reason, what = (
                (withdrawal.reason, withdrawal.what) if withdrawal is not None else ("withdrawn", "Retracted")
            )
            if editable:
                return Step(copy.message_ref, retracted(message, reason, what))
            return Step(None, retraction_notice(message, reason, what))
        if revision is not None and copy.revision is not None and copy.revision >= revision:
            settled = delivery.sent(edited_ref(copy.message_ref or copy.key, delivery), now, revision=revision)
            return replace(settled, report=f"not needed: the copy went out with revision {copy.revision}")
        marked = replace(message, correction=revision)
        if editable:
            return Step(copy.message_ref, marked)
        return Step(None, follow_up(marked))
