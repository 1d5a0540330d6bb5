"""The desk's shared state and steps: the plan, the ledger, resolved destinations, the audit trail."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

from bot.domain.audit import AuditEntry, Outcome
from bot.domain.commands import AnnounceRelease, Command
from bot.domain.destinations import Destination, Platform
from bot.domain.errors import HeraldError, NotFound
from bot.domain.plan import Plan
from bot.domain.release import Release
from bot.service.ports import Clock, PlatformLink, Resolution, SignInLinks, UnitOfWork, UnitOfWorkFactory
from bot.service.ports.forges import ForgeReleases
from bot.service.receipts import ReceiptBook
from bot.service.reminders import Reminders
from bot.service.status import count_status
from bot.service.subscribers import resolve_subscribers, subscriber_destinations, with_subscribers
from bot.service.views import ReleaseView, StatusView
from bot.service.walkthrough import build_view

log = logging.getLogger(__name__)

RETRIES_ON_CONFLICT = 3  # a release changed by someone else meanwhile: read again and re-decide, this often
_LOOKUPS_AT_ONCE = 8  # destinations resolved at the same time (each platform still paces its calls)


class DeskCore:
    """What every part of the desk uses: the plan, units of work, platforms, the clock, the audit log."""

    def __init__(
        self,
        *,
        plan: Plan,
        uow: UnitOfWorkFactory,
        links: Mapping[Platform, PlatformLink],
        clock: Clock,
        on_sending: Callable[[str], None] | None = None,
        reminders: Reminders | None = None,
        sign_in: SignInLinks | None = None,
        forges: ForgeReleases | None = None,
    ) -> None:
        self.plan = plan
        self._uow = uow
        self.links = with_subscribers(links)  # subscribers:… is the ledger's own, looked up per release
        self._connected = frozenset(links)  # the platforms a subscriber can be reached on
        self._subscribed: dict[str, dict[Destination, Resolution]] = {}  # per version, as looked up last
        self._clock = clock
        self._on_sending = on_sending or (lambda _version: None)
        self._reminders = reminders
        self._sign_in = sign_in  # None: the web pages are off (no HERALD_PUBLIC_URL)
        self._forges = forges  # GitHub and GitLab releases, for a plan whose notes are there
        self._resolutions: dict[Destination, Resolution] = {}
        self._resolving = asyncio.Lock()
        self._receipts = ReceiptBook(plan=plan, uow=uow, clock=clock, on_recorded=self._on_sending)

    async def _record_refusal(self, command: Command, error: HeraldError, version: str | None = None) -> None:
        version = version or getattr(command, "version", None)
        async with self._uow() as uow:
            await uow.audit.append(
                AuditEntry(
                    at=self._clock.now(),
                    actor=command.actor,
                    action=action_name(command),
                    version=version,
                    outcome=Outcome.REFUSED,
                    detail=str(error),
                )
            )
            await uow.commit()

    async def _audit(self, uow: UnitOfWork, command: Command, detail: str = "", version: str | None = None) -> None:
        await uow.audit.append(
            AuditEntry(
                at=self._clock.now(),
                actor=command.actor,
                action=action_name(command),
                version=version or getattr(command, "version", None),
                outcome=Outcome.DONE,
                detail=detail,
            )
        )

    async def _release(self, uow: UnitOfWork, version: str) -> Release:
        release = await uow.releases.get(version)
        if release is None:
            raise NotFound(f"Release {version} has not been announced. Start with /release announce {version}.")
        return release

    async def resolutions(self, refresh: bool = False) -> dict[Destination, Resolution]:
        """Every plan destination resolved through its platform's directory (cached; one resolver at a time).

        Destinations are looked up several at once: each platform's budgets pace the calls,
        so lookups of different methods (a channel's members, a user group) overlap.
        """
        async with self._resolving:
            if refresh:
                self._resolutions.clear()
            wanted = {
                destination: link
                for group in self.plan.groups
                for destination in group.to
                if (link := self.links.get(destination.platform)) is not None
                # what may have passed is asked again
                and (destination not in self._resolutions or self._resolutions[destination].transient)
            }
            lookups = asyncio.Semaphore(_LOOKUPS_AT_ONCE)

            async def resolve(destination: Destination, link: PlatformLink) -> None:
                async with lookups:
                    self._resolutions[destination] = await link.directory.resolve(destination)

            await asyncio.gather(*(resolve(destination, link) for destination, link in wanted.items()))
        return self._resolutions

    async def _subscribers_for(
        self, uow: UnitOfWork, version: str, components: tuple[str, ...]
    ) -> dict[Destination, Resolution]:
        """The plan's ``subscribers:…`` destinations expanded for ``version``, read in ``uow``."""
        if not subscriber_destinations(self.plan):
            return {}
        return resolve_subscribers(
            self.plan,
            version,
            components,
            await uow.releases.versions(),
            await uow.subscriptions.everyone(),
            self._connected,
        )

    async def _look_up_subscribers(self, command: Command) -> None:
        """Before a walkthrough command: the subscribers its release reaches, for the walkthrough to show."""
        version = getattr(command, "version", None)
        if version is None or not subscriber_destinations(self.plan):
            return
        async with self._uow() as uow:
            release = await uow.releases.get(version)
            components = release.components if release is not None else ()
            if release is None and isinstance(command, AnnounceRelease):
                components = command.components
            self._subscribed[version] = await self._subscribers_for(uow, version, components)

    def _merged(self, version: str, resolutions: Mapping[Destination, Resolution]) -> dict[Destination, Resolution]:
        return {**resolutions, **self._subscribed.get(version, {})}

    async def view(self, release: Release, focus: tuple[str, ...] | None = None) -> ReleaseView:
        """The walkthrough as it stands; ``focus`` names the groups a command changed."""
        view = build_view(release, self.plan, self.links, self._merged(release.version, await self.resolutions()))
        return replace(view, focus=focus)

    async def status(self, version: str, *, names: bool = True) -> StatusView:
        """The status report of a release; ``names=False`` leaves out who has not acknowledged (counts only)."""
        async with self._uow() as uow:
            release = await self._release(uow, version)
            return await count_status(uow, self.plan, release, names=names, now=self._clock.now())


def action_name(command: Command) -> str:
    """The audit log's name for a command (``ApproveRelease`` → ``approve_release``)."""
    name = type(command).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
