"""Slack's front door: Bolt listeners that acknowledge at once, then hand off to the shared flow.

Every listener answers Slack first (``ack()``; Slack allows three seconds) and hands the
work to the flow's tracked background tasks, so the HTTP answer never waits on the desk.
What a command or a press does, what is posted and what is redrawn is ``ChatFlow``'s, the
same on every platform; this module only reads Slack's payloads, opens Slack's modals and
answers in Slack's way. The walkthrough's messages are drawn by ``SlackSurface``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, NamedTuple

from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View

from adapters.slack import blocks, translate
from adapters.slack.gateway import SlackGateway
from adapters.slack.surface import SlackSurface
from bot.domain.receipt import ReceiptSource
from bot.service.actions import Act, Asks, asks_first, missing_answer
from bot.service.chat.flow import REDRAW_EVERY, ChatFlow
from bot.service.chat.surface import Outcome
from bot.service.desk import ReleaseDesk

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]
_TROUBLE = "Herald ran into a problem on its side; nothing was lost. Try again, or see the logs."
_REASON_LIMIT = 500  # a send-back or retraction reason is shown in a context block, which holds 3,000 characters


class _Modal(NamedTuple):
    """The modal that asks what a press needs first; its submit comes to ``callback_id``."""

    callback_id: str
    title: str
    submit: str
    block: str
    field: str
    limit: int
    hint: str | None = None


_MODALS = {
    Asks.TEXT: _Modal(
        translate.EDIT_VIEW, "Edit communiqué", "Save and re-check", translate.EDIT_BLOCK, translate.EDIT_INPUT, 3000
    ),
    Asks.REASON: _Modal(
        translate.SEND_BACK_VIEW,
        "Send back",
        "Send back",
        translate.SEND_BACK_BLOCK,
        translate.SEND_BACK_INPUT,
        _REASON_LIMIT,
        "What must change? The announcer sees this next to the communiqué.",
    ),
    Asks.WHY: _Modal(
        translate.RETRACT_VIEW,
        "Retract release",
        "Retract",
        translate.RETRACT_BLOCK,
        translate.RETRACT_INPUT,
        _REASON_LIMIT,
        "Why is it withdrawn? Every copy sent will say so.",
    ),
}
_ASKED_BY = {
    modal.callback_id: (asks, act) for asks, modal in _MODALS.items() for act in Act if asks_first(act) is asks
}


def _submitted(view: dict[str, Any], block: str, action: str) -> str:
    """The text typed into a modal's input ``block``/``action``."""
    values = view.get("state", {}).get("values", {})
    return str(values.get(block, {}).get(action, {}).get("value") or "")


def _opened_for(view: dict[str, Any]) -> tuple[str, str, str]:
    """The release, communiqué and channel a modal was opened for (its ``private_metadata``).

    The communiqué is empty for a modal opened from the release's message (Retract…).
    """
    version, group_id, channel = [*str(view.get("private_metadata", "")).split("|"), "", "", ""][:3]
    return version, group_id, channel


def _said(outcome: Outcome) -> str:
    return f":x: {outcome.text}" if outcome.failed else outcome.text


