"""The one way tests wait for something Herald does after it has answered: ``eventually``.

Herald acks first and works afterwards (Slack's three seconds, Discord's interactions), so
a test that drove it over a real socket waits for the effect, polling, up to a bound:
never a bare sleep, and never longer than the effect needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

WITHIN = 5.0  # seconds: far beyond what anything here takes on a loaded 2-core machine


async def eventually(condition: Callable[[], Any], *, within: float = WITHIN, every: float = 0.005) -> None:
    """Return as soon as ``condition()`` is true; ``AssertionError`` if it is not within ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"the condition did not hold within {within:g} s")
        await asyncio.sleep(every)
