"""The receipts dashboard: ``/signin/<token>``, ``/dashboard/VERSION`` and its live parts, ``/signout``.

A person gets a sign-in link from ``/release dashboard VERSION`` in chat; the page it opens
signs them in with one press and shows the release's figures, which the page's script
fetches again every few seconds (``/dashboard/VERSION/live``: one HTML fragment, counted
once and drawn by the same templates, htmx-style; ``live.json`` for tools). Without a
session the dashboard says how to get a link; names are shown only to the plan's
announcers, approvers and viewers, and never appear in a URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from markupsafe import Markup

from adapters.web.chart import acknowledgement_chart
from adapters.web.pages import message, page
from adapters.web.sessions import SESSION_VALID_FOR, Viewers, dashboard_path
from bot.domain.errors import HeraldError, NotFound
from bot.domain.people import display_name
from bot.service.dashboard import HIDDEN, DashboardView
from bot.service.desk import ReleaseDesk

REFRESH_MS = 2000
Exporter = Callable[[str, str], Awaitable[tuple[bytes, str, str] | None]]  # version, format → body, type, name


class Dashboard:
    """The dashboard's routes, answered through the desk for whoever is signed in."""

    def __init__(
        self,
        desk: ReleaseDesk,
        viewers: Viewers,
        *,
        export: Exporter | None = None,
        formats: tuple[str, ...] = (),
    ) -> None:
        self._desk = desk
        self._viewers = viewers
        self._export = export
        self._formats = formats if export is not None else ()

    def routes(self) -> list[web.RouteDef]:
        """Every route of the dashboard."""
        return [
            web.get("/signin/{token}", self.sign_in_page),
            web.post("/signin/{token}", self.sign_in),
            web.post("/signout", self.sign_out),
            web.get("/dashboard/{version}", self.dashboard),
            web.get("/dashboard/{version}/live", self.live),
            web.get("/dashboard/{version}/live.json", self.live_json),
            web.get("/dashboard/{version}/export.{format}", self.download),
        ]

    # -- signing in ------------------------------------------------------------------

    async def sign_in_page(self, request: web.Request) -> web.Response:
        """GET shows who the link signs in, and a button: fetching the link signs nobody in."""
        grant = self._viewers.sign_in_grant(request.match_info["token"])
        if grant is None:
            return _expired()
        expires = dt.datetime.fromtimestamp(grant.expires, dt.UTC).strftime("%H:%M UTC")
        return page(
            "signin.html",
            title="Sign in",
            person_name=display_name(grant.person),
            version=grant.version,
            action=request.path,
            expires=expires,
            session_hours=int(SESSION_VALID_FOR.total_seconds() // 3600),
        )

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        """The button: set the session cookie and open the dashboard."""
        grant = self._viewers.sign_in_grant(request.match_info["token"])
        origin = request.headers.get("Origin")
        if origin is not None and origin != self._viewers.origin:
            return message(403, "Not signed in", "That sign-in did not come from Herald's own page.")
        if grant is None:
            return _expired()
        response = web.Response(status=303, headers={"Location": dashboard_path(grant.version)})
        self._viewers.sign_in(response, grant.person)
        return response

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        """Forget the session (a POST with the page's CSRF token)."""
        if not await self._viewers.check_post(request):
            return message(403, "Not signed out", "That request did not come from Herald's own page.")
        response = message(200, "Signed out", "You are signed out of Herald on this browser.")
        self._viewers.sign_out(response)
        return response

    # -- the dashboard ---------------------------------------------------------------

    async def _view(self, request: web.Request) -> tuple[str, str, DashboardView] | web.Response:
        viewer = self._viewers.viewer(request)
        version = request.match_info["version"]
        if viewer is None:
            return message(
                401,
                "Sign in to see this dashboard",
                f"Type /release dashboard {version} in Slack, Discord or the shell: Herald answers with a private "
                "link that signs you in.",
            )
        try:
            return viewer, version, await self._desk.dashboard(version, viewer)
        except NotFound as error:
            return message(404, "No such release", str(error))

    def _context(self, request: web.Request, viewer: str, version: str, view: DashboardView) -> dict[str, Any]:
        now = view.as_of
        return {
            "title": f"{view.status.product} {version}",
            "view": view,
            "viewer": viewer,
            "viewer_name": display_name(viewer),
            "csrf": self._viewers.csrf_token(request),
            "base": dashboard_path(version),
            "refresh_ms": REFRESH_MS,
            "now": now.strftime("%H:%M:%S UTC"),
            "chart": Markup(acknowledgement_chart(view, now)),  # drawn by us, every text in it escaped
            "hidden": HIDDEN,
            "exports": self._formats,
        }

    async def dashboard(self, request: web.Request) -> web.Response:
        """The whole page."""
        found = await self._view(request)
        if isinstance(found, web.Response):
            return found
        return page("dashboard.html", **self._context(request, *found))

    async def live(self, request: web.Request) -> web.Response:
        """The figures, the chart, the trail and the table, counted once, as the page's script swaps them in."""
        found = await self._view(request)
        if isinstance(found, web.Response):
            return found
        return page("dashboard_parts.html", **self._context(request, *found))

    async def live_json(self, request: web.Request) -> web.Response:
        """The same figures as JSON."""
        found = await self._view(request)
        if isinstance(found, web.Response):
            return found
        return web.json_response(found[2].as_json(), headers={"Cache-Control": "no-store"})

    async def download(self, request: web.Request) -> web.StreamResponse:
        """The evidence pack, for whoever may see names."""
        found = await self._view(request)
        if isinstance(found, web.Response):
            return found
        _viewer, version, view = found
        fmt = request.match_info["format"]
        if self._export is None or fmt not in self._formats:
            return message(404, "No such download", "The evidence pack comes as " + ", ".join(self._formats) + ".")
        if not view.names:
            return message(
                403,
                "Not for you",
                "The evidence pack names people: the plan's announcers, approvers and viewers may download it.",
            )
        try:
            made = await self._export(version, fmt)
        except HeraldError as error:  # e.g. an audit log that no longer verifies: never vouched for
            return message(409, "The evidence pack cannot be made", str(error))
        if made is None:
            return message(404, "No such release", f"Release {version} has not been announced.")
        body, kind, name = made
        return web.Response(
            body=body,
            content_type=kind,
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )


def _expired() -> web.Response:
    return message(
        410,
        "This sign-in link has expired",
        "Sign-in links work for a short while and only as sent. Type /release dashboard VERSION again for a new one.",
    )
