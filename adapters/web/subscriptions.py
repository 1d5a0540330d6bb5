"""Subscribing by e-mail from the release site, with double opt-in, and the one-click way out of every mail.

- ``POST /subscribe`` (the form on ``/releases/``): a mailbox, a component, a level. Nothing counts
  yet: Herald mails a confirmation link to that address, and the answer never says whether the
  address was already subscribed. At most one confirmation mail per address every ten minutes,
  and ``MAILS_AT_MOST`` in all (a 429 beyond), so the form cannot be used to flood mailboxes.
- ``GET /subscribe/confirm/TOKEN`` shows what the link confirms and a button; ``POST`` confirms
  (a mail scanner that follows links does not subscribe anyone). The link works for seven days.
- ``GET /unsubscribe/TOKEN`` shows a button; ``POST`` unsubscribes, without a sign-in. That POST
  is RFC 8058's one-click: a mail client POSTs ``List-Unsubscribe=One-Click`` to the URL in the
  mail's ``List-Unsubscribe`` header, and the address stops hearing of what brought that mail.

Tokens are sealed by the web pages' ``Signer`` with ``HERALD_LINK_SECRET``: encrypted, so a link in
a proxy's log names nobody, and MACed with a context per action, so a confirmation link cannot
unsubscribe and the other way round. No table holds them, and every Herald process reads them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from adapters.web.pages import message, page
from adapters.web.sessions import Signer
from bot.domain.commands import Subscribe, Unsubscribe
from bot.domain.destinations import Kind, parse_destination
from bot.domain.subscriptions import ALL, Level, Subscription, parse_component
from bot.service.desk import ReleaseDesk
from bot.service.ports import OutgoingMessage

ConfirmationMail = Callable[[str, str, str], Awaitable[None]]
"""Sends one mail (address, subject, text): how a confirmation link reaches the mailbox that signed up."""

CONFIRM_FOR = timedelta(days=7)  # how long a confirmation link works
UNSUBSCRIBE_FOR = timedelta(days=3650)  # a way out works as long as anyone keeps the mail (RFC 8058 asks no less)
MAIL_EVERY = 600.0  # seconds between two confirmation mails to one address
MAILS_AT_MOST = 200  # confirmation mails in any MAIL_EVERY: a form anyone can post to sends no flood of mail
_CONTEXTS = {"confirm": b"herald-subscribe-confirm-v1", "unsubscribe": b"herald-unsubscribe-v1"}


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid subscription token says: ``action`` (``confirm`` or ``unsubscribe``) for ``medium``."""

    action: str
    medium: str
    component: str
    level: Level = Level.ALL


class SubscriptionTokens:
    """Seals and reads subscription links with the web pages' ``Signer``: the address inside is encrypted, so a
    link in a proxy's log names nobody, and each action signs with its own context."""

    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def sign(self, grant: Grant) -> str:
        """The token of ``grant``: a confirmation works for ``CONFIRM_FOR``, a way out for as long as mail is kept."""
        what = json.dumps([grant.component, grant.level.value], separators=(",", ":"))
        valid_for = CONFIRM_FOR if grant.action == "confirm" else UNSUBSCRIBE_FOR
        return self._signer.sign(_CONTEXTS[grant.action], grant.medium, what, valid_for)

    def verify(self, token: str, action: str) -> Grant | None:
        """The ``action`` grant ``token`` carries; None when it was sealed for something else, altered, or expired."""
        sealed = self._signer.read(_CONTEXTS[action], token)
        if sealed is None:
            return None
        try:
            component, level = json.loads(sealed.version)
            return Grant(action, sealed.person, str(component), Level(level))
        except (ValueError, TypeError):
            return None


class SubscriptionLinks:
    """The URLs a mail carries: its one-click way out, and a sign-up's confirmation link."""

    def __init__(self, public_url: str, tokens: SubscriptionTokens) -> None:
        self._base = public_url.rstrip("/")
        self.tokens = tokens

    def unsubscribe(self, message: OutgoingMessage) -> str | None:
        """The way out of a mail reached through a subscription (None: it was not)."""
        if message.unsubscribe is None or message.kind is not Kind.EMAIL:
            return None
        return self.unsubscribe_url(message.target, message.unsubscribe)

    def unsubscribe_url(self, medium: str, component: str) -> str:
        """The one-click link that ends ``medium``'s subscriptions to ``component`` (and to every component)."""
        return f"{self._base}/unsubscribe/{self.tokens.sign(Grant('unsubscribe', medium, component))}"

    def confirm_url(self, medium: str, component: str, level: Level) -> str:
        """The link that confirms a sign-up."""
        return f"{self._base}/subscribe/confirm/{self.tokens.sign(Grant('confirm', medium, component, level))}"


