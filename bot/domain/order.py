"""Send order: a group that waits for an earlier group's receipts, not only for its sending.

``after = ["engineering"]`` waits until engineering's communiqué has gone out. The table
form, ``after = [{ group = "support", acknowledged = "80%", timeout = "4h" }]``, waits
further, until enough of support's expected readers have acknowledged (a ``ReceiptGate``).
Whether a gate holds is decided from counts alone (``ReceiptGate.hold``), so the engine,
which may only claim what no gate holds, and ``status``, which says why a group waits,
decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.durations import format_duration


class OnTimeout(StrEnum):
    """What a receipt gate does once its timeout has passed without the threshold reached."""

    SEND = "send"  # the waiting group goes anyway
    ESCALATE = "escalate"  # the waiting group stays held, and status says so


@dataclass(frozen=True, slots=True)
class Threshold:
    """How many of a group's expected readers must have acknowledged: a share (``80%``, ``all``) or a count."""

    percent: int | None = None  # 1..100; 100 is written "all"
    count: int | None = None  # at least 1

    def needed(self, expected: int) -> int:
        """The acknowledgements needed when ``expected`` people were meant to read the communiqué."""
        if self.count is not None:
            return self.count
        return -(-expected * (self.percent or 0) // 100)  # rounded up: 80% of 5 is 4

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        return "all" if self.percent == 100 else f"{self.percent}%"


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """Why a group may not go out yet: the earlier group's receipts are short of its threshold."""

    group: str  # the earlier group
    acknowledged: int
    expected: int
    needed: int
    timed_out: timedelta | None = None  # set: the gate's timeout passed and it escalates (held until released)

    def __str__(self) -> str:
        if self.timed_out is not None:
            return (
                f"held: {self.group} reached {self.acknowledged}/{self.expected} of {self.needed} needed "
                f"by its {format_duration(self.timed_out)} timeout; it goes once {self.group} reaches {self.needed}"
            )
        return f"waiting for {self.group}: {self.acknowledged}/{self.expected} acknowledged (needs {self.needed})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptGate:
    """``after = [{ group = …, acknowledged = … }]``: wait until that group's receipts reach a threshold."""

    group: str
    acknowledged: Threshold
    timeout: timedelta | None = None  # counted from when that group's communiqué first went out
    on_timeout: OnTimeout = OnTimeout.SEND

    def hold(self, *, went_out: datetime, acknowledged: int, expected: int, now: datetime) -> Hold | None:
        """Why the waiting group is still held (None: it may go), once the earlier group has gone out."""
        needed = self.acknowledged.needed(expected)
        if acknowledged >= needed:
            return None
        timed_out = self.timeout is not None and now >= went_out + self.timeout
        if timed_out and self.on_timeout is OnTimeout.SEND:
            return None
        return Hold(
            group=self.group,
            acknowledged=acknowledged,
            expected=expected,
            needed=needed,
            timed_out=self.timeout if timed_out else None,
        )
