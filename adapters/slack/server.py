"""Serving Slack: HTTP mode (``POST /slack/events``, ``GET /healthz``) or Socket Mode.

Requests are checked before Bolt sees them: a body that is not UTF-8 or a timestamp
that is not a number is answered 401 without being logged, as is any request whose
signature Bolt rejects; nothing a caller sends can produce a 500.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def _refuse() -> web.Response:
    return web.Response(status=401, text="invalid request")


def web_app(bolt: AsyncApp) -> web.Application:
    """The aiohttp application for HTTP mode."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    application = web.Application()
    application.router.add_routes(slack_routes(bolt))
    application.router.add_get("/healthz", healthz)
    return application


def slack_routes(bolt: AsyncApp) -> list[web.RouteDef]:
    """``POST /slack/events``, for a server that hosts other routes too (``adapters.web``)."""

    async def events(request: web.Request) -> web.Response:
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not timestamp.isdigit() or "X-Slack-Signature" not in request.headers:
            return _refuse()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse()
        bolt_request = AsyncBoltRequest(
            body=body,
            query=request.query_string,
            headers={key: [value] for key, value in request.headers.items()},
        )
        try:
            response = await bolt.async_dispatch(bolt_request)
        except Exception:  # a malformed payload that passed the signature check: refuse, log no body
            log.warning("refused a signed but unreadable Slack request", exc_info=False)
            return _refuse()
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

    def __init__(self, bolt: AsyncApp, host: str, port: int) -> None:
        self._runner = web.AppRunner(web_app(bolt), access_log=None)
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
        self._handler = AsyncSocketModeHandler(bolt, app_token)

    async def start(self) -> None:
        """Open the socket."""
        await self._handler.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
        log.warning("Slack Socket Mode: connected")

    async def close(self) -> None:
        """Close the socket."""
        await self._handler.close_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