class SubscriptionPages:
    """The routes that sign a mailbox up, confirm it, and let it go."""

    def __init__(
        self,
        desk: ReleaseDesk,
        links: SubscriptionLinks,
        mail: ConfirmationMail | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._desk = desk
        self._links = links
        self._mail = mail  # None: no SMTP, so nobody can sign up by e-mail
        self._clock = clock
        self._mailed: dict[str, float] = {}  # address -> when its last confirmation mail went

    @property
    def open(self) -> bool:
        """Whether the release site offers the sign-up form: mail can go out, and the plan sends to subscribers."""
        return self._mail is not None and self._desk.subscribable() is not None

    def routes(self) -> list[web.RouteDef]:
        """``/subscribe``, ``/subscribe/confirm/TOKEN`` and ``/unsubscribe/TOKEN``."""
        return [
            web.post("/subscribe", self.sign_up),
            web.get("/subscribe/confirm/{token}", self.confirm_page),
            web.post("/subscribe/confirm/{token}", self.confirm),
            web.get("/unsubscribe/{token}", self.unsubscribe_page),
            web.post("/unsubscribe/{token}", self.unsubscribe),
        ]

    def form(self) -> dict[str, Any]:
        """What the release site's sign-up form offers (``components`` empty: only every release)."""
        return {"signup": self.open, "components": self._desk.subscribable() or ()}

    async def sign_up(self, request: web.Request) -> web.Response:
        """Mail a confirmation link; the same answer whatever the address's state."""
        if self._mail is None or self._desk.subscribable() is None:
            return message(404, "No sign-up here", "This Herald sends no release mail to subscribers.")
        form = await request.post()
        try:
            medium = str(parse_destination(f"email:{str(form.get('email', '')).strip()}"))
            component = parse_component(str(form.get("component", ALL)) or ALL)
            level = Level(str(form.get("level", Level.ALL.value)))
        except ValueError:
            return message(400, "Not signed up", "Give an e-mail address, and choose a component and a level.")
        known = self._desk.subscribable() or ()
        if component != ALL and component not in known:
            return message(400, "Not signed up", f"“{component}” is not a component announced here.")
        now = self._clock()
        self._mailed = {m: at for m, at in self._mailed.items() if now - at < MAIL_EVERY}  # only the recent matter
        if medium not in self._mailed and len(self._mailed) >= MAILS_AT_MOST:
            return message(429, "Not now", "Too many sign-ups in the last few minutes; please try again later.")
        if medium not in self._mailed:
            reply = await self._desk.handle(
                Subscribe(actor=medium, medium=medium, component=component, level=level, confirmed=False)
            )
            if not reply.failed:
                self._mailed[medium] = now
                link = self._links.confirm_url(medium, component, level)
                what = _what(Grant("confirm", medium, component, level))
                await self._mail(
                    medium.removeprefix("email:"),
                    "Confirm your subscription to release announcements",
                    f"Someone, probably you, asked to hear of {what} at this address.\n\n"
                    f"To confirm, open this link and press Confirm (it works for 7 days):\n{link}\n\n"
                    "If it was not you, ignore this mail: nothing is sent to you unless you confirm.",
                )
        address = medium.removeprefix("email:")
        return message(200, "Check your mail", f"If {address} can receive mail, a confirmation link is on its way.")

    async def confirm_page(self, request: web.Request) -> web.Response:
        grant = self._valid(request, "confirm")
        if grant is None:
            return _expired()
        what = _what(grant)
        return page(
            "subscription.html",
            title="Confirm your subscription",
            text=f"Hear of {what} at {_address(grant)}?",
            button="Confirm",
            action=request.path,
        )

    async def confirm(self, request: web.Request) -> web.Response:
        grant = self._valid(request, "confirm")
        if grant is None:
            return _expired()
        command = Subscribe(
            actor=grant.medium, medium=grant.medium, component=grant.component, level=grant.level, confirmed=True
        )
        reply = await self._desk.handle(command)
        if reply.failed:
            return message(409, "Not subscribed", "This Herald no longer sends release mail to subscribers.")
        unsubscribe = self._links.unsubscribe_url(grant.medium, grant.component)
        return page(
            "subscription.html",
            title="Subscribed",
            text=f"{_address(grant)} will hear of {_what(grant)}. Every mail carries a link to stop.",
            link=unsubscribe,
            link_text="Unsubscribe",
        )

    async def unsubscribe_page(self, request: web.Request) -> web.Response:
        grant = self._valid(request, "unsubscribe")
        if grant is None:
            return _expired()
        return page(
            "subscription.html",
            title="Unsubscribe",
            text=f"Stop mailing {_address(grant)} release announcements?",
            button="Unsubscribe",
            action=request.path,
        )

    async def unsubscribe(self, request: web.Request) -> web.Response:
        """RFC 8058's one-click POST (or the page's button): no sign-in, no CSRF token, the signed link is enough."""
        grant = self._valid(request, "unsubscribe")
        if grant is None:
            return _expired()
        command = Unsubscribe(actor=grant.medium, medium=grant.medium, component=grant.component, within=True)
        reply = await self._desk.handle(command)
        if reply.failed:
            return message(503, "Not yet", "Herald could not record that just now; please try again in a moment.")
        return message(200, "Unsubscribed", f"{_address(grant)} will get no more of these release announcements.")

    def _valid(self, request: web.Request, action: str) -> Grant | None:
        return self._links.tokens.verify(request.match_info["token"], action)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a subscription's "since" does not show in what it is to


def _what(grant: Grant) -> str:
    return Subscription(
        person=grant.medium, medium=grant.medium, component=grant.component, level=grant.level, since=_EPOCH
    ).what


def _address(grant: Grant) -> str:
    return grant.medium.removeprefix("email:")


def _expired() -> web.Response:
    return message(404, "This link does not work", "It was altered, or it is older than seven days.")
