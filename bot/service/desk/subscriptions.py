"""Subscriptions: a person chooses to hear of releases where they typed it, changes their mind, or asks what they get.

A subscription is the person's own: anyone may subscribe, no announcer's or approver's say is
needed, and it is audited like every other change. It is made where the person is (their DM on
Slack or Discord, their shell name); a mailbox signs up on the release page and confirms by its
link (``bot.service.desk.web``). The plan must send to subscribers somewhere (a
``subscribers:…`` destination), or subscribing would promise what never comes.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.commands import ShowSubscriptions, Subscribe, Unsubscribe
from bot.domain.errors import CommandError, NotAllowed
from bot.domain.people import direct_target
from bot.domain.subscriptions import ALL, Subscription
from bot.service.desk.core import DeskCore
from bot.service.subscribers import known_components, subscriber_destinations
from bot.service.views import Notice, Reply, Tone

UNCONFIRMED_FOR = timedelta(days=7)  # a sign-up's confirmation link works this long; then it is forgotten


class Subscriptions(DeskCore):
    """Subscribing, unsubscribing and listing; and the subscribers a release reaches."""

    async def _subscribe(self, command: Subscribe) -> Reply:
        if not subscriber_destinations(self.plan):
            raise NotAllowed(
                "This plan sends nothing to subscribers (no group names subscribers:…), so there is nothing to "
                "subscribe to yet; ask whoever keeps the plan."
            )
        medium = self._medium_of(command.actor) if command.medium is None else command.medium
        self._known(command.component)
        wanted = Subscription(
            person=command.actor,
            medium=medium,
            component=command.component,
            level=command.level,
            since=self._clock.now(),
            confirmed=command.confirmed,
        )
        async with self._uow() as uow:
            if not wanted.confirmed:  # a web sign-up: it waits for its link, and never unconfirms one that counts
                # Sign-ups never confirmed are forgotten once their link has expired.
                await uow.subscriptions.forget_unconfirmed(wanted.since - UNCONFIRMED_FOR)
                if await uow.subscriptions.get(wanted.key) is None:
                    await uow.subscriptions.put(wanted)
                    await self._audit(uow, command, f"{medium} to {wanted.what}, waiting for its confirmation link")
                    await uow.commit()
                return Reply([Notice(f"A confirmation link is on its way to {medium.removeprefix('email:')}.")])
            before = await uow.subscriptions.put(wanted)
            if before is not None and before.level is wanted.level and before.confirmed:
                return Reply([Notice(f"You are already subscribed here to {wanted.what}.")])
            changed = f" (was {before.level.described})" if before is not None else ""
            await self._audit(uow, command, f"{medium} to {wanted.what}{changed}")
            await uow.commit()
        stop = "" if wanted.component == ALL else f" {wanted.component}"
        text = f"Subscribed: you will hear here of {wanted.what}. To stop, type /release unsubscribe{stop}."
        return Reply([Notice(text, Tone.SUCCESS)])

    async def _unsubscribe(self, command: Unsubscribe) -> Reply:
        medium = command.medium or self._medium_of(command.actor)
        if command.component is None or (command.within and command.component == ALL):
            components: list[str] | None = None  # every one
        else:
            components = [command.component, ALL] if command.within else [command.component]
        async with self._uow() as uow:
            gone = await uow.subscriptions.remove(medium, components)
            if not gone:
                what = "anything" if components is None else command.component
                return Reply([Notice(f"You were not subscribed here to {what}; nothing changed.")])
            said = ", ".join(s.what for s in gone)
            await self._audit(uow, command, f"{medium} from {said}")
            left = await uow.subscriptions.of_media([medium])
            await uow.commit()
        still = f" You still hear here of {', '.join(s.what for s in left)}." if left else ""
        return Reply([Notice(f"Unsubscribed from {said}.{still}", Tone.SUCCESS)])

    async def _subscriptions(self, command: ShowSubscriptions) -> Reply:
        medium = self._medium_of(command.actor)
        async with self._uow() as uow:
            mine = await uow.subscriptions.of_media([medium])
        if not mine:
            return Reply([Notice("You are not subscribed to any release announcements here. /release subscribe …")])
        lines = "; ".join(s.what for s in mine)
        return Reply([Notice(f"Here you hear of: {lines}. /release unsubscribe [COMPONENT] to stop.")])

    def subscribable(self) -> tuple[str, ...] | None:
        """The components one may subscribe to (empty: the plan names none, so every release); None: the plan sends
        nothing to subscribers, so there is nothing to sign up for."""
        if not subscriber_destinations(self.plan):
            return None
        return tuple(sorted(known_components(self.plan)))

    def _medium_of(self, actor: str) -> str:
        """Where ``actor`` hears what they subscribe to: their DM (or mailbox). Leaving and listing work whatever
        the plan says now: a plan that stopped sending to subscribers must not trap anyone in a subscription."""
        found = direct_target(actor)
        if found is None:
            raise CommandError("Herald cannot write to you privately here, so you cannot subscribe from here.")
        return found[0]

    def _known(self, component: str) -> None:
        known = known_components(self.plan)
        if component != ALL and known and component not in known:
            raise CommandError(
                f"“{component}” is not a component this plan announces; choose one of {', '.join(sorted(known))} "
                "(or none, for every release)."
            )
