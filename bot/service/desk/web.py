"""What the desk gives Herald's web pages: private sign-in links, and the dashboard as one viewer sees it."""

from __future__ import annotations

from bot.domain.commands import OpenDashboard
from bot.domain.durations import format_duration
from bot.domain.errors import InvalidState
from bot.service.dashboard import DashboardView, dashboard_view
from bot.service.desk.core import DeskCore
from bot.service.postings import Posting, postings
from bot.service.views import Notice, Reply, Tone


class WebPages(DeskCore):
    """The dashboard: who may open it, and what it shows them."""

    async def _dashboard(self, command: OpenDashboard) -> Reply:
        async with self._uow() as uow:
            await self._release(uow, command.version)  # an unknown release is said as such
            if self._sign_in is None:
                raise InvalidState(
                    "The web dashboard is off in this Herald: whoever runs it sets HERALD_PUBLIC_URL and "
                    "HERALD_LINK_SECRET to turn it on. /release status shows the same figures here."
                )
            link = self._sign_in.dashboard_link(command.actor, command.version)
            await self._audit(uow, command, "sign-in link made")
            await uow.commit()
        text = (
            f"Your private link to the {command.version} dashboard: {link} "
            f"(it signs you in; it works for {format_duration(self._sign_in.valid_for)}, do not pass it on)."
        )
        if not self.plan.may_see_names(command.actor):
            text += " You will see the figures; who has and has not acknowledged is shown to the plan's "
            text += "announcers, approvers and viewers."
        return Reply([Notice(text, Tone.SUCCESS)])

    async def postings(self, version: str | None = None) -> list[Posting]:
        """The communiqués posted on the release site (of ``version``, or all), newest first."""
        async with self._uow() as uow:
            return await postings(uow, self.plan, version)

    async def acknowledged_by(self, version: str, person: str) -> dict[str, bool]:
        """The groups of ``version`` whose communiqué ``person`` has acknowledged, each with whether it counts."""
        async with self._uow() as uow:
            receipts = await uow.receipts.for_release(version)
        # Of the current texts only: a correction asks the group anew, so an earlier receipt leaves the button.
        return {r.group_id: not r.outside for r in receipts if r.person == person and r.superseded is None}

    async def dashboard(self, version: str, viewer: str) -> DashboardView:
        """Release ``version``'s dashboard as ``viewer`` may see it.

        Raises:
            NotFound: no such release.
        """
        async with self._uow() as uow:
            release = await self._release(uow, version)
            return await dashboard_view(uow, self.plan, release, viewer, self._clock.now())
