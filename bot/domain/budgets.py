"""Rate budgets as platforms document them: values only; ``bot.service.limits`` enforces them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_second`` sustained, up to ``burst`` at once."""

    per_second: float
    burst: float = 1.0

    @classmethod
    def per_minute(cls, count: float, burst: float = 1.0) -> Rate:
        """A rate written the way platforms document it."""
        return cls(count / 60.0, burst)


@dataclass(frozen=True, slots=True)
class Limits:
    """The budgets one platform connection declares."""

    name: str  # the shared ceiling's bucket, e.g. "slack:T0123" (one per workspace)
    per_target: Rate | None = None
    ceiling: Rate | None = None
    methods: dict[str, Rate] = field(default_factory=dict)
    direct: Rate | None = None  # how fast a direct message can reach someone new (Discord: opening a DM channel)


UNLIMITED = Limits(name="unlimited")
