"""Herald's views as Block Kit, built with ``slack_sdk.models.blocks``. Pure: no calls."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from adapters.slack import mrkdwn, translate
from bot.domain.checks import CheckResult, Severity
from bot.domain.communique import ReviewState
from bot.domain.people import display_name
from bot.domain.plan import AckPolicy
from bot.domain.release import ReleaseState
from bot.service.actions import ActionView, Style, communique_actions, release_actions
from bot.service.ports import OutgoingMessage
from bot.service.views import CommuniqueView, GroupStatus, ReleaseView, StatusView

_SECTION_LIMIT = 3000


def _md(text: str) -> MarkdownTextObject:
    # verbatim: Slack links nothing on its own (no "@here", #channel or URL turned live); what is
    # live is what mrkdwn.render wrote as <…>.
    return MarkdownTextObject(text=text[:_SECTION_LIMIT], verbatim=True)


def _who(person: str | None) -> str:
    if person is None:
        return "?"
    return f"<@{person.split(':', 1)[1]}>" if person.startswith("slack:") else translate.escape(display_name(person))


def _check_line(result: CheckResult) -> str:
    mark = ":white_check_mark:" if result.ok else (":x:" if result.severity is Severity.BLOCKING else ":warning:")
    return f"{mark} *{result.code}*: {translate.escape(result.message)}"


def recipient_text(text: str, allow_mentions: bool) -> str:
    """The communiqué as recipients see it in Slack: its Markdown as mrkdwn, escaped unless mentions are allowed."""
    return mrkdwn.render(text, mentions=allow_mentions)


def as_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    """Blocks as the JSON Slack's API takes."""
    return [block.to_dict() for block in blocks]


def communique_blocks(view: CommuniqueView) -> list[Block]:
    """One communiqué in the walkthrough: the exact text, its checks, and the buttons."""
    state = view.review.value.replace("_", " ")
    if view.reviewed_by and view.review is not ReviewState.PENDING:
        state += f" by {_who(view.reviewed_by)}"
    destinations = ", ".join(f"`{translate.escape(d)}`" for d in view.destinations)
    blocks: list[Block] = [
        SectionBlock(
            text=_md(f"*{translate.escape(view.group_name)}* · revision {view.revision} · {state}\nto {destinations}")
        ),
        SectionBlock(text=_md(recipient_text(view.text, view.allow_mentions) or "_(empty)_")),
        SectionBlock(text=_md("\n".join(_check_line(c) for c in view.checks))),
        ContextBlock(elements=[_md(f"receipt: {translate.escape(view.receipt)}")]),
    ]
    if view.note:
        blocks.append(ContextBlock(elements=[_md(f"note: {translate.escape(view.note)}")]))
    buttons = [_button(action) for action in communique_actions(view)]
    blocks.append(ActionsBlock(block_id=f"herald:{view.group_id}"[:255], elements=buttons))
    return blocks


def _button(action: ActionView) -> ButtonElement:
    """One of the walkthrough's buttons (``bot.service.actions``) as Block Kit draws it."""
    style = {Style.PRIMARY: "primary", Style.DANGER: "danger"}.get(action.style)
    return ButtonElement(
        text=action.label,
        action_id=translate.action_id(action.act),
        value=translate.subject_value(action.version, action.group_id),
        style=style,
    )


def release_blocks(view: ReleaseView, status: StatusView | None = None) -> list[Block]:
    """The release's parent message: where it stands, its checks, what to do next, and the live table."""
    blocks: list[Block] = [
        HeaderBlock(text=f"{view.product} {view.version}"[:150]),
        SectionBlock(
            text=_md(
                f"*{view.state.value.replace('_', ' ')}* · announced by {_who(view.announced_by)}"
                + (f" · approved by {_who(view.approved_by)}" if view.approved_by else "")
            )
        ),
    ]
    if view.retraction is not None:
        blocks.append(SectionBlock(block_id="herald:retraction", text=_md(_retraction_line(view))))
    blocks += [
        SectionBlock(text=_md("\n".join(_check_line(c) for c in view.checks))),
        ContextBlock(elements=[_md(translate.escape(view.next_step))]),
    ]
    if view.summary and view.state in (ReleaseState.VALIDATING, ReleaseState.AWAITING_APPROVAL):
        estimate = f"\nabout {view.estimate_seconds:.0f}s at Slack's pace" if view.estimate_seconds else ""
        lines = "\n".join(f"• {translate.escape(line)}" for line in view.summary)
        blocks.append(SectionBlock(text=_md(f"*A send will go to:*\n{lines}{estimate}")))
    buttons = [_button(action) for action in release_actions(view)]
    if buttons:
        blocks.append(ActionsBlock(block_id="herald:release", elements=buttons))
    if status is not None and view.state in _COUNTED:
        blocks += [DividerBlock(), *status_blocks(replace(status, retraction=None))]  # said above, once
    return blocks