class SlackFrontDoor:
    """The Bolt app: Slack's payloads in, the flow's outcomes out."""

    def __init__(
        self,
        *,
        desk: ReleaseDesk,
        gateway: SlackGateway,
        signing_secret: str | None,
        redraw_every: float = REDRAW_EVERY,
    ) -> None:
        self.gateway = gateway
        self.flow = ChatFlow(desk, SlackSurface(gateway), redraw_every=redraw_every)
        self.signing_secret = signing_secret  # HTTP mode: every request is checked against it
        # Socket Mode needs no signing secret: Slack's socket is already authenticated.
        # ``process_before_response``: Bolt answers as soon as a listener returns, and every
        # listener returns right after ``ack()`` (the work goes to the flow's background). Without
        # it Bolt polls every 10 ms for the ack, which cost every click 10 ms and, under load,
        # most of the process's CPU.
        self.app = AsyncApp(
            client=gateway.client,
            signing_secret=signing_secret,
            request_verification_enabled=signing_secret is not None,
            process_before_response=True,
        )
        self._register()

    def _register(self) -> None:
        app = self.app
        # Bolt tries each listener's matchers in turn for every request: the receipts, which
        # come by the thousand, are matched first.
        app.action(translate.ACK)(self._on_ack_button)
        app.action(translate.UNSUBSCRIBE)(self._on_unsubscribe)
        app.event("reaction_added")(self._on_reaction)
        app.event("reaction_removed")(self._on_reaction_removed)
        app.command("/release")(self._on_command)
        for act in Act:  # a button that asks nothing is its command at once; the others open a modal first
            handler = self._button(act) if asks_first(act) is Asks.NOTHING else self._asking(act)
            app.action(translate.action_id(act))(handler)
        for callback_id in _ASKED_BY:
            app.view(callback_id)(self._on_modal_submitted)

    def progress(self, version: str) -> None:
        """Something about ``version`` changed (the engine settled a delivery): redraw soon."""
        self.flow.progress(version)

    async def flush(self, within: float | None = None) -> None:
        """Finish the work handed off by listeners, then the redraws it asked for."""
        await self.flow.flush(within)

    # -- the slash command -----------------------------------------------------------

    async def _on_command(self, ack: Callable[..., Awaitable[None]], command: dict[str, Any]) -> None:
        await ack()
        respond = partial(self.gateway.respond, str(command.get("response_url", "")))
        self.flow.work.start(self._answered(self._run_command(command, respond), respond), "a /release command")

    async def _answered(self, work: Awaitable[None], respond: Respond) -> None:
        """Run a command's work; if it fails, tell the person in one sentence, then let it be logged."""
        try:
            await work
        except Exception:
            with contextlib.suppress(Exception):
                await respond(text=f":x: {_TROUBLE}", response_type="ephemeral")
            raise

    async def _run_command(self, command: dict[str, Any], respond: Respond) -> None:
        outcome = await self.flow.command(
            translate.person(str(command.get("user_id", ""))),
            str(command.get("text", "")),
            str(command.get("channel_id", "")),
        )
        status, help_view = outcome.status, outcome.help
        if status is not None and not outcome.failed:
            await respond(
                text=f"{status.product} {status.version}",
                blocks=blocks.as_dicts(blocks.status_blocks(status)),
                response_type="ephemeral",
            )
        elif help_view is not None:
            await respond(text="\n".join(f"`{line}`" for line in help_view.lines), response_type="ephemeral")
        else:
            await respond(text=_said(outcome), response_type="ephemeral")

    # -- buttons and modals ----------------------------------------------------------

    def _button(self, act: Act) -> Callable[..., Awaitable[None]]:
        async def handler(ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            self.flow.work.start(pressed(body, action), f"a {action.get('action_id')} click")

        async def pressed(body: dict[str, Any], action: dict[str, Any]) -> None:
            actor = translate.person(str(body["user"]["id"]))
            subject = translate.parse_subject(str(action.get("value", "")))
            outcome = await self.flow.press(actor, act, subject.version, subject.group_id)
            if outcome.tell:
                await self._tell(str((body.get("channel") or {}).get("id", "")), actor, _said(outcome))

        return handler

    def _asking(self, act: Act) -> Callable[..., Awaitable[None]]:
        modal = _MODALS[asks_first(act)]

        async def handler(ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            self.flow.work.start(opening(body, action), f"opening the {act.value} modal")

        async def opening(body: dict[str, Any], action: dict[str, Any]) -> None:
            subject = translate.parse_subject(str(action.get("value", "")))
            editing = asks_first(act) is Asks.TEXT and subject.group_id
            current = await self.flow.current_text(subject.version, subject.group_id or "") if editing else ""
            channel = str((body.get("channel") or {}).get("id", ""))
            about = f"{subject.group_id} · {subject.version}" if subject.group_id else f"Release {subject.version}"
            view = View(
                type="modal",
                callback_id=modal.callback_id,
                private_metadata=f"{subject.version}|{subject.group_id or ''}|{channel}",
                title=PlainTextObject(text=modal.title),
                submit=PlainTextObject(text=modal.submit),
                close=PlainTextObject(text="Cancel"),
                blocks=[
                    InputBlock(
                        block_id=modal.block,
                        label=PlainTextObject(text=about),
                        hint=PlainTextObject(text=modal.hint) if modal.hint else None,
                        element=PlainTextInputElement(
                            action_id=modal.field,
                            multiline=True,
                            initial_value=current[: modal.limit] or None,
                            max_length=modal.limit,
                        ),
                    )
                ],
            )
            # The trigger id lives three seconds: open the modal now, before anything slow.
            await self.gateway.call("views.open", trigger_id=str(body.get("trigger_id", "")), view=view.to_dict())

        return handler

    async def _on_modal_submitted(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        asks, act = _ASKED_BY[str(view.get("callback_id", ""))]
        modal = _MODALS[asks]
        answer = _submitted(view, modal.block, modal.field)
        problem = missing_answer(act, answer)
        if problem is not None:  # said in the modal itself, which stays open
            await ack(response_action="errors", errors={modal.block: problem})
            return
        await ack()
        version, group_id, channel = _opened_for(view)
        actor = translate.person(str(body["user"]["id"]))
        work = self._answer_modal(actor, act, version, group_id or None, answer, channel)
        self.flow.work.start(work, f"a {act.value}")

    async def _answer_modal(
        self, actor: str, act: Act, version: str, group_id: str | None, answer: str, channel: str
    ) -> None:
        """A refusal is told privately in the channel where the modal was opened."""
        outcome = await self.flow.press(actor, act, version, group_id, answer)
        if outcome.failed:
            await self._tell(channel, actor, _said(outcome))

    async def _tell(self, channel: str, actor: str, text: str) -> None:
        if not channel or not actor.startswith("slack:") or not text:
            return
        try:
            await self.gateway.call("chat.postEphemeral", channel=channel, user=actor.split(":", 1)[1], text=text)
        except Exception:  # telling someone is best effort; the audit log has it
            log.warning("could not post an ephemeral message", exc_info=True)

    # -- receipts --------------------------------------------------------------------

    async def _on_ack_button(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        respond = partial(self.gateway.respond, str(body.get("response_url", "")))
        self.flow.work.start(self._record_click(body, respond), "an Acknowledge click")

    async def _record_click(self, body: dict[str, Any], respond: Respond) -> None:
        actor = translate.person(str(body["user"]["id"]))
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
        ref = translate.message_ref(channel, str(container.get("message_ts", "")))
        outcome = await self.flow.acknowledge(actor, ref, ReceiptSource.BUTTON)
        recorded = outcome.reply.recorded is not None
        if not (recorded and await self._mark_acknowledged(body, channel, respond, outcome.text)):
            await self._tell(channel, actor, outcome.text)

    async def _mark_acknowledged(self, body: dict[str, Any], channel: str, respond: Respond, note: str) -> bool:
        """In a DM the copy is the reader's own: it turns into their receipt, in place.

        Through the click's ``response_url``, which Slack does not count against
        ``chat.update``'s 50 a minute. A channel post is shared, so there the thanks stays
        private (False: tell the person instead).
        """
        shown = (body.get("message") or {}).get("blocks")
        if not channel.startswith("D") or not isinstance(shown, list):
            return False
        try:
            await respond(
                replace_original=True,
                text=str((body.get("message") or {}).get("text", ""))[:3000],
                blocks=blocks.acknowledged_copy(shown, note),
            )
        except Exception:  # the receipt is recorded; only the redraw failed
            log.warning("could not mark a DM as acknowledged", exc_info=True)
            return False
        return True

    async def _on_unsubscribe(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        self.flow.work.start(self._unsubscribe(body), "an Unsubscribe click")

    async def _unsubscribe(self, body: dict[str, Any]) -> None:
        """A subscriber's way out, pressed on a copy: they stop hearing of what brought it; told privately."""
        actor = translate.person(str(body["user"]["id"]))
        pressed = (body.get("actions") or [{}])[0]
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
        outcome = await self.flow.unsubscribe(actor, str(pressed.get("value") or "*"))
        await self._tell(channel, actor, outcome.text)

    async def _on_reaction(self, event: dict[str, Any]) -> None:
        # Bolt answers an event once its listener returns: return at once, record after.
        self.flow.work.start(self._record_reaction(event), "a reaction")

    async def _record_reaction(self, event: dict[str, Any]) -> None:
        reaction = str(event.get("reaction", "")).split("::", 1)[0]  # ignore skin tones
        item = event.get("item") or {}
        if reaction != self.gateway.ack_emoji or item.get("type") != "message":
            return
        ref = translate.message_ref(str(item.get("channel", "")), str(item.get("ts", "")))
        await self.flow.acknowledge(translate.person(str(event.get("user", ""))), ref, ReceiptSource.REACTION)

    async def _on_reaction_removed(self, event: dict[str, Any]) -> None:
        # A receipt is proof the message was read; taking the emoji back does not unread it.
        log.debug("reaction removed by %s; the receipt stands", event.get("user"))
