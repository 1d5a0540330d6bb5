"""What Herald makes of one incoming mail, before it is matched to a delivery."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.service.reports import ReportAction


class MailKind(StrEnum):
    """What sort of mail it is."""

    DSN = "dsn"  # an RFC 3464 delivery status notification
    BOUNCE = "bounce"  # a non-delivery notice in any other format
    MDN = "mdn"  # an RFC 8098 message disposition notification (read receipt)
    AUTO_REPLY = "auto-reply"  # RFC 3834 auto-reply, out-of-office, vacation
    OTHER = "other"  # none of these: a person's reply, spam, anything


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientLine:
    """What the mail says about one recipient."""

    address: str  # lower-case; empty when the mail names none (a return path may still say whose it is)
    action: ReportAction
    status: str = ""  # the enhanced status code, e.g. 5.1.1
    diagnostic: str = ""  # the server's own words

    @property
    def temporary(self) -> bool:
        """Whether the trouble may pass: a 4.x.x status, whatever word the server used for it."""
        return self.status.startswith("4")


@dataclass(frozen=True, slots=True, kw_only=True)
class MailReading:
    """One mail, read: its kind, per recipient what it says, and what names the mail it is about."""

    kind: MailKind
    recipients: tuple[RecipientLine, ...] = ()
    reporter: str = ""  # the server (DSN), client (MDN) or person (auto-reply) that wrote it
    sign: str = ""  # what gave its kind away, e.g. "Auto-Submitted: auto-replied"
    delivered_to: tuple[str, ...] = ()  # the addresses it was delivered to, where a return-path ref may be
    message_ids: tuple[str, ...] = ()  # ids that may name Herald's mail: ENVID, Original-Message-ID, In-Reply-To, ...
    subject: str = ""
