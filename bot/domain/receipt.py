"""Receipts: proof that a person got a communiqué."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReceiptSource(StrEnum):
    """How the acknowledgement arrived."""

    REACTION = "reaction"
    BUTTON = "button"
    LINK = "link"


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """One person's acknowledgement of one group's communiqué; recorded once."""

    version: str
    group_id: str
    person: str
    source: ReceiptSource
    delivery_key: str
    at: datetime
