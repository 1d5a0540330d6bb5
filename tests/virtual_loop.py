"""An asyncio event loop on virtual time: when nothing is ready, time jumps to the next timer.

Everything that waits through the loop (``asyncio.sleep``, ``wait_for`` time-outs, the
engine's polls, the lease keeper) then takes no real time, and runs in the same order it
would on the real clock. Only for code that does no real I/O and starts no threads: a
thread's work would look like idle time to this loop, and time would race ahead of it.

``LoopClock`` and ``LoopTimer`` read the same virtual time, for the code that takes a
``Clock`` (datetimes) or a ``Timer`` (monotonic seconds).
"""

from __future__ import annotations

import asyncio
import selectors
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")
EPOCH = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_TICK = 1e-6


class _Selector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Polls the real file descriptors, and where the loop would block for a while, moves time instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:  # no timer at all: only outside I/O can wake the loop
            return super().select(None)  # type: ignore[no-any-return]
        self.now += timeout
        return []


class VirtualLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is virtual and starts at 0."""

    def __init__(self) -> None:
        self._virtual = _Selector()
        super().__init__(self._virtual)

    def time(self) -> float:
        return self._virtual.now

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> asyncio.TimerHandle:
        # A timer is due at least a microsecond on: code that waits out a remainder of a
        # few picoseconds would otherwise be woken at once, at the same moment, for ever
        # (on the real clock time moves on by itself meanwhile).
        return super().call_at(max(when, self.time() + _TICK), callback, *args, context=context)


def run_virtual(coroutine: Coroutine[Any, Any, T], *, real_seconds: float = 60.0) -> T:
    """Run ``coroutine`` to completion on a fresh virtual-time loop.

    Raises:
        AssertionError: it ran ``real_seconds`` of wall time (code that spins without letting time pass).
    """
    loop = VirtualLoop()
    task = loop.create_task(coroutine)
    watchdog = threading.Timer(real_seconds, loop.call_soon_threadsafe, (task.cancel,))
    watchdog.start()
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        raise AssertionError(
            f"still running after {real_seconds} s of real time, at {loop.time():.3f} s virtual"
        ) from None
    finally:
        watchdog.cancel()
        loop.run_until_complete(_cancel_the_rest())
        loop.close()


async def _cancel_the_rest() -> None:
    rest = asyncio.all_tasks() - {asyncio.current_task()}
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


class LoopClock:
    """A ``Clock`` on the running loop's time (virtual on ``VirtualLoop``)."""

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=asyncio.get_running_loop().time())


class LoopTimer:
    """A limiter ``Timer`` on the running loop's time."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
