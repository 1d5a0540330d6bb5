"""Views as terminal text."""

from __future__ import annotations

from bot.domain.checks import CheckResult, Severity
from bot.domain.communique import ReviewState
from bot.domain.people import display_name
from bot.domain.release import ReleaseState
from bot.service.actions import ActionView, communique_actions, release_actions
from bot.service.views import CommuniqueView, HelpView, Notice, ReleaseView, StatusView, Tone, View

_TONE = {Tone.INFO: "·", Tone.SUCCESS: "✔", Tone.ERROR: "✖"}


def render(view: View) -> str:
    """One view as text, without a trailing newline."""
    if isinstance(view, Notice):
        return f"{_TONE[view.tone]} {view.text}"
    if isinstance(view, ReleaseView):
        return render_release(view)
    if isinstance(view, CommuniqueView):
        return render_communique(view)
    if isinstance(view, StatusView):
        return render_status(view)
    return render_help(view)


def _check(result: CheckResult) -> str:
    mark = "✓" if result.ok else ("✗" if result.severity is Severity.BLOCKING else "!")
    return f"    {mark} {result.code}: {result.message}"


def render_release(view: ReleaseView) -> str:
    """The walkthrough thread; with a focus, only the release checks and the changed communiqués."""
    state = view.state.value.replace("_", " ")
    lines = [
        f"━━ {view.product} {view.version} · {state} · announced by {display_name(view.announced_by)}",
        *([f"  {_retraction_line(view)}"] if view.retraction is not None else []),
        "  Release checks:",
        *(_check(c) for c in view.checks),
    ]
    for communique in view.communiques:
        if view.focus is not None and communique.group_id not in view.focus:
            continue
        lines.append("")
        lines.append(render_communique(communique))
    if view.summary and view.focus is None and view.state in (ReleaseState.VALIDATING, ReleaseState.AWAITING_APPROVAL):
        lines.append("")
        lines.append("  A send will go to:")
        lines += [f"    • {line}" for line in view.summary]
    lines.append("")
    lines.append(f"  Next: {view.next_step}")
    actions = release_actions(view)
    if actions:
        lines.append(f"  {_buttons(actions)}")
    return "\n".join(lines)


def _retraction_line(view: ReleaseView) -> str:
    """The release's retraction on one line: waiting for an approver, or in effect."""
    reason = view.retraction or ""
    if view.retraction_waiting:
        return f"⚠ Retraction proposed: {reason.rstrip('.')}. An approver approves it or drops it."
    return f"⛔ Retracted: {reason}"


def render_communique(view: CommuniqueView) -> str:
    state = view.review.value.replace("_", " ")
    if view.reviewed_by and view.review is not ReviewState.PENDING:
        state += f" by {display_name(view.reviewed_by)}"
    lines = [
        f"  ┌─ [{view.group_id}] {view.group_name} · revision {view.revision} · {state}",
        f"  │ to: {', '.join(view.destinations)}",
        f"  │ receipt: {view.receipt}",
        "  │",
        *(f"  │   {line}" for line in (view.text or "(empty)").splitlines()),
        "  │",
        *(_check(c).replace("    ", "  │ ", 1) for c in view.checks),
    ]
    if view.note:
        lines.append(f"  │ note: {view.note}")
    lines.append("  └─ " + _buttons(communique_actions(view)))
    return "\n".join(lines)


def _buttons(actions: tuple[ActionView, ...]) -> str:
    """The walkthrough's buttons (``bot.service.actions``), each as the command that does the same."""
    return "   ".join(f"[{action.label}] {action.typed}" for action in actions)


def render_status(view: StatusView) -> str:
    header = f"{'group':<20} {'targets':>7} {'sent':>5} {'failed':>6} {'pending':>7} {'acknowledged':>13}"
    lines = [f"{view.product} {view.version} · {view.state.value.replace('_', ' ')}"]
    if view.retraction:
        lines.append(view.retraction)
    if view.state in (ReleaseState.VALIDATING, ReleaseState.AWAITING_APPROVAL, ReleaseState.CANCELLED):
        lines.append(
            "Nothing has been sent: the release was cancelled."
            if view.state is ReleaseState.CANCELLED
            else "Nothing has been sent yet: the release is still being validated."
        )
    lines.append(header)
    for group in view.groups:
        acked = f"{group.acknowledged}/{group.expected}" if group.ack != "none" else "-"
        lines.append(
            f"{group.id:<20} {group.targets:>7} {group.sent:>5} {group.failed:>6} {group.pending:>7} {acked:>13}"
        )
        if group.late:
            lines.append(f"    acknowledged after the deadline: {group.late}")
        if group.outside and group.ack != "none":
            lines.append(f"    also acknowledged by {group.outside} outside the audience (not counted)")
        if group.not_acknowledged and group.ack != "none":
            lines.append(f"    not yet acknowledged: {', '.join(group.not_acknowledged)}")
        for target, error in group.failures:
            lines.append(f"    failed: {target}: {error}")
        for mailbox in group.mailboxes:
            read = " · read" if mailbox.read else ""
            lines.append(
                f"    {mailbox.target}: {_MAILBOX[mailbox.delivery]}{read}" + _acked(group.ack, mailbox.acknowledged)
            )
            if mailbox.auto_reply:
                lines.append(f"      auto-reply: {mailbox.auto_reply[:160]}")
        if group.reminders or group.escalated:
            chased = f"    reminders sent: {group.reminders}" + (", escalated" if group.escalated else "")
            lines.append(chased)
    if view.eta_seconds:
        lines.append(f"About {view.eta_seconds:.0f}s left at the current rate.")
    return "\n".join(lines)


_MAILBOX = {
    "pending": "not sent yet",
    "sent": "sent (no report from the recipient's server yet)",
    "confirmed": "delivered (confirmed by the recipient's server)",
    "bounced": "bounced (the recipient's server could not deliver it)",
    "failed": "failed",
}


def _acked(ack: str, acknowledged: bool) -> str:
    if ack == "none":
        return ""
    return " · acknowledged" if acknowledged else " · not acknowledged"


def render_help(view: HelpView) -> str:
    return "\n".join(view.lines)


def render_progress(view: StatusView) -> str:
    """One line: where sending stands, per group, with the time left."""
    parts = []
    for group in view.groups:
        part = f"{group.id} {group.sent}/{group.targets} sent"
        if group.failed:
            part += f", {group.failed} failed"
        if group.pending:
            part += f", {group.pending} pending"
        if group.reminders:
            part += f", {group.reminders} reminders"
        if group.escalated:
            part += ", escalated"
        parts.append(part)
    eta = f" · about {view.eta_seconds:.0f}s left" if view.eta_seconds else ""
    return f"  ⏳ {view.version} {view.state.value}: " + " · ".join(parts) + eta
