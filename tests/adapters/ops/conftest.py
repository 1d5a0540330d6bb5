"""The operations endpoint on a free port of 127.0.0.1, and a way to ask it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from adapters.ops.metrics import Metrics
from adapters.ops.readiness import Readiness
from adapters.ops.server import OpsServer
from bot.app.settings import OpsSettings


@asynccontextmanager
async def running(
    checks: Sequence[Readiness] = (), metrics: Metrics | None = None, **options: Any
) -> AsyncIterator[OpsServer]:
    """An ``OpsServer`` listening on 127.0.0.1 (a free port) for the duration of the block."""
    server = OpsServer(OpsSettings("127.0.0.1", 0), checks, metrics, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def ask(server: OpsServer, path: str) -> tuple[int, str]:
    """GET ``path`` from the server: the status and the body."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{server.port}{path}") as response:
        return response.status, await response.text()


async def readiness(server: OpsServer) -> tuple[int, Any]:
    """GET /readyz: the status and the JSON it answered."""
    status, body = await ask(server, "/readyz")
    return status, json.loads(body)


class Switch:
    """A readiness check that says what it is told to."""

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason

    async def ready(self) -> str | None:
        return self.reason


class SlowService:
    """A platform's service whose start waits until ``connect()``; then it serves until closed."""

    def __init__(self, own_ready: Callable[[], Awaitable[str | None]] | None = None) -> None:
        self.connected = False
        self._connect = asyncio.Event()
        self._closed = asyncio.Event()
        if own_ready is not None:
            self.ready = own_ready

    def connect(self) -> None:
        self._connect.set()

    async def start(self) -> None:
        await self._connect.wait()
        self.connected = True

    async def close(self) -> None:
        self._closed.set()

    async def failed(self) -> BaseException | None:
        await self._closed.wait()
        return None
