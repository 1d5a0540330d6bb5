"""What the platform fault tests share: kill -9 a Herald process as its campaign moves on."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable


async def kill_as_it_goes(
    start: Callable[[], Awaitable[asyncio.subprocess.Process]],
    delivered: Callable[[], int],
    targets: int,
    *,
    kills: int,
    rng: random.Random,
) -> None:
    """Start a process ``kills`` times and kill -9 each once the campaign has moved on a step, at a random moment.

    The steps are ``targets / (kills + 2)`` deliveries apart, so every kill falls mid-campaign
    however fast or slow the machine is, and the restart after the last still has work to do.
    """
    loop = asyncio.get_running_loop()
    for n in range(1, kills + 1):
        process = await start()
        deadline = loop.time() + 60
        while delivered() < n * targets // (kills + 2) and process.returncode is None:
            assert loop.time() < deadline, "the campaign made no progress"
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        if process.returncode is None:
            process.kill()
        await process.wait()
