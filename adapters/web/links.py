"""Acknowledgement links as the mail adapter puts them in messages, and the routes that answer them."""

from __future__ import annotations

from aiohttp import web

from adapters.web.ack import ack_routes
from adapters.web.tokens import AckTokens
from bot.domain.delivery import Purpose
from bot.domain.destinations import Kind
from bot.domain.plan import AckPolicy
from bot.service.desk import ReleaseDesk
from bot.service.ports import OutgoingMessage
from bot.settings import WebSettings


class AckLinks:
    """Builds ``HERALD_PUBLIC_URL/ack/<token>`` for each mail that asks for an acknowledgement."""

    def __init__(self, settings: WebSettings) -> None:
        self._base = settings.public_url
        self.tokens = AckTokens(settings.link_secret.reveal().encode())

    def __call__(self, message: OutgoingMessage) -> str | None:
        """The personal link for the recipient of ``message``, or None when nothing is asked of them."""
        if message.ack is AckPolicy.NONE or message.purpose is Purpose.ESCALATION or message.kind is not Kind.EMAIL:
            return None
        return f"{self._base}/ack/{self.tokens.sign(message.delivery_key, message.target)}"

    def routes(self, desk: ReleaseDesk) -> list[web.RouteDef]:
        """``GET``/``POST /ack/<token>``, answered through ``desk``."""
        return ack_routes(desk, self.tokens)
