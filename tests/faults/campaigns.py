"""What the platform fault tests share: kill -9 a Herald process as its campaign moves on."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.eventually import eventually

WORKER = Path(__file__).resolve().parent / "worker.py"


async def start_worker(url: str, targets: int, platform: str, api_url: str) -> asyncio.subprocess.Process:
    """``worker.py`` sending a campaign of ``targets`` through ``--slack`` or ``--discord`` at ``api_url``."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        url,
        os.devnull,
        str(targets),
        f"--{platform}",
        api_url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


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
    for n in range(1, kills + 1):
        process = await start()
        step = n * targets // (kills + 2)

        def reached(step: int = step, process: asyncio.subprocess.Process = process) -> bool:
            return delivered() >= step or process.returncode is not None

        await eventually(reached, within=60, every=0.02)
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        if process.returncode is None:
            process.kill()
        await process.wait()
