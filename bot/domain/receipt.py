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
    # Given on a channel post by someone the group's communiqué was not meant for (not in
    # the channel when it was sent, nor otherwise in the group's audience): recorded, and
    # listed apart, but not counted towards the group.
    outside: bool = False
    # None while it acknowledges the communiqué's current text; the revision it acknowledged
    # once a correction superseded that text (the group is asked to acknowledge anew).
    superseded: int | None = None
