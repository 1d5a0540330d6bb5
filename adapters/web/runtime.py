"""The web pages as the composition root assembles them: sign-in links, the dashboard, the static files."""

from __future__ import annotations

from aiohttp import web

from adapters.export import FORMATS, file_name, render
from adapters.web.config import WebSettings
from adapters.web.dashboard import Dashboard, Exporter
from adapters.web.pages import static_routes
from adapters.web.releases import ReleaseSite
from adapters.web.sessions import Signer, Viewers, WebLinks
from bot.domain.errors import NotFound
from bot.service.desk import ReleaseDesk


def web_links(settings: WebSettings) -> WebLinks:
    """The dashboard's sign-in links, signed with the link secret."""
    return WebLinks(settings.public_url, Signer(settings.link_secret.reveal().encode()))


def page_routes(settings: WebSettings, desk: ReleaseDesk) -> list[list[web.RouteDef]]:
    """The routes of Herald's pages: the dashboard (with signing in and out), the release site, the static files."""
    signer = Signer(settings.link_secret.reveal().encode())
    viewers = Viewers(settings.public_url, signer, trusted_header=settings.trusted_header)
    site = ReleaseSite(desk, viewers, settings.public_url)
    dashboard = Dashboard(desk, viewers, export=evidence_download(desk), formats=FORMATS)
    return [dashboard.routes(), site.routes(), static_routes()]


def evidence_download(desk: ReleaseDesk) -> Exporter:
    """The evidence pack as the dashboard offers it for download: its body, content type and file name."""
    types = {"md": "text/markdown", "csv": "text/csv", "json": "application/json"}

    async def export(version: str, fmt: str) -> tuple[bytes, str, str] | None:
        try:
            pack = await desk.evidence(version)
        except NotFound:
            return None
        body = render(pack, fmt).encode()
        return ("\ufeff".encode() + body if fmt == "csv" else body), types[fmt], file_name(pack, fmt)

    return export
