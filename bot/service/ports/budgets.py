"""Rate budgets shared between processes: where ``RateLimiter`` keeps the workspace ceilings (``storage.budgets``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class BudgetStore(Protocol):
    """Token buckets shared by every Herald process on one database (the workspace ceilings).

    Each call is its own short transaction; implementers serialise concurrent takers
    (a row lock on PostgreSQL, the single writer on SQLite).
    """

    async def take(self, bucket: str, *, now: datetime, rate: float, burst: float) -> float:
        """Take one token from ``bucket`` (refilled at ``rate`` per second, holding at most ``burst``).

        Returns 0.0 when a token was taken; otherwise the seconds until one will be
        there (or until the bucket's block ends), and nothing is taken.
        """
        ...

    async def reserve(
        self, bucket: str, *, now: datetime, rate: float, burst: float, within: float
    ) -> tuple[bool, float]:
        """Take the next token of ``bucket`` if it will be there within ``within`` seconds.

        Returns ``(True, wait)`` when it was taken: the caller may spend it ``wait``
        seconds from ``now`` (0.0: at once), and the next taker is scheduled after it,
        so a taker's own lateness costs the bucket nothing. Otherwise ``(False, wait)``:
        nothing was taken, and ``wait`` seconds from ``now`` the token will be within
        reach (or the bucket's block ends). ``within=0`` is ``take``.
        """
        ...

    async def block(self, bucket: str, until: datetime) -> None:
        """Give no token from ``bucket`` before ``until`` (a platform's Retry-After), to any process."""
        ...

    async def blocked(self, bucket: str, *, now: datetime) -> float:
        """Seconds from ``now`` until the bucket's block ends (0.0: not blocked). Reads only."""
        ...
