"""The in-memory data itself, and the undo journal a unit of work keeps over it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.audit import AuditEntry
from bot.domain.communique import EarlierText
from bot.domain.delivery import Delivery
from bot.domain.plan import PlanSnapshot
from bot.domain.receipt import Receipt
from bot.domain.release import Release
from bot.domain.subscriptions import Subscription


@dataclass
class MemoryStore:
    """The data itself; share one between unit-of-work instances."""

    releases: dict[str, Release] = field(default_factory=dict)
    plans: dict[str, PlanSnapshot] = field(default_factory=dict)  # the plan each release was announced under
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    receipts: dict[tuple[str, str, str], Receipt] = field(default_factory=dict)  # of the current texts
    superseded: list[Receipt] = field(default_factory=list)  # of texts a correction replaced
    earlier: dict[tuple[str, str, int], EarlierText] = field(default_factory=dict)  # (version, group, revision)
    audit: list[AuditEntry] = field(default_factory=list)
    buckets: dict[str, tuple[float, datetime, datetime | None]] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)  # by Subscription.key


Undo = list[Callable[[], object]]
