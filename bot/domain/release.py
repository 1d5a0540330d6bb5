"""The release aggregate: a version being announced and its communiqués.

States::

    validating ──request_send──► awaiting_approval ──approve_release──► sending ──► sent
        │  (no approvers: request_send goes straight to sending)          │           │
        └──────────────── cancel ─────────────► cancelled ◄───────────────┘           │
                                                     (before sending only)           │
                      retracted ◄── propose_retraction (+ approve_retraction) ───────┘ (once sending began)

Once sending has begun a communiqué can still be corrected: ``propose_correction`` holds a
new text beside the one that went out, ``approve_correction`` (by someone else when the plan
asks for four eyes) makes it the communiqué's next revision, which every copy then carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.communique import Communique, Correction, ReviewState
from bot.domain.errors import InvalidState, NotAllowed, NotFound
from bot.domain.notes import KeptNotes
from bot.domain.people import display_name
from bot.domain.plan import Plan


class ReleaseState(StrEnum):
    """Where a release is in the walkthrough."""

    VALIDATING = "validating"
    AWAITING_APPROVAL = "awaiting_approval"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"
    RETRACTED = "retracted"  # withdrawn after sending began (a rollback): every copy says so


@dataclass(frozen=True, slots=True, kw_only=True)
class Retraction:
    """Why a release is withdrawn, who asked, and when; it takes effect once approved (``Release.retracted_at``)."""

    reason: str
    by: str
    at: datetime
    go_live: datetime | None = None  # set: a reschedule, the release now goes live then (not a rollback)

    @property
    def what(self) -> str:
        """How it is told: ``Retracted`` or ``Rescheduled to 2026-12-09 14:00 UTC``."""
        return "Retracted" if self.go_live is None else f"Rescheduled to {self.go_live:%Y-%m-%d %H:%M UTC}"


@dataclass(slots=True, kw_only=True)
class Release:
    """A release being announced. Mutated only through its methods."""

    version: str
    product: str
    state: ReleaseState
    announced_by: str
    announced_at: datetime
    communiques: dict[str, Communique]
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    send_requested_by: str | None = None
    send_requested_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    completed_at: datetime | None = None
    thread: str | None = None
    revision: int = 0
    retraction: Retraction | None = None  # proposed, or (with ``retracted_at``) in effect
    skipped: dict[str, str] = field(default_factory=dict)  # groups its plan's rules leave out, each with why
    components: tuple[str, ...] = ()  # what it is a release of (a monorepo's packages); none: the whole product
    notes: KeptNotes | None = None  # its release notes as read when announced (None: the plan names none)
    retraction_approved_by: str | None = None
    retracted_at: datetime | None = None

    @classmethod
    def announce(
        cls,
        *,
        version: str,
        plan: Plan,
        actor: str,
        now: datetime,
        communiques: dict[str, Communique],
        skipped: dict[str, str] | None = None,
        components: tuple[str, ...] = (),
        notes: KeptNotes | None = None,
    ) -> Release:
        """Start announcing ``version``: one communiqué per group of the plan the plan's rules do not leave out
        (``skipped``, each with why)."""
        _require_announcer(plan, actor, "announce a release")
        _require_scope(plan, actor, [g.id for g in plan.groups], "announce this release")
        return cls(
            version=version,
            product=plan.product,
            state=ReleaseState.VALIDATING,
            announced_by=actor,
            announced_at=now,
            communiques=communiques,
            skipped=dict(skipped or {}),
            components=components,
            notes=notes,
        )

    # -- the walkthrough -------------------------------------------------------------

    def communique(self, group_id: str) -> Communique:
        """The communiqué for ``group_id``.

        Raises:
            NotFound: naming the groups this release has.
        """
        try:
            return self.communiques[group_id]
        except KeyError:
            known = ", ".join(self.communiques)
            raise NotFound(f"Release {self.version} has no communiqué for “{group_id}”; it has {known}.") from None

    def confirm_success(self, plan: Plan, actor: str, now: datetime) -> bool:
        """Record that ``actor`` confirmed the release was declared a success and is available.

        Returns:
            False when it was already confirmed (nothing changes).
        """
        _require_announcer(plan, actor, "confirm that a release is live")
        self._require(ReleaseState.VALIDATING, "confirm it")
        if self.confirmed_by is not None:
            return False
        self.confirmed_by, self.confirmed_at = actor, now
        return True

    def approve_communique(self, plan: Plan, group_id: str, actor: str, now: datetime, blocking: list[str]) -> bool:
        """Approve the current text of one communiqué.

        Args:
            blocking: messages of the blocking checks that fail; approval is refused if any.

        Returns:
            False when that revision was already approved (nothing changes).
        """
        _require_reviewer(plan, actor, "approve a communiqué")
        _require_scope(plan, actor, [group_id], f"approve the {group_id} communiqué")
        self._require(ReleaseState.VALIDATING, "approve communiqués")
        communique = self.communique(group_id)
        if communique.approved:
            return False
        if blocking:
            raise InvalidState(
                f"The {group_id} communiqué cannot be approved until its checks pass: {'; '.join(blocking)}."
            )
        if plan.four_eyes and communique.edited_by == actor:
            raise NotAllowed(
                f"You edited the {group_id} communiqué, so someone else must approve it: "
                "this plan asks for a second pair of eyes."
            )
        communique.review, communique.reviewed_by, communique.reviewed_at = ReviewState.APPROVED, actor, now
        communique.note = None
        return True

    def edit_communique(self, plan: Plan, group_id: str, text: str, actor: str, now: datetime) -> None:
        """Replace a communiqué's text; it must be checked and approved again."""
        _require_reviewer(plan, actor, "edit a communiqué")
        _require_scope(plan, actor, [group_id], f"edit the {group_id} communiqué")
        if self.sending_began:
            raise InvalidState(
                f"Release {self.version} is {_describe(self.state)}, so its copies are out: send a correction "
                f"instead, /release correct {self.version} {group_id} CORRECTED TEXT."
            )
        self._require(ReleaseState.VALIDATING, "edit communiqués")
        if not text.strip():
            raise InvalidState("A communiqué cannot be empty; type the new text after the command.")
        communique = self.communique(group_id)
        communique.text = text
        communique.render_error = None
        communique.revision += 1
        communique.review = ReviewState.PENDING
        communique.reviewed_by = communique.reviewed_at = None
        communique.edited_by, communique.edited_at = actor, now

    def skip_group(self, plan: Plan, group_id: str, actor: str, reason: str) -> bool:
        """Leave ``group_id`` out of this release by hand (its notes have nothing for it, say): it gets nothing, and
        is listed with the groups the plan's rules leave out.

        Returns:
            False when it was skipped already (nothing changes).
        """
        _require_reviewer(plan, actor, "skip a group")
        _require_scope(plan, actor, [group_id], f"skip {group_id}")
        self._require(ReleaseState.VALIDATING, "skip a group")
        if group_id in self.skipped and group_id not in self.communiques:
            return False
        self.communique(group_id)  # NotFound, naming the groups it has
        if len(self.communiques) == 1:
            raise InvalidState(
                f"{group_id} is the last group {self.version} reaches; to tell nobody, cancel it instead "
                f"(/release cancel {self.version})."
            )
        del self.communiques[group_id]
        why = f"left out by {display_name(actor)}"
        self.skipped[group_id] = f"{why}: {reason}" if reason.strip() else why
        return True

    def send_back(self, plan: Plan, group_id: str, actor: str, now: datetime, reason: str) -> None:
        """Return a communiqué for rework; it must be edited and approved again."""
        _require_reviewer(plan, actor, "send a communiqué back")
        _require_scope(plan, actor, [group_id], f"send the {group_id} communiqué back")
        self._require(ReleaseState.VALIDATING, "send communiqués back")
        communique = self.communique(group_id)
        communique.review, communique.reviewed_by, communique.reviewed_at = ReviewState.SENT_BACK, actor, now
        communique.note = reason or None

    # -- corrections, once sending has begun ---------------------------------------------

    def propose_correction(self, plan: Plan, group_id: str, text: str, actor: str, now: datetime) -> None:
        """Hold a corrected text for a communiqué already being sent; it goes out once approved.

        A second proposal before the approval replaces the first.
        """
        _require_reviewer(plan, actor, "correct a communiqué")
        _require_scope(plan, actor, [group_id], f"correct the {group_id} communiqué")
        self._require_sending("correct a communiqué", "edit the communiqué instead of correcting it")
        if not text.strip():
            raise InvalidState("A correction cannot be empty; type the corrected text.")
        communique = self.communique(group_id)
        if text == communique.text:
            raise InvalidState(f"That is the text the {group_id} communiqué already has; nothing to correct.")
        communique.correction = Correction(text=text, by=actor, at=now)

    def approve_correction(self, plan: Plan, group_id: str, actor: str, now: datetime, blocking: list[str]) -> int:
        """Approve the corrected text waiting for ``group_id``: it becomes the communiqué's next revision.

        Returns:
            The new revision.
        """
        _require_reviewer(plan, actor, "approve a correction")
        _require_scope(plan, actor, [group_id], f"approve the correction of {group_id}")
        self._require_sending("approve a correction", "edit the communiqué instead of correcting it")
        communique = self.communique(group_id)
        correction = communique.correction
        if correction is None:
            raise InvalidState(
                f"No correction of the {group_id} communiqué is waiting; propose one with "
                f"/release correct {self.version} {group_id}."
            )
        if blocking:
            raise InvalidState(
                f"The correction of {group_id} cannot be approved until its checks pass: {'; '.join(blocking)}."
            )
        if plan.four_eyes and correction.by == actor:
            raise NotAllowed(
                f"You wrote the correction of {group_id}, so someone else must approve it: "
                "this plan asks for a second pair of eyes."
            )
        communique.text, communique.render_error = correction.text, None
        communique.revision += 1
        communique.review, communique.reviewed_by, communique.reviewed_at = ReviewState.APPROVED, actor, now
        communique.edited_by, communique.edited_at = correction.by, correction.at
        communique.corrected_by, communique.corrected_at = correction.by, now
        communique.correction = None
        self.state, self.completed_at = ReleaseState.SENDING, None  # the corrections are to be sent
        return communique.revision

    def withdraw_correction(self, plan: Plan, group_id: str, actor: str) -> bool:
        """Drop the corrected text waiting for ``group_id`` (False: none was waiting)."""
        _require_reviewer(plan, actor, "withdraw a correction")
        _require_scope(plan, actor, [group_id], f"withdraw the correction of {group_id}")
        communique = self.communique(group_id)
        if communique.correction is None:
            return False
        communique.correction = None
        return True

    def release_held(self, plan: Plan, group_id: str, actor: str, now: datetime) -> bool:
        """Send ``group_id`` now although an earlier group's receipts hold it (its ``after`` tables).

        Returns:
            False when it was released already (nothing changes).
        """
        _require_reviewer(plan, actor, "send a held group")
        _require_scope(plan, actor, [group_id], f"send {group_id}")
        self._require_sending("send a held group", "send the release first")
        communique = self.communique(group_id)
        if not plan.group(group_id).gates:
            raise InvalidState(f"{group_id} waits for no earlier group's receipts, so nothing holds it.")
        if communique.released_by is not None:
            return False
        communique.released_by, communique.released_at = actor, now
        return True

    def held_by_receipts(self, group_id: str) -> bool:
        """Whether ``group_id``'s receipt gates still apply (nobody sent it by hand)."""
        communique = self.communiques.get(group_id)
        return communique is None or communique.released_by is None

    @property
    def sending_began(self) -> bool:
        """Whether the release is being or has been sent (its communiqués may then only be corrected)."""
        return self.state in (ReleaseState.SENDING, ReleaseState.SENT)

    # -- retraction, once sending has begun ----------------------------------------------

    def propose_retraction(
        self, plan: Plan, actor: str, now: datetime, reason: str, *, go_live: datetime | None = None
    ) -> bool:
        """Withdraw the release (rolled back; with ``go_live``, rescheduled to then): at once, or once an approver
        other than ``actor`` approves.

        The same rule as a send: a plan with approvers asks a second person.

        Returns:
            True when it takes effect now.
        """
        _require_reviewer(plan, actor, "retract a release")
        _require_scope(plan, actor, self.communiques, "retract this release")
        if self.state is ReleaseState.RETRACTED:
            raise InvalidState(f"Release {self.version} is already retracted.")
        self._require_sending("retract it", "cancel it instead")
        if not reason.strip():
            raise InvalidState(f"Say why it is retracted: /release retract {self.version} REASON.")
        if go_live is not None and go_live <= now:
            raise InvalidState(f"The new go-live time {go_live:%Y-%m-%d %H:%M UTC} has passed; give a later one.")
        self.retraction = Retraction(reason=" ".join(reason.split()), by=actor, at=now, go_live=go_live)
        if plan.needs_second_approval:
            return False
        self._retract(actor, now)
        return True

    def approve_retraction(self, plan: Plan, actor: str, now: datetime) -> None:
        """A second person approves the retraction waiting for approval."""
        retraction = self.retraction
        if self.state is ReleaseState.RETRACTED:
            raise InvalidState(f"Release {self.version} is already retracted.")
        if retraction is None:
            raise InvalidState(f"No retraction of {self.version} is waiting; propose one with /release retract.")
        if actor not in plan.approvers:
            names = ", ".join(sorted(display_name(p) for p in plan.approvers)) or "nobody"
            raise NotAllowed(f"Only an approver can approve a retraction (approvers: {names}).")
        if actor == retraction.by:
            raise NotAllowed("You proposed the retraction, so someone else must approve it.")
        _require_scope(plan, actor, self.communiques, "approve this release's retraction")
        self._retract(actor, now)

    def withdraw_retraction(self, plan: Plan, actor: str) -> bool:
        """Drop the retraction waiting for approval (False: none was waiting)."""
        _require_reviewer(plan, actor, "withdraw a retraction")
        _require_scope(plan, actor, self.communiques, "withdraw this release's retraction")
        if self.retraction is None or self.state is ReleaseState.RETRACTED:
            return False
        self.retraction = None
        return True

    @property
    def retraction_waiting(self) -> bool:
        """Whether a retraction was proposed and waits for its approval."""
        return self.retraction is not None and self.state is not ReleaseState.RETRACTED

    def _retract(self, actor: str, now: datetime) -> None:
        self.state, self.retraction_approved_by, self.retracted_at = ReleaseState.RETRACTED, actor, now

    def request_send(self, plan: Plan, actor: str, now: datetime, blocking: list[str]) -> bool:
        """The announcer asks to send. Returns True when sending may start now.

        With approvers in the plan the release waits for a second person's approval.
        """
        _require_announcer(plan, actor, "send a release")
        _require_scope(plan, actor, self.communiques, "send this release")
        if self.state is ReleaseState.AWAITING_APPROVAL:
            return False
        self._require(ReleaseState.VALIDATING, "send it")
        if blocking:
            raise InvalidState("Not ready to send: " + "; ".join(blocking) + ".")
        self.send_requested_by, self.send_requested_at = actor, now
        if plan.needs_second_approval:
            self.state = ReleaseState.AWAITING_APPROVAL
            return False
        self._approve(actor, now)
        return True

    def approve_release(self, plan: Plan, actor: str, now: datetime) -> None:
        """A second person, an approver who is not the announcer, approves sending."""
        if actor not in plan.approvers:
            names = ", ".join(sorted(display_name(p) for p in plan.approvers)) or "nobody"
            raise NotAllowed(f"Only an approver can give the final approval (approvers: {names}).")
        if actor in (self.announced_by, self.send_requested_by):
            raise NotAllowed(
                "The final approval must come from a second person, not the one who announced or asked to send."
            )
        if self.state is ReleaseState.VALIDATING:
            raise InvalidState(
                f"Release {self.version} is not ready for the final approval yet; the announcer sends it first."
            )
        self._require(ReleaseState.AWAITING_APPROVAL, "approve it")
        _require_scope(plan, actor, self.communiques, "approve this release")
        self._approve(actor, now)

    def _approve(self, actor: str, now: datetime) -> None:
        self.approved_by, self.approved_at = actor, now
        self.state = ReleaseState.SENDING

    def cancel(self, plan: Plan, actor: str, now: datetime) -> None:
        """Cancel the release before anything is sent."""
        _require_reviewer(plan, actor, "cancel a release")
        _require_scope(plan, actor, self.communiques, "cancel this release")
        if self.state in (ReleaseState.SENDING, ReleaseState.SENT):
            raise InvalidState(f"Release {self.version} is already {self.state.value}; it can no longer be cancelled.")
        self._require_open("cancel it")
        self.state, self.cancelled_by, self.cancelled_at = ReleaseState.CANCELLED, actor, now

    def resume_sending(self, plan: Plan, actor: str) -> None:
        """Go back to sending (failed targets are being retried)."""
        _require_reviewer(plan, actor, "retry failed deliveries")
        _require_scope(plan, actor, self.communiques, "retry this release's failed deliveries")
        if self.state not in (ReleaseState.SENDING, ReleaseState.SENT):
            raise InvalidState(f"Release {self.version} is {_describe(self.state)}; nothing has been sent to retry.")
        self.state, self.completed_at = ReleaseState.SENDING, None

    def complete(self, now: datetime) -> None:
        """Every delivery has settled."""
        if self.state is ReleaseState.SENDING:
            self.state, self.completed_at = ReleaseState.SENT, now

    # -- helpers ---------------------------------------------------------------------

    def _require_open(self, action: str) -> None:
        if self.state is ReleaseState.CANCELLED:
            raise InvalidState(f"Release {self.version} was cancelled; you cannot {action}.")

    def _require_sending(self, action: str, instead: str) -> None:
        self._require_open(action)
        if self.state is ReleaseState.RETRACTED:
            raise InvalidState(f"Release {self.version} was retracted; you cannot {action}.")
        if not self.sending_began:
            raise InvalidState(
                f"Release {self.version} is {_describe(self.state)}; nothing has been sent, so {instead}."
            )

    def _require(self, state: ReleaseState, action: str) -> None:
        self._require_open(action)
        if self.state is not state:
            raise InvalidState(f"Release {self.version} is {_describe(self.state)}; you cannot {action} now.")


def _describe(state: ReleaseState) -> str:
    return {
        ReleaseState.VALIDATING: "still being validated",
        ReleaseState.AWAITING_APPROVAL: "waiting for the final approval",
        ReleaseState.SENDING: "being sent",
        ReleaseState.SENT: "already sent",
        ReleaseState.CANCELLED: "cancelled",
        ReleaseState.RETRACTED: "retracted",
    }[state]


def _require_scope(plan: Plan, actor: str, group_ids: Iterable[str], action: str) -> None:
    why = plan.out_of_scope(actor, group_ids)
    if why is not None:
        raise NotAllowed(f"You cannot {action}: {why}. Someone whose scope covers it must do it.")


def _require_announcer(plan: Plan, actor: str, action: str) -> None:
    if actor not in plan.announcers:
        raise NotAllowed(f"You are not an announcer in the plan, so you cannot {action}.")


def _require_reviewer(plan: Plan, actor: str, action: str) -> None:
    if actor not in plan.announcers and actor not in plan.approvers:
        raise NotAllowed(f"Only announcers and approvers can {action}.")
