"""The web pages as the composition root assembles them: sign-in links, the dashboard, the static files, the
release API."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from adapters.export import FORMATS, file_name, render
from adapters.web.api import ReleaseApi
from adapters.web.config import WebSettings
from adapters.web.dashboard import Dashboard, Exporter
from adapters.web.pages import static_routes
from adapters.web.releases import ReleaseSite
from adapters.web.sessions import Signer, Viewers, WebLinks
from adapters.web.subscriptions import ConfirmationMail, SubscriptionLinks, SubscriptionPages, SubscriptionTokens
from bot.domain.destinations import Platform
from bot.domain.errors import NotFound
from bot.service.chat.flow import ChatFlow
from bot.service.desk import ReleaseDesk


def web_links(settings: WebSettings) -> WebLinks:
    """The dashboard's sign-in links, signed with the link secret."""
    return WebLinks(settings.public_url, Signer(settings.link_secret.reveal().encode()))


def subscription_links(settings: WebSettings) -> SubscriptionLinks:
    """The links of subscribers' mail (their way out) and of sign-ups (their confirmation), signed with the link
    secret."""
    return SubscriptionLinks(settings.public_url, SubscriptionTokens(Signer(settings.link_secret.reveal().encode())))


def page_routes(
    settings: WebSettings, desk: ReleaseDesk, confirmation_mail: ConfirmationMail | None = None
) -> list[list[web.RouteDef]]:
    """The routes of Herald's pages: the dashboard (with signing in and out), the release site with its e-mail
    sign-up (when ``confirmation_mail`` can send its links), the static files."""
    signer = Signer(settings.link_secret.reveal().encode())
    viewers = Viewers(settings.public_url, signer, trusted_header=settings.trusted_header)
    subscriptions = SubscriptionPages(desk, subscription_links(settings), confirmation_mail)
    site = ReleaseSite(desk, viewers, settings.public_url, signup=subscriptions.form)
    dashboard = Dashboard(desk, viewers, export=evidence_download(desk), formats=FORMATS)
    return [dashboard.routes(), site.routes(), subscriptions.routes(), static_routes()]


def api_routes(settings: WebSettings, desk: ReleaseDesk, flows: Mapping[Platform, ChatFlow]) -> list[web.RouteDef]:
    """The release API's routes (none without ``HERALD_API_TOKENS``), posting walkthroughs through ``flows``."""
    if not settings.api_tokens:
        return []
    api = ReleaseApi(desk, flows, settings.api_tokens, settings.public_url, default_channel=settings.announce_channel)
    return api.routes()


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
