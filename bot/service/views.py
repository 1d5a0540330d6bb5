"""What Herald shows people, platform-neutral. Each adapter renders these its own way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.checks import CheckResult
from bot.domain.communique import ReviewState
from bot.domain.delivery import Delivery
from bot.domain.order import Hold
from bot.domain.plan import AckPolicy
from bot.domain.release import ReleaseState

_SHOWN_PEOPLE = 30  # in a status message, who has not acknowledged: the first 30, then a count
_SHOWN_FAILURES = 10  # per group


class Tone(StrEnum):
    """How a notice should look."""

    INFO = "info"
    SUCCESS = "success"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Notice:
    """One sentence for the person who acted."""

    text: str
    tone: Tone = Tone.INFO


@dataclass(frozen=True, slots=True, kw_only=True)
class CommuniqueView:
    """A communiqué exactly as recipients will see it, with its checks and review state."""

    version: str
    group_id: str
    group_name: str
    destinations: tuple[str, ...]
    text: str
    review: ReviewState
    revision: int
    reviewed_by: str | None
    note: str | None
    checks: tuple[CheckResult, ...]
    receipt: str = ""  # what the plan asks of recipients, e.g. "acknowledge within 2h"
    allow_mentions: bool = False  # shown (and sent) with @channel/@here live
    sent: bool = False  # sending has begun: the text may only be corrected now
    closed: bool = False  # the release was cancelled or retracted: nothing more is done to its communiqués
    correction_by: str | None = None  # set: ``text`` is a correction proposed by them, waiting for approval

    @property
    def blocking(self) -> list[str]:
        """Messages of the failing blocking checks."""
        return [c.message for c in self.checks if c.blocks]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseView:
    """The head of the walkthrough thread."""

    version: str
    product: str
    state: ReleaseState
    announced_by: str
    confirmed_by: str | None
    approved_by: str | None
    approvers: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    communiques: tuple[CommuniqueView, ...]
    next_step: str
    focus: tuple[str, ...] | None = None  # the groups a command changed; None: show everything
    summary: tuple[str, ...] = ()  # what a send will do, a line per group
    estimate_seconds: float | None = None  # how long sending takes at the platforms' ceilings
    retraction: str | None = None  # why it is withdrawn: proposed (``retraction_waiting``) or in effect
    retraction_waiting: bool = False  # proposed, waiting for an approver's /release approve VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxStatus:
    """One e-mail recipient: what became of the message, and whether they acknowledged it.

    ``delivery`` is "pending", "sent" (the server took it; nothing more is known),
    "confirmed" (the recipient's server reported it delivered), "bounced" (it reported
    it could not deliver it) or "failed" (Herald's SMTP server refused it). Apart from
    that, ``read`` (a read receipt came back) and ``acknowledged`` (the person said so)
    are three steps of proof: delivered, read, acknowledged.
    """

    target: str
    delivery: str
    acknowledged: bool
    report: str | None = None
    read: bool = False  # the reader's mail client sent a read receipt (displayed); not an acknowledgement
    auto_reply: str | None = None  # an automatic reply came back (out of office); not an acknowledgement

    def as_json(self) -> dict[str, Any]:
        """The mailbox's entry in ``herald status --json``."""
        return {
            "target": self.target,
            "delivery": self.delivery,
            "read": self.read,
            "acknowledged": self.acknowledged,
            "report": self.report,
            "auto_reply": self.auto_reply,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupStatus:
    """Deliveries and acknowledgements of one group."""

    id: str
    name: str
    ack: str
    targets: int
    sent: int
    failed: int
    pending: int
    acknowledged: int
    expected: int
    not_acknowledged: tuple[str, ...]
    late: int = 0  # of the acknowledged: after the group's deadline
    failures: tuple[tuple[str, str], ...] = ()
    reminders: int = 0  # reminder messages sent
    escalated: bool = False
    mailboxes: tuple[MailboxStatus, ...] = ()  # per e-mail recipient: delivered, bounced, acknowledged
    outside: int = 0  # acknowledged by people outside the audience (a channel's later members): not counted
    holds: tuple[Hold, ...] = ()  # why its pending deliveries wait: an earlier group's receipts (``after`` tables)
    revision: int = 1  # the communiqué's revision now
    corrected_by: str | None = None  # who wrote the last approved correction (None: never corrected)
    corrected: int = 0  # corrections of copies made (edited in place, or followed up)
    correcting: int = 0  # corrections of copies still to go
    earlier: tuple[tuple[int, int], ...] = ()  # (revision, acknowledged) of each text a correction replaced
    stopped: int = 0  # copies never sent: the release was retracted first
    unreachable: int = 0  # copies never attempted: their person cannot be messaged there
    require: str = "acknowledged"  # the group's level: what completes a reader (delivered, read, acknowledged)
    # Who was meant and where each stands (status with names): (state, people), strongest first, summing to
    # the intended; and (person, why) for each never attempted or failed.
    reconciled: tuple[tuple[str, int], ...] = ()
    missed: tuple[tuple[str, str], ...] = ()
    people: tuple[tuple[str, str], ...] = ()  # (person, their strongest state) for everyone intended
    met: int = 0  # below acknowledged: how many met the group's level (a receipt meets every level)
    withdrawn: int = 0  # copies a retraction struck through or followed with a notice
    withdrawing: int = 0  # retractions of copies still to go

    def figures(self) -> str:
        """The group's counts on one line, e.g. ``3/4 sent, 1 failed · 2/3 acknowledged · escalated``."""
        line = f"{self.sent}/{self.targets} sent"
        if self.failed:
            line += f", {self.failed} failed"
        if self.pending:
            line += f", {self.pending} pending"
        if self.unreachable:  # the person cannot be messaged there (status with names says who and why)
            line += f", {self.unreachable} never attempted"
        if self.stopped:
            line += f", {self.stopped} stopped"
        if self.withdrawn or self.withdrawing:  # "retracted: 298/300 copies withdrawn"
            line += f" · retracted: {self.withdrawn}/{self.withdrawn + self.withdrawing} copies withdrawn"
        for hold in self.holds:  # "waiting for support: 3/5 acknowledged (needs 4)"
            line += f" · {hold}"
        if self.corrected_by is not None:  # "revision 2, corrected by dana: 299/300 copies corrected"
            line += (
                f" · revision {self.revision}, corrected by {self.corrected_by}: "
                f"{self.corrected}/{self.corrected + self.correcting} copies corrected"
            )
        if self.ack != "none" and self.require != "acknowledged":  # "3/4 read, 1 acknowledged"
            line += f" · {self.met}/{self.expected} {self.require}, {self.acknowledged} acknowledged"
        elif self.ack != "none":
            line += f" · {self.acknowledged}/{self.expected} acknowledged"
            if self.late:
                line += f" ({self.late} late)"
            if self.outside:
                line += f", also by {self.outside} outside the audience"
            for revision, count in self.earlier:  # kept, not counted: the group was asked anew
                line += f", {count} had acknowledged revision {revision}"
        if self.missed:  # someone was not reached: "300 meant: 288 delivered, 12 never attempted"
            meant = sum(n for _, n in self.reconciled)
            line += f" · {meant} meant: " + ", ".join(f"{n} {state}" for state, n in self.reconciled)
        if self.reminders:
            line += f" · {self.reminders} reminders"
        if self.escalated:
            line += " · escalated"
        proofs = [
            f"{count} {state}"
            for state in ("confirmed", "bounced")
            if (count := sum(m.delivery == state for m in self.mailboxes))
        ]
        if read := sum(m.read for m in self.mailboxes):
            proofs.append(f"{read} read")
        if replied := sum(m.auto_reply is not None for m in self.mailboxes):
            proofs.append(f"{replied} auto-repl{'y' if replied == 1 else 'ies'}")
        if proofs:  # what the recipients' mail servers reported (DSN), shown wherever the figures are
            line += " · e-mail " + ", ".join(proofs)
        return line

    def as_json(self) -> dict[str, Any]:
        """The group's entry in ``herald status --json``."""
        return {
            "id": self.id,
            "name": self.name,
            "ack": self.ack,
            "targets": self.targets,
            "sent": self.sent,
            "failed": self.failed,
            "pending": self.pending,
            "acknowledged": self.acknowledged,
            "expected": self.expected,
            "require": self.require,
            "met": self.met if self.require != "acknowledged" else self.acknowledged,
            "acknowledged_outside": self.outside,
            "not_acknowledged": list(self.not_acknowledged),
            "failures": [{"target": t, "error": e} for t, e in self.failures],
            "reminders_sent": self.reminders,
            "escalated": self.escalated,
            "mailboxes": [m.as_json() for m in self.mailboxes],
            "revision": self.revision,
            "corrected_by": self.corrected_by,
            "copies_corrected": self.corrected,
            "copies_to_correct": self.correcting,
            "stopped": self.stopped,
            "never_attempted": self.unreachable,
            "copies_withdrawn": self.withdrawn,
            "copies_to_withdraw": self.withdrawing,
            "acknowledged_earlier_revisions": [{"revision": r, "acknowledged": n} for r, n in self.earlier],
            "reconciled": {state: n for state, n in self.reconciled},
            "missed": [{"person": p, "why": why} for p, why in self.missed],
            "people": [{"person": p, "state": state} for p, state in self.people],
            "waiting_for": [
                {
                    "group": h.group,
                    "acknowledged": h.acknowledged,
                    "expected": h.expected,
                    "needed": h.needed,
                    "timed_out": h.timed_out is not None,
                }
                for h in self.holds
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusView:
    """The status report of one release."""

    version: str
    product: str
    state: ReleaseState
    groups: tuple[GroupStatus, ...]
    eta_seconds: float | None = None  # while sending: time left at the current rate
    retraction: str | None = None  # "retracted by dana, approved by lee: REASON" (or proposed, waiting)

    def details(
        self,
        *,
        who: Callable[[str], str],
        escape: Callable[[str], str],
        verbatim: Callable[[str], str],
        failed: str,
    ) -> list[str]:
        """The lines under the counts: who has not acknowledged (the first 30), failures, time left.

        ``who`` names a person, ``escape`` makes text safe for the platform's markup and
        ``verbatim`` inside a code span, ``failed`` marks a failure (an emoji).
        """
        lines: list[str] = [escape(self.retraction)] if self.retraction else []
        for group in self.groups:
            waiting = group.not_acknowledged
            if waiting and group.ack != AckPolicy.NONE.value:
                names = ", ".join(who(p) for p in waiting[:_SHOWN_PEOPLE])
                more = f" and {len(waiting) - _SHOWN_PEOPLE} more" if len(waiting) > _SHOWN_PEOPLE else ""
                lines.append(f"{escape(group.name)}, not yet {group.require}: {names}{more}")
            for person, why in group.missed[:_SHOWN_FAILURES]:
                lines.append(f"{escape(group.name)}, not reached: {who(person)} ({escape(why)})")
            for target, error in group.failures[:_SHOWN_FAILURES]:
                lines.append(f"{failed} `{verbatim(target)}`: {escape(error)}")
        if self.eta_seconds:
            lines.append(f"about {self.eta_seconds:.0f}s left at the current rate")
        return lines

    def as_json(self) -> dict[str, Any]:
        """The object ``herald status VERSION --json`` prints."""
        return {
            "version": self.version,
            "product": self.product,
            "state": self.state.value,
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
            "retraction": self.retraction,
            "groups": [g.as_json() for g in self.groups],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AckLinkView:
    """What a personal acknowledgement link leads to: the message, and whether it can still be acknowledged."""

    found: bool  # False: no such mail of Herald's (or its release is gone)
    delivery_key: str = ""
    person: str = ""  # the mail's recipient: who the link acknowledges as
    recorded: bool = True  # False: the link is Herald's, but the send is not recorded yet (try again shortly)
    expired: bool = False  # older than the group's ack_link_valid_for: acknowledge in chat instead
    product: str = ""
    version: str = ""
    group_name: str = ""
    deadline: datetime | None = None
    past_deadline: bool = False
    acknowledged: bool = False
    asked: bool = True  # False: the group asks for no acknowledgement
    replaced_by: int | None = None  # the mail carries a text a correction replaced: the revision it is now


@dataclass(frozen=True, slots=True)
class HelpView:
    """The commands a person can type."""

    lines: tuple[str, ...]


View = Notice | CommuniqueView | ReleaseView | StatusView | HelpView


@dataclass(slots=True)
class Reply:
    """Everything to show after one command, in order; ``subject`` is the delivery an acknowledgement was about."""

    views: list[View] = field(default_factory=list)
    subject: Delivery | None = None
    recorded: bool | None = None  # for an acknowledgement: whether it was new (False: already recorded)

    @property
    def failed(self) -> bool:
        """Whether the command was refused."""
        return any(isinstance(v, Notice) and v.tone is Tone.ERROR for v in self.views)
