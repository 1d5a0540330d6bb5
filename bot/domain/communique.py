"""One group's communiqué of a release: its text, its review, and the corrections made to it after sending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReviewState(StrEnum):
    """Where one communiqué is in its review."""

    PENDING = "pending"
    APPROVED = "approved"
    SENT_BACK = "sent_back"


@dataclass(frozen=True, slots=True, kw_only=True)
class Correction:
    """A corrected text proposed for a communiqué already sent, waiting for its approval."""

    text: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EarlierText:
    """A text a communiqué carried until a correction replaced it."""

    group_id: str
    revision: int
    text: str
    replaced_at: datetime


@dataclass(slots=True, kw_only=True)
class Communique:
    """The text one stakeholder group will receive for one release."""

    group_id: str
    text: str
    render_error: str | None = None
    review: ReviewState = ReviewState.PENDING
    revision: int = 1
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    note: str | None = None
    edited_by: str | None = None
    edited_at: datetime | None = None
    message_ref: str | None = None  # where the walkthrough shows it (a platform's message reference)
    correction: Correction | None = None  # a corrected text waiting for approval (after sending began)
    corrected_by: str | None = None  # who wrote the last approved correction
    corrected_at: datetime | None = None  # when it was approved: the group is asked to acknowledge anew from then
    released_by: str | None = None  # sent by hand although an earlier group's receipts held it (``after`` tables)
    released_at: datetime | None = None

    @property
    def approved(self) -> bool:
        """Whether this revision of the text has been approved."""
        return self.review is ReviewState.APPROVED
