"""One aiohttp server for everything Herald answers over HTTP: ``/healthz``, links, Slack's endpoint."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

from aiohttp import web

from bot.domain.errors import ConfigError

log = logging.getLogger(__name__)


def web_application(*route_sets: Iterable[web.AbstractRouteDef]) -> web.Application:
    """An application serving ``GET /healthz`` and every route given."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    application = web.Application()
    application.router.add_get("/healthz", healthz)
    for routes in route_sets:
        application.router.add_routes(routes)
    return application


class WebServer:
    """Serves routes on ``host:port`` until closed; port 0 picks a free one (read ``port`` after start).

    ``name`` is what the start-up line calls it, ``setting`` the variable that chose the port
    (named when the port cannot be had).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *route_sets: Iterable[web.AbstractRouteDef],
        name: str = "Herald HTTP",
        setting: str = "HERALD_HTTP_PORT",
    ) -> None:
        self._runner = web.AppRunner(web_application(*route_sets), access_log=None)  # URLs hold tokens: no log
        self._host = host
        self.port = port
        self._name = name
        self._setting = setting
        self._closed = asyncio.Event()

    async def start(self) -> None:
        """Listen.

        Raises:
            ConfigError: when the address cannot be had (taken, or not this host's).
        """
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._host, self.port).start()
        except OSError as error:
            await self._runner.cleanup()
            raise ConfigError(
                f"{self._name} cannot listen on {self._host}:{self.port}: {error.strerror or error}; "
                f"choose another {self._setting}"
            ) from None
        self.port = int(self._runner.addresses[0][1])
        log.warning("%s: listening on %s:%d", self._name, self._host, self.port)

    async def close(self) -> None:
        """Stop listening."""
        await self._runner.cleanup()
        self._closed.set()

    async def failed(self) -> BaseException | None:
        """Wait until closed (aiohttp serves until then); nothing else ends it."""
        await self._closed.wait()
        return None


class Server(Protocol):
    """Something that serves until closed."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class Servers:
    """Several servers started and closed together (Slack's socket and the web server)."""

    def __init__(self, *servers: Server) -> None:
        self._servers = servers

    async def start(self) -> None:
        """Start each, in order."""
        for server in self._servers:
            await server.start()

    async def close(self) -> None:
        """Close each, in reverse order."""
        for server in reversed(self._servers):
            await server.close()
