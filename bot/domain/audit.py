"""The append-only audit log: who did what, when, and whether it was allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    """Whether the step happened."""

    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One recorded step."""

    at: datetime
    actor: str
    action: str
    version: str | None
    outcome: Outcome
    detail: str = ""
