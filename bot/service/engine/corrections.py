"""Corrections of copies already sent: edited in place where the platform allows, followed up where it does not.

A correction is a delivery of its own (``Purpose.CORRECTION``) that names the copy it
corrects (``replaces``). When it comes up it looks at that copy first: still on its way,
it waits (the copy will carry the corrected text anyway, or be corrected once sent); never
delivered, there is nothing to correct; sent with the corrected revision already, nothing
to do. Otherwise a platform that can edit (``Editor``: Slack, Discord, the release page)
changes the copy in place, and any other (e-mail, webhooks, Apprise) gets a short
follow-up that says it corrects the earlier message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot.domain.delivery import Delivery, DeliveryStatus
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
        if copy is None or copy.status is DeliveryStatus.FAILED:
            return delivery.failed(
                "nothing to correct: the copy it corrects was not delivered (a retry of it sends the corrected text)",
                permanent=True,
                now=now,
            )
        if copy.status is not DeliveryStatus.SENT:
            return delivery.retry_at("waiting for the copy it corrects to be sent", now + _WAIT_FOR_COPY, now)
        if revision is not None and copy.revision is not None and copy.revision >= revision:
            settled = delivery.sent(edited_ref(copy.message_ref or copy.key, delivery), now, revision=revision)
            return replace(settled, report=f"not needed: the copy went out with revision {copy.revision}")
        marked = replace(message, correction=revision)
        if isinstance(link.messenger, Editor) and copy.message_ref is not None:
            return Step(copy.message_ref, marked)
        return Step(None, follow_up(marked))
