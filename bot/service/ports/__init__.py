"""The ports: one small Protocol per outside capability.

Storage, platforms and time plug in here. Each has an in-memory twin shipped beside
the real one (``storage.memory``, ``adapters.shell``, ``bot.service.clock.FixedClock``).

- ``storage``: the unit of work and its repositories (releases, deliveries, receipts, audit log, subscriptions).
- ``platforms``: a platform's directory, messenger, reconciler and editor, and what they exchange.
- ``budgets``: the rate budgets every process on one database shares.
- ``clock``: where time comes from.
- ``web``: private sign-in links to Herald's web pages.
"""

from bot.service.ports.budgets import BudgetStore
from bot.service.ports.clock import Clock
from bot.service.ports.platforms import (
    Directory,
    Editor,
    Messenger,
    OutgoingMessage,
    PlatformLink,
    Reconciler,
    Resolution,
    ResolvedTarget,
)
from bot.service.ports.storage import (
    AuditLog,
    ConcurrentUpdate,
    DeliveryCount,
    DeliveryRepository,
    DeliveryTotal,
    ReceiptRepository,
    ReleaseRepository,
    SubscriptionRepository,
    UnitOfWork,
    UnitOfWorkFactory,
)
from bot.service.ports.web import SignInLinks

__all__ = [
    "AuditLog",
    "BudgetStore",
    "Clock",
    "ConcurrentUpdate",
    "DeliveryCount",
    "DeliveryRepository",
    "DeliveryTotal",
    "Directory",
    "Editor",
    "Messenger",
    "OutgoingMessage",
    "PlatformLink",
    "ReceiptRepository",
    "Reconciler",
    "ReleaseRepository",
    "Resolution",
    "ResolvedTarget",
    "SignInLinks",
    "SubscriptionRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]
