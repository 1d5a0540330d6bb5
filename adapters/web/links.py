"""Acknowledgement links as the mail adapter puts them in messages, and the routes that answer them."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from adapters.web.ack import ack_routes
from adapters.web.config import WebSettings
from adapters.web.tokens import AckTokens
from bot.domain.delivery import Purpose
from bot.domain.destinations import Kind
from bot.domain.plan import AckPolicy
from bot.service.desk import ReleaseDesk
from bot.service.ports import OutgoingMessage


class AckLinks:
    """Builds ``HERALD_PUBLIC_URL/ack/<token>`` for each mail that asks for an acknowledgement.

    ``envelope_id`` names a delivery's mail as the mail adapter does (its Message-ID and
    message reference), so a link leads back to the mail it came in.
    """

    def __init__(self, settings: WebSettings, envelope_id: Callable[[str], str]) -> None:
        self._base = settings.public_url
        self._envelope_id = envelope_id
        self.tokens = AckTokens(settings.link_secret.reveal().encode())

    def __call__(self, message: OutgoingMessage) -> str | None:
        """The personal link for the recipient of ``message``, or None when nothing is asked of them."""
        if message.ack is AckPolicy.NONE or message.purpose is Purpose.ESCALATION or message.kind is not Kind.EMAIL:
            return None
        return f"{self._base}/ack/{self.tokens.sign(self._envelope_id(message.delivery_key))}"

    def routes(self, desk: ReleaseDesk) -> list[web.RouteDef]:
        """``GET``/``POST /ack/<token>``, answered through ``desk``."""
        return ack_routes(desk, self.tokens)
