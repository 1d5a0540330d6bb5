"""Where a delivery goes and what it says: its platform's link and the message built from its release."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.domain.delivery import Delivery, Purpose
from bot.domain.destinations import Kind, Platform
from bot.domain.plan import Group, Plan
from bot.domain.release import Release
from bot.service.messages import outgoing
from bot.service.ports import OutgoingMessage, PlatformLink
from bot.service.templating import RenderError
from bot.service.walkthrough import render_subject


class Router:
    """Finds a delivery's platform and builds its message; e-mail subjects are rendered once per release."""

    def __init__(self, *, plan: Plan, links: Mapping[Platform, PlatformLink]) -> None:
        self._plan = plan
        self._links = links
        self._subjects: dict[tuple[str, str], str] = {}  # (version, group) -> rendered e-mail subject

    def route(self, delivery: Delivery, release: Release | None) -> tuple[PlatformLink | None, OutgoingMessage | None]:
        """The delivery's platform (None: not configured) and its message (None: nothing left to send)."""
        link = self._links.get(delivery.to.platform)
        return link, self._message(delivery, release) if release is not None else None

    def _message(self, delivery: Delivery, release: Release) -> OutgoingMessage | None:
        communique = release.communiques.get(delivery.group_id)
        if communique is None:
            return None
        message = outgoing(self._plan, delivery, delivery.body or communique.text)
        if message is None or delivery.kind is not Kind.EMAIL:
            return message
        group = self._plan.group(delivery.group_id)
        return replace(
            message,
            subject=self._subject(release, group),
            read_receipt=group.read_receipt and delivery.purpose is Purpose.COMMUNIQUE,
        )

    def _subject(self, release: Release, group: Group) -> str:
        """The group's e-mail subject, rendered once per release (the walkthrough checked it renders)."""
        cached = self._subjects.get((release.version, group.id))
        if cached is None:
            try:
                cached = render_subject(self._plan, release.version, group, release.notes)
            except RenderError:  # the plan changed since the check: a plain, safe subject
                cached = f"{release.product} {release.version}"
            self._subjects[(release.version, group.id)] = cached
        return cached
