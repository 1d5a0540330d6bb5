"""When to try a failed delivery again: exponential backoff with jitter, then give up."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` sends in all; the n-th retry waits up to ``base * 2**(n-1)``, capped."""

    max_attempts: int = 6
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=5)
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def gives_up(self, attempts: int) -> bool:
        """Whether a delivery that has been tried ``attempts`` times should fail for good."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """How long to wait before the next try; never less than the platform's Retry-After."""
        ceiling = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        jittered = timedelta(seconds=self.rng.uniform(0.5, 1.0) * ceiling.total_seconds())
        return max(jittered, timedelta(seconds=retry_after or 0.0))
