"""Work a front door hands off after answering the platform: tracked, logged, drained on close.

A platform wants its answer within three seconds; the work behind it (the desk, a reply to
the person) runs afterwards. Starting that work here rather than leaving it to the
platform library keeps a reference to every task (so none is collected mid-flight), logs
a failure with what the work was, and lets shutdown wait for what is under way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Background:
    """A set of running hand-offs."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, T], what: str | None) -> asyncio.Task[T]:
        """Run ``work`` now, in the background; ``what`` names it in the log if it fails.

        With ``what`` None the caller awaits the task and handles its failure itself.
        """
        task = asyncio.create_task(work)
        self._tasks.add(task)

        def finished(done: asyncio.Task[T]) -> None:
            self._tasks.discard(done)
            if what is not None and not done.cancelled() and done.exception() is not None:
                log.error("%s failed", what, exc_info=done.exception())

        task.add_done_callback(finished)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, within: float | None = None) -> None:
        """Wait for the work under way (and any it starts); past ``within`` seconds, cancel the rest."""
        await drain(lambda: self._tasks, within)


async def drain(running: Callable[[], Collection[asyncio.Task[Any]]], within: float | None) -> None:
    """Wait until ``running()`` is empty; past ``within`` seconds, cancel what is left and return."""
    loop = asyncio.get_running_loop()
    deadline = None if within is None else loop.time() + within
    while tasks := set(running()):
        left = None if deadline is None else deadline - loop.time()
        if left is not None and left <= 0:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return
        await asyncio.wait(tasks, timeout=left)
