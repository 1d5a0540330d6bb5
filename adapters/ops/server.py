"""The operations endpoint: ``/healthz``, ``/readyz`` and ``/metrics``, on a port of its own.

Kept off ``HERALD_HTTP_PORT`` on purpose: the public port sits behind a TLS proxy that
people reach, while this one answers without a login and is for the orchestrator and
Prometheus only.

* ``GET /healthz``: 200 ``{"ok": true}`` while the process runs (a liveness probe; the
  container's ``HEALTHCHECK``).
* ``GET /readyz``: 200 ``{"ready": true}`` when every check passes (the database answers
  and is at the newest schema, each platform is connected); otherwise 503
  ``{"ready": false, "reasons": ["slack: starting", ...]}``.
* ``GET /metrics``: Prometheus's text format (see ``adapters.ops.metrics``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from adapters.ops.config import OpsSettings
from adapters.ops.metrics import Metrics
from adapters.ops.readiness import Readiness
from adapters.web.server import WebServer

CHECK_TIMEOUT = 5.0  # seconds one readiness check may take before it counts as not ready


def ops_routes(
    checks: Sequence[Readiness], metrics: Metrics | None, *, check_timeout: float = CHECK_TIMEOUT
) -> list[web.RouteDef]:
    """``GET /readyz`` over ``checks``, and ``GET /metrics`` when there are metrics (``/healthz`` is every server's).

    The checks are asked together; one that takes longer than ``check_timeout`` seconds is not ready.
    """

    async def readyz(_request: web.Request) -> web.Response:
        answers = await asyncio.gather(*(_ask(check, check_timeout) for check in checks))
        reasons = [reason for reason in answers if reason]
        if reasons:
            return web.json_response({"ready": False, "reasons": reasons}, status=503)
        return web.json_response({"ready": True})

    routes = [web.get("/readyz", readyz)]
    if metrics is not None:
        exposition = metrics.exposition

        async def metrics_page(_request: web.Request) -> web.Response:
            return web.Response(body=await exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        routes.append(web.get("/metrics", metrics_page))
    return routes


async def _ask(check: Readiness, within: float) -> str | None:
    """The check's answer; one that hangs or raises is an answer too (not ready), never a 500."""
    try:
        async with asyncio.timeout(within):
            return await check.ready()
    except TimeoutError:
        return f"{_name(check)}: did not answer within {within:g} s"
    except Exception as error:
        return f"{_name(check)}: {type(error).__name__}"


def _name(check: Readiness) -> str:
    return str(getattr(check, "name", type(check).__name__))


class OpsServer:
    """The operations endpoint as a service Herald runs: started first, closed last."""

    def __init__(
        self,
        settings: OpsSettings,
        checks: Sequence[Readiness],
        metrics: Metrics | None,
        *,
        on_close: Sequence[Callable[[], Awaitable[None]]] = (),
        check_timeout: float = CHECK_TIMEOUT,
    ) -> None:
        routes = ops_routes(checks, metrics, check_timeout=check_timeout)
        self._server = WebServer(settings.host, settings.port, routes, name="Herald ops", setting="HERALD_OPS_PORT")
        self._on_close = on_close

    @property
    def port(self) -> int:
        """The port listened on (the one picked, once started, when the settings said 0)."""
        return self._server.port

    async def start(self) -> None:
        """Listen.

        Raises:
            ConfigError: when the port cannot be had.
        """
        await self._server.start()

    async def close(self) -> None:
        """Stop listening, and let go of what the checks hold (the database probe's connections)."""
        try:
            await self._server.close()
        finally:
            for close in self._on_close:
                await close()

    async def failed(self) -> BaseException | None:
        """Wait until closed."""
        return await self._server.failed()
