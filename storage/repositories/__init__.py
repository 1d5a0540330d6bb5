"""The repositories on SQL: each port of ``bot.service.ports`` over one ``AsyncSession``.

Writes are single statements whose WHERE or ON CONFLICT clause decides the race
(optimistic revision check, leased claim, settle-if-still-held, insert-if-absent), so two
units of work never both win, on SQLite or PostgreSQL. Reads ask the session to refresh any row
it still caches (``populate_existing``): a unit of work can outlive a commit, and the
database, not the session, is the source of truth.
"""

from storage.repositories._shared import Insert, Row, insert_for
from storage.repositories.audit import SqlAuditLog
from storage.repositories.deliveries import SqlDeliveryRepository
from storage.repositories.receipts import SqlReceiptRepository
from storage.repositories.releases import SqlReleaseRepository
from storage.repositories.subscriptions import SqlSubscriptionRepository

__all__ = [
    "Insert",
    "Row",
    "SqlAuditLog",
    "SqlDeliveryRepository",
    "SqlReceiptRepository",
    "SqlReleaseRepository",
    "SqlSubscriptionRepository",
    "insert_for",
]