_COUNTED = (ReleaseState.SENDING, ReleaseState.SENT, ReleaseState.RETRACTED)  # states whose message shows the counts


def _retraction_line(view: ReleaseView) -> str:
    """The release's retraction on one line: waiting for an approver, or in effect."""
    reason = translate.escape(view.retraction or "")
    if view.retraction_waiting:
        return f":warning: Retraction proposed: {reason.rstrip('.')}. An approver approves it or drops it."
    return f":no_entry: Retracted: {reason}"


def _group_line(group: GroupStatus) -> str:
    return f"*{translate.escape(group.name)}*: {group.figures()}"


def status_blocks(view: StatusView) -> list[Block]:
    """Per group: sent, failed, pending, acknowledged of expected; who has not; failures."""
    lines = [_group_line(g) for g in view.groups]
    blocks: list[Block] = [SectionBlock(text=_md("\n".join(lines)))]
    details = view.details(who=_who, escape=translate.escape, verbatim=translate.escape, failed=":x:")
    if details:
        blocks.append(ContextBlock(elements=[_md("\n".join(details))]))
    return blocks


_RECEIPT = "herald:receipt"
_RECEIPT_HINT = "herald:receipt-hint"
_WAY_OUT = "herald:way-out"  # a subscriber's Unsubscribe button


def acknowledged_copy(shown: list[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """A delivered copy's blocks (as Slack sent them back) once its reader has acknowledged:
    the request to acknowledge and the button give way to ``note``."""
    kept = [block for block in shown if block.get("block_id") not in (_RECEIPT, _RECEIPT_HINT) and not _asks(block)]
    return [*kept, ContextBlock(elements=[_md(f":white_check_mark: {note}")]).to_dict()]


def _asks(block: dict[str, Any]) -> bool:
    """A copy sent before its blocks had ids: its request to acknowledge, or its button."""
    if block.get("type") == "actions":
        return any(element.get("action_id") == translate.ACK for element in block.get("elements", []))
    if block.get("type") != "context":
        return False
    return any(str(element.get("text", "")).startswith("Please acknowledge") for element in block.get("elements", []))


def delivered_blocks(message: OutgoingMessage, text: str, ack_emoji: str, tally: str | None = None) -> list[Block]:
    """A communiqué as recipients get it: the text (marked when a correction made it), and how to acknowledge it."""
    blocks: list[Block] = [SectionBlock(text=_md(text))]
    if message.correction is not None:
        blocks.append(ContextBlock(elements=[_md(f":pencil2: Corrected: revision {message.correction}")]))
    if message.ack is not AckPolicy.NONE:
        hint = f"Please acknowledge: press the button or react with :{ack_emoji}:"
        if tally:
            hint += f" · {tally}"
        blocks.append(ContextBlock(block_id=_RECEIPT_HINT, elements=[_md(hint)]))
        blocks.append(
            ActionsBlock(
                block_id=_RECEIPT,
                elements=[
                    ButtonElement(text="Acknowledge", action_id=translate.ACK, value=message.delivery_key[:2000])
                ],
            )
        )
    if message.unsubscribe is not None:  # its own block: it stays when the receipt's block gives way to a note
        way_out = ButtonElement(text="Unsubscribe", action_id=translate.UNSUBSCRIBE, value=message.unsubscribe)
        blocks.append(ContextBlock(elements=[_md("You get this because you subscribed (/release subscriptions).")]))
        blocks.append(ActionsBlock(block_id=_WAY_OUT, elements=[way_out]))
    return blocks
