"""In-memory storage: the shipped fake of every repository, for tests and dry runs.

Rollback undoes what a unit of work wrote, as it does on a database.
"""

from storage.memory.budgets import MemoryBudgets
from storage.memory.repositories import _Receipts as _Receipts  # patched by tests/service/test_receipts.py
from storage.memory.store import MemoryStore, Undo
from storage.memory.unit_of_work import MemoryUnitOfWork

__all__ = ["MemoryBudgets", "MemoryStore", "MemoryUnitOfWork", "Undo"]
