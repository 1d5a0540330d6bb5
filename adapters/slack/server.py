"""Serving Slack: HTTP mode (``POST /slack/events``, ``GET /healthz``) or Socket Mode.

Every request is verified on its raw bytes before anything parses it (``SlackGate``):
the timestamp must be a short ASCII number within five minutes, the signature Slack's
HMAC-SHA256 of ``v0:{timestamp}:{body}``. Anything else is answered 401 without being
logged. A signature seen before within that window is a repeat (a captured request
replayed; Slack itself signs every delivery anew): it is answered 200 and not run again.
A request that is signed but cannot be read (a body Bolt cannot parse) is answered 400:
nothing a caller sends can produce a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from enum import Enum

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


_WINDOW = 300  # seconds: Slack's own, and how long a signature is remembered
_MAX_TIMESTAMP_DIGITS = 12


def _refuse() -> web.Response:
    return web.Response(status=401, text="invalid request")


class Gate(Enum):
    """What ``SlackGate`` makes of a request."""

    ADMITTED = "admitted"
    REFUSED = "refused"  # not signed by Slack, or not fresh: 401
    REPEATED = "repeated"  # signed and fresh, but seen before: 200, not run again


class SlackGate:
    """Checks a request's signature on its raw bytes, and that it was not seen before."""

    def __init__(self, signing_secret: str | None, *, clock: Callable[[], float] = time.time) -> None:
        self._secret = signing_secret.encode() if signing_secret else None
        self._clock = clock
        self._seen: dict[str, float] = {}  # signature -> until when it is remembered

    def check(self, raw: bytes, timestamp: str, signature: str) -> Gate:
        """Whether the request is Slack's and fresh, and new. With no signing secret nothing is admitted."""
        if self._secret is None or not _plain_number(timestamp) or len(signature) > 200:
            return Gate.REFUSED
        now = self._clock()
        stamp = int(timestamp)
        if abs(now - stamp) > _WINDOW:
            return Gate.REFUSED
        expected = "v0=" + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return Gate.REFUSED
        self._forget(now)
        if signature in self._seen:
            return Gate.REPEATED
        self._seen[signature] = stamp + _WINDOW
        return Gate.ADMITTED

    def _forget(self, now: float) -> None:
        if len(self._seen) > 1_000 or (self._seen and next(iter(self._seen.values())) < now):
            self._seen = {s: until for s, until in self._seen.items() if until >= now}


def _plain_number(text: str) -> bool:
    return 0 < len(text) <= _MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()


def web_app(bolt: AsyncApp, signing_secret: str | None) -> web.Application:
    """The aiohttp application for HTTP mode."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    application = web.Application()
    application.router.add_routes(slack_routes(bolt, signing_secret))
    application.router.add_get("/healthz", healthz)
    return application


def slack_routes(bolt: AsyncApp, signing_secret: str | None) -> list[web.RouteDef]:
    """``POST /slack/events``, for a server that hosts other routes too (``adapters.web``)."""
    gate = SlackGate(signing_secret)

    async def events(request: web.Request) -> web.Response:
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        verdict = gate.check(raw, timestamp, signature)
        if verdict is Gate.REFUSED:
            return _refuse()
        if verdict is Gate.REPEATED:
            return web.Response(status=200, text="")
        try:
            bolt_request = AsyncBoltRequest(
                body=raw.decode("utf-8"),
                query=request.query_string,
                headers={key: [value] for key, value in request.headers.items()},
            )
            response = await bolt.async_dispatch(bolt_request)
        except Exception:  # signed, but unreadable: say so, log no body
            log.warning("refused a signed but unreadable Slack request", exc_info=False)
            return web.Response(status=400, text="unreadable request")
        if response.status >= 500:  # Bolt's own trouble with a request it could not read
            return web.Response(status=400, text="unreadable request")
        # Bolt's headers as they are (one Content-Type: JSON for a modal's errors, for one);
        # aiohttp works out the length.
        headers = [
            (name, value)
            for name, values in response.headers.items()
            for value in values
            if name.lower() != "content-length"
        ]
        return web.Response(status=response.status, body=response.body.encode(), headers=headers)

    return [web.post(EVENTS_PATH, events)]


class HttpServer:
    """Serves the Bolt app over HTTP until closed."""

    def __init__(self, bolt: AsyncApp, host: str, port: int, *, signing_secret: str | None) -> None:
        self._runner = web.AppRunner(web_app(bolt, signing_secret), access_log=None)
        self._host, self._port = host, port
        self.port = port

    async def start(self) -> None:
        """Listen; ``port`` 0 picks a free port, readable afterwards from ``self.port``."""
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        self.port = int(self._runner.addresses[0][1])  # the port actually bound
        log.warning("Slack HTTP mode: listening on %s:%d%s", self._host, self.port, EVENTS_PATH)

    async def close(self) -> None:
        """Stop listening."""
        await self._runner.cleanup()


class SocketModeServer:
    """Connects the Bolt app to Slack over Socket Mode until closed."""

    def __init__(self, bolt: AsyncApp, app_token: str) -> None:
        self._bolt = bolt
        self._app_token = app_token
        self._handler: AsyncSocketModeHandler | None = None  # made on start: its client opens an HTTP session

    async def start(self) -> None:
        """Open the socket."""
        self._handler = AsyncSocketModeHandler(self._bolt, self._app_token)
        await self._handler.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
        log.warning("Slack Socket Mode: connected")

    async def close(self) -> None:
        """Close the socket."""
        if self._handler is not None:
            await self._handler.close_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated

    async def ready(self) -> str | None:
        """None while the socket is connected; otherwise why not (the client reconnects by itself)."""
        if self._handler is not None and await self._handler.client.is_connected():
            return None
        return "slack: Socket Mode is not connected (reconnecting)"
