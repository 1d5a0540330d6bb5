"""What ``/readyz`` asks each part of a running Herald."""

from __future__ import annotations

from typing import Protocol


class Readiness(Protocol):
    """Something ``/readyz`` asks whether Herald can do its work now."""

    async def ready(self) -> str | None:
        """None when ready; otherwise why not, as a short phrase naming it ("slack: connecting").

        Called every few seconds from the ops server: answer from what is known, without a
        round trip to a platform, and never raise.
        """
        ...
