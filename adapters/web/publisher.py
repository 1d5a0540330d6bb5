"""``web:NAME`` destinations: a communiqué posted on Herald's own release page.

Posting is recording: the page is drawn from the ledger, so a delivery to ``web:releases``
that is sent *is* the posting, with the reference ``web:releases:VERSION:GROUP``. Nobody
is expected to acknowledge a page (its audience is empty); a signed-in reader who presses
*Acknowledge* there is counted when the group's communiqué was meant for them anyway (they
are in its audience elsewhere) and listed apart otherwise.

A page always shows the communiqué's current text, so a correction is on it as soon as it
is approved: to the engine the page is a copy edited in place (an ``Editor``) whose edit
has nothing left to do and is never in doubt.
"""

from __future__ import annotations

from bot.domain.budgets import UNLIMITED
from bot.domain.destinations import Destination, Kind, Platform
from bot.service.ports import OutgoingMessage, PlatformLink, Resolution, ResolvedTarget

REF_PREFIX = "web:"


def posting_ref(page: str, version: str, group_id: str) -> str:
    """The reference of a communiqué posted on ``page``."""
    return f"{REF_PREFIX}{page}:{version}:{group_id}"


class PageDirectory:
    """A page is one target; nobody in particular is expected to acknowledge it."""

    async def resolve(self, destination: Destination) -> Resolution:
        return Resolution(destination, (ResolvedTarget(str(destination), Kind.CHANNEL, ()),))


class PagePublisher:
    """Posts a communiqué on a page of the release site: its record in the ledger is the posting."""

    async def send(self, message: OutgoingMessage) -> str:
        return posting_ref(message.to.id, message.version, message.group_id)

    async def edit(self, message: OutgoingMessage, ref: str) -> None:
        """Nothing to change: the page is drawn from the ledger, where the corrected text already is."""

    async def carries(self, message: OutgoingMessage, ref: str) -> bool:
        """Always: a page shows the communiqué's current text, so its edit cannot be in doubt."""
        return True


def page_links() -> dict[Platform, PlatformLink]:
    """``web:`` destinations, posted on Herald's release site."""
    return {Platform.WEB: PlatformLink(PageDirectory(), PagePublisher(), limits=UNLIMITED)}
