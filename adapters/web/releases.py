"""The release site: ``/releases/``, ``/releases/VERSION``, its Atom feed, and *Acknowledge* for signed-in readers.

Anyone who can reach Herald's pages reads them (it is the internal release site the
OpenUP task names); acknowledging needs a signed-in reader (a sign-in link, or the
trusted proxy's header), a CSRF token bound to the session, and Herald's own origin.
A posting shows its communiqué's current text: once a correction is approved, the
corrected one, marked as corrected (when, and which revision), and its feed entry is
updated then. A retracted release stays listed: each posting shows "Retracted: REASON"
above its text struck through, asks nobody to acknowledge it any more, and its feed entry
is updated at the retraction.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web
from markupsafe import Markup

from adapters.email.content import html_fragment
from adapters.web.pages import HEADERS, message, page, render
from adapters.web.sessions import Viewers
from bot.domain.commands import Acknowledge
from bot.domain.people import display_name
from bot.domain.receipt import ReceiptSource
from bot.service.desk import ReleaseDesk
from bot.service.postings import Posting

_FEED_ENTRIES = 50


class ReleaseSite:
    """The release site's routes, answered through the desk."""

    def __init__(
        self,
        desk: ReleaseDesk,
        viewers: Viewers,
        public_url: str,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        signup: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self._desk = desk
        self._signup = signup or (lambda: {"signup": False, "components": ()})  # the e-mail sign-up form
        self._viewers = viewers
        self._base = public_url.rstrip("/")
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        """``/releases/`` and below."""
        return [
            web.get("/releases", self.to_index),
            web.get("/releases/", self.index),
            web.get("/releases/feed.xml", self.feed),
            web.get("/releases/{version}", self.release),
            web.post("/releases/{version}/ack", self.acknowledge),
        ]

    def _reader(self, request: web.Request) -> dict[str, Any]:
        viewer = self._viewers.viewer(request)
        return {
            "viewer": viewer,
            "viewer_name": display_name(viewer) if viewer else "",
            "csrf": self._viewers.csrf_token(request) if viewer else "",
        }

    async def to_index(self, _request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": "/releases/"})

    async def index(self, request: web.Request) -> web.Response:
        """Every release with its postings, newest first."""
        posted = await self._desk.postings()
        releases: dict[str, list[Posting]] = {}
        for posting in posted:
            releases.setdefault(posting.version, []).append(posting)
        return page("releases.html", title="Releases", releases=releases, **self._reader(request), **self._signup())

    async def release(self, request: web.Request) -> web.Response:
        """One release's postings, each with *Acknowledge* for a signed-in reader."""
        version = request.match_info["version"]
        posted = await self._desk.postings(version)
        if not posted:
            return message(404, "No such release", f"Nothing about release {version} has been posted here.")
        reader = self._reader(request)
        viewer = reader["viewer"]
        done = await self._desk.acknowledged_by(version, viewer) if isinstance(viewer, str) else {}
        bodies = {p.group_id: Markup(html_fragment(p.text)) for p in posted}  # markdown-it escapes raw HTML
        notes = {p.group_id: _note(p) for p in posted if p.corrected_at is not None}
        return page(
            "release.html",
            title=f"{posted[0].product} {version}",
            version=version,
            product=posted[0].product,
            postings=posted,
            bodies=bodies,
            notes=notes,
            done=done,
            refused=request.query.get("refused") == "1",
            **reader,
        )

    async def acknowledge(self, request: web.Request) -> web.StreamResponse:
        """*Acknowledge* under a posting: one receipt, as for a chat button; a second press records nothing."""
        version = request.match_info["version"]
        viewer = self._viewers.viewer(request)
        if viewer is None:
            return message(401, "Sign in to acknowledge", "Type /release dashboard VERSION in chat for a sign-in link.")
        if not await self._viewers.check_post(request):
            return message(403, "Not recorded", "That request did not come from Herald's own page.")
        group = str((await request.post()).get("group", ""))
        posting = next((p for p in await self._desk.postings(version) if p.group_id == group), None)
        if posting is None:
            return message(404, "No such posting", f"Release {version} has no posting for {group or 'that group'}.")
        if posting.retraction is not None:
            return message(409, "Nothing to acknowledge", f"Release {version} was retracted: {posting.retraction}")
        reply = await self._desk.handle(Acknowledge(actor=viewer, message_ref=posting.ref, source=ReceiptSource.BUTTON))
        # Back to the page, which says where the reader's receipt stands (no names in the URL).
        location = f"/releases/{quote(version, safe='')}{'?refused=1' if reply.failed else ''}#{quote(group)}"
        return web.Response(status=303, headers={"Location": location})

    async def feed(self, _request: web.Request) -> web.Response:
        """An Atom feed of the postings (RFC 4287), newest first."""
        posted = (await self._desk.postings())[:_FEED_ENTRIES]
        updates = {(p.version, p.group_id): _updated(p) for p in posted}
        text = render(
            "feed.xml",
            base=self._base,
            postings=posted,
            updated=max(updates.values(), default=None) or self._clock(),
            updates=updates,
            bodies={(p.version, p.group_id): _feed_body(p) for p in posted},
        )
        headers = {k: v for k, v in HEADERS.items() if k != "Content-Security-Policy"}
        return web.Response(text=text, content_type="application/atom+xml", headers=headers)


def _note(posting: Posting) -> str:
    """What a corrected posting says under its text: ``Corrected on 2026-12-07 14:05 UTC (revision 2)``."""
    when = f" on {posting.corrected_at:%Y-%m-%d %H:%M UTC}" if posting.corrected_at is not None else ""
    return f"Corrected{when} (revision {posting.revision})"


def _feed_body(posting: Posting) -> str:
    """A feed entry's HTML: the communiqué, and the note when a correction changed it; once retracted, all of it
    struck through under ``Retracted: REASON``."""
    body = html_fragment(posting.text)
    if posting.corrected_at is not None:
        body += f"<p><em>{html.escape(_note(posting))}</em></p>\n"
    if posting.retraction is None:
        return body
    return f"<p><strong>Retracted: {html.escape(posting.retraction)}</strong></p>\n<del>{body}</del>\n"


def _updated(posting: Posting) -> dt.datetime:
    """When a feed entry last changed: its posting, or the correction or retraction since (so feed readers fetch it
    again)."""
    changes = [posting.posted_at, posting.corrected_at, posting.retracted_at]
    return max(when for when in changes if when is not None)
