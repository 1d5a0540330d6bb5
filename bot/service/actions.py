"""The walkthrough's buttons, once for every platform: which exist, what they say, what a press does.

A front door draws the ``ActionView``s of a view in its own widgets (Slack's Block Kit
buttons, Discord's components, the shell's command hints) and turns a press back into a
command with ``command_for``; who may press is the desk's to decide, as for typed
commands. A new button is one entry here and appears on every platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.commands import (
    ApproveCommunique,
    ApproveRelease,
    CancelRelease,
    Command,
    ConfirmRelease,
    EditCommunique,
    RemindNow,
    RequestSend,
    RetractRelease,
    SendBackCommunique,
)
from bot.domain.communique import ReviewState
from bot.domain.release import ReleaseState
from bot.service.views import CommuniqueView, ReleaseView


class Act(StrEnum):
    """What a button does."""

    APPROVE = "approve"  # a communiqué's current revision
    EDIT = "edit"  # a communiqué's text (asks for the new text)
    REJECT = "reject"  # send a communiqué back (asks for the reason)
    CONFIRM = "confirm"  # the release is declared a success and available
    SEND = "send"  # the announcer asks to send
    FINAL = "final"  # the second person's approval: of the send, or of a retraction waiting for it
    REMIND = "remind"  # remind now those who have not acknowledged
    RETRACT = "retract"  # withdraw the release once sending began (asks why)
    DROP = "drop"  # drop the retraction waiting for approval


class Style(StrEnum):
    """How a button looks."""

    PRIMARY = "primary"
    DANGER = "danger"
    PLAIN = "plain"


class Asks(StrEnum):
    """What a press asks of the person before it becomes a command."""

    NOTHING = "nothing"
    TEXT = "text"  # the communiqué's new text
    REASON = "reason"  # why it is sent back
    WHY = "why"  # why the release is withdrawn


@dataclass(frozen=True, slots=True)
class ActionView:
    """One button: its act, its label and look, and what it is about."""

    act: Act
    label: str
    style: Style
    version: str
    group_id: str | None = None  # set on a communiqué's buttons

    @property
    def asks(self) -> Asks:
        """What the person is asked first (a modal, or the text after a typed command)."""
        return asks_first(self.act)

    @property
    def typed(self) -> str:
        """The same as a typed command, for the shell and for help texts."""
        verb = _VERBS.get(self.act, self.act.value)
        words = ["/release", verb, self.version, *([self.group_id] if self.group_id else [])]
        asked = {Asks.TEXT: ["TEXT"], Asks.REASON: ["REASON"], Asks.WHY: ["REASON"]}.get(self.asks, [])
        return " ".join(words + asked)


COMMUNIQUE_ACTS = frozenset({Act.APPROVE, Act.EDIT, Act.REJECT})  # about one communiqué: they need its group
_VERBS = {Act.FINAL: "approve", Act.DROP: "cancel"}  # the typed verb, where it is not the act's own name


def asks_first(act: Act) -> Asks:
    """What a press of ``act`` asks of the person before it becomes a command."""
    return {Act.EDIT: Asks.TEXT, Act.REJECT: Asks.REASON, Act.RETRACT: Asks.WHY}.get(act, Asks.NOTHING)


def missing_answer(act: Act, answer: str) -> str | None:
    """Why a press of ``act`` with ``answer`` cannot go ahead (None when it can): what it asked was left empty."""
    return _LEFT_EMPTY.get(asks_first(act)) if not answer.strip() else None


_LEFT_EMPTY = {  # what a person is told when they leave empty what a press asked for
    Asks.TEXT: "A communiqué cannot be empty; nothing was changed.",
    Asks.REASON: "Say what must change; the communiqué was not sent back.",
    Asks.WHY: "Say why it is withdrawn; nothing was changed.",
}


def communique_actions(view: CommuniqueView) -> tuple[ActionView, ...]:
    """A communiqué's buttons while it is reviewed: Approve (unless approved), Edit, Send back (unless sent back).

    Once sending has begun: "Send a correction"; while a correction waits, Approve it, Edit it, or Drop it.
    """
    if view.closed:
        return ()
    if view.sent and view.correction_by is None:
        return (ActionView(Act.EDIT, "Send a correction", Style.PLAIN, view.version, view.group_id),)
    if view.sent:
        return (
            ActionView(Act.APPROVE, "Approve correction", Style.PRIMARY, view.version, view.group_id),
            ActionView(Act.EDIT, "Edit correction", Style.PLAIN, view.version, view.group_id),
            ActionView(Act.REJECT, "Drop correction", Style.DANGER, view.version, view.group_id),
        )
    found = []
    if view.review is not ReviewState.APPROVED:
        found.append(ActionView(Act.APPROVE, "Approve", Style.PRIMARY, view.version, view.group_id))
    found.append(ActionView(Act.EDIT, "Edit", Style.PLAIN, view.version, view.group_id))
    if view.review is not ReviewState.SENT_BACK:
        found.append(ActionView(Act.REJECT, "Send back", Style.DANGER, view.version, view.group_id))
    return tuple(found)


def release_actions(view: ReleaseView) -> tuple[ActionView, ...]:
    """The release's buttons for where it stands.

    Once sending has begun: Remind now and Retract…; while a retraction waits, Approve it or Drop it
    instead of Retract. A retracted release has none.
    """
    if view.state is ReleaseState.VALIDATING:
        found = (
            []
            if view.confirmed_by is not None
            else [ActionView(Act.CONFIRM, f"Confirm {view.version} is live", Style.PLAIN, view.version)]
        )
        return (*found, ActionView(Act.SEND, "Send", Style.PRIMARY, view.version))
    if view.state is ReleaseState.AWAITING_APPROVAL:
        return (ActionView(Act.FINAL, "Approve and send", Style.PRIMARY, view.version),)
    if view.state in (ReleaseState.SENDING, ReleaseState.SENT):
        remind = ActionView(Act.REMIND, "Remind now", Style.PLAIN, view.version)
        if view.retraction_waiting:
            return (
                remind,
                ActionView(Act.FINAL, "Approve retraction", Style.PRIMARY, view.version),
                ActionView(Act.DROP, "Drop retraction", Style.PLAIN, view.version),
            )
        return (remind, ActionView(Act.RETRACT, "Retract…", Style.DANGER, view.version))
    return ()


def command_for(act: Act, *, actor: str, version: str, group_id: str | None = None, text: str = "") -> Command:
    """The command a press of ``act`` stands for; ``text`` is what it asked for (new text, or reason).

    The final approval approves whatever waits for it (the send, or a retraction): the desk tells which.

    Raises:
        ValueError: a communiqué's act without its group.
    """
    if act in COMMUNIQUE_ACTS and not group_id:
        raise ValueError(f"{act.value} needs the communiqué's group")
    if act is Act.APPROVE:
        return ApproveCommunique(actor=actor, version=version, group_id=group_id or "")
    if act is Act.EDIT:
        return EditCommunique(actor=actor, version=version, group_id=group_id or "", text=text)
    if act is Act.REJECT:
        return SendBackCommunique(actor=actor, version=version, group_id=group_id or "", reason=text)
    if act is Act.CONFIRM:
        return ConfirmRelease(actor=actor, version=version)
    if act is Act.SEND:
        return RequestSend(actor=actor, version=version)
    if act is Act.FINAL:
        return ApproveRelease(actor=actor, version=version)
    if act is Act.RETRACT:
        return RetractRelease(actor=actor, version=version, reason=text)
    if act is Act.DROP:
        return CancelRelease(actor=actor, version=version)  # while a retraction waits, cancel drops it
    return RemindNow(actor=actor, version=version)
