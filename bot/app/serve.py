"""Serving Herald until it is stopped: the platforms' services, the engine, the reminder sweep."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

from adapters.scheduling.sweeper import Sweeper, sweep_interval
from bot.domain.errors import ConfigError
from bot.domain.plan import Plan


class Service(Protocol):
    """Something that runs while Herald serves: a platform's connection or HTTP server."""

    async def start(self) -> None:
        """Begin serving; raise ConfigError with a sentence when the platform refuses."""
        ...

    async def close(self) -> None:
        """Stop serving, letting the last redraws land."""
        ...

    async def failed(self) -> BaseException | None:
        """Wait until the service ends by itself; what ended it (None: it was closed)."""
        ...


class Watched:
    """A service under a name, reporting whether it is up: starting, serving, or ended.

    Once started it is ready unless the service itself says otherwise, through a
    ``ready()`` of its own (Slack in Socket Mode reports its socket); a service without
    one (Discord, the report sweep, the web server) is ready from the moment it started.
    """

    def __init__(self, name: str, service: Service) -> None:
        self.name = name
        self.service = service
        self._state = "not started"

    async def start(self) -> None:
        self._state = "starting"
        await self.service.start()
        self._state = "serving"

    async def close(self) -> None:
        self._state = "stopping"
        await self.service.close()
        self._state = "stopped"

    async def failed(self) -> BaseException | None:
        error = await self.service.failed()
        if self._state == "serving":
            self._state = "stopped"
        return error

    async def ready(self) -> str | None:
        if self._state != "serving":
            return f"{self.name}: {self._state}"
        own = getattr(self.service, "ready", None)
        if not callable(own):
            return None
        said = own()  # a plain function is fine too
        reason = await said if inspect.isawaitable(said) else said
        return None if reason is None else str(reason)


async def serve(
    *,
    engine_run: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
    plan: Plan,
    sweep: Callable[[], Awaitable[object]],
    services: Sequence[Service],
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or ``stop``), or until a service fails.

    Raises:
        ConfigError: when a service fails, with what it said.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started: list[Service] = []
    failure: list[BaseException] = []

    async def watch(service: Service) -> None:
        error = await service.failed()
        if error is not None and not stop.is_set():
            failure.append(error)
            stop.set()

    sweeper = Sweeper(sweep, sweep_interval([g.remind_every for g in plan.groups]))
    watchers: list[asyncio.Task[None]] = []
    engine: asyncio.Task[None] | None = None
    try:
        for service in services:
            await service.start()
            started.append(service)
            watchers.append(asyncio.create_task(watch(service)))
        sweeper.start()
        engine = asyncio.create_task(engine_run(stop))
        # Everything built to start (modules, the ORM's metadata, the platforms' clients, the
        # plan) lives as long as the process: keep it out of the collector's full passes,
        # each of which otherwise holds up every request for tens of milliseconds.
        gc.freeze()
        await stop.wait()
    finally:
        gc.unfreeze()
        stop.set()
        sweeper.stop()
        if engine is not None:
            await engine
        for service in reversed(started):
            await service.close()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    if failure:
        error = failure[0]
        if isinstance(error, ConfigError):
            raise error
        raise ConfigError(f"Herald stopped: {type(error).__name__}: {error}") from error
