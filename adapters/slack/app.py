"""Slack's front door: Bolt listeners that acknowledge at once, then hand off to the desk.

Every listener answers Slack first (``ack()``; Slack allows three seconds) and hands the
work to a tracked background task, so the HTTP answer never waits on the desk. The
walkthrough lives in a thread under a parent message in the channel where
``/release announce`` was typed; each communiqué is a reply in that thread, redrawn
in place as it is approved or edited. Where each message is shown is stored with
the release, so a restart redraws the same messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View

from adapters.background import Background
from adapters.redraws import LiveMessages
from adapters.slack import blocks, translate
from adapters.slack.gateway import SlackGateway
from bot.domain.commands import (
    Acknowledge,
    AnnounceRelease,
    ApproveRelease,
    Command,
    RequestSend,
    parse_release_command,
)
from bot.domain.destinations import Kind
from bot.domain.errors import CommandError, HeraldError
from bot.domain.receipt import ReceiptSource
from bot.service.actions import Act, Asks, asks_first, command_for
from bot.service.desk import ReleaseDesk
from bot.service.views import HelpView, Notice, Reply, StatusView, Tone

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]
_TROUBLE = "Herald ran into a problem on its side; nothing was lost. Try again, or see the logs."
_REASON_LIMIT = 500  # a send-back reason is shown in a context block, which holds 3,000 characters
_REDRAW_EVERY = 5.0  # seconds: at most one chat.update of the parent message per release in that time


def _notices(reply: Reply) -> str:
    """What the desk said, with people named as the platform shows them, not by Herald's ids."""
    return translate.mention_people("\n".join(v.text for v in reply.views if isinstance(v, Notice)))


def _submitted(view: dict[str, Any], block: str, action: str) -> str:
    """The text typed into a modal's input ``block``/``action``."""
    values = view.get("state", {}).get("values", {})
    return str(values.get(block, {}).get(action, {}).get("value") or "")


def _opened_for(view: dict[str, Any]) -> tuple[str, str, str]:
    """The release, communiqué and channel a modal was opened for (its ``private_metadata``)."""
    version, group_id, channel = [*str(view.get("private_metadata", "")).split("|"), "", "", ""][:3]
    return version, group_id, channel


class SlackFrontDoor(LiveMessages):
    """The Bolt app and everything it draws in Slack."""

    def __init__(
        self,
        *,
        desk: ReleaseDesk,
        gateway: SlackGateway,
        signing_secret: str | None,
        redraw_every: float = _REDRAW_EVERY,
    ) -> None:
        super().__init__(redraw_every)
        self.desk = desk
        self.gateway = gateway
        self.signing_secret = signing_secret  # HTTP mode: every request is checked against it
        self._work = Background()
        # Socket Mode needs no signing secret: Slack's socket is already authenticated.
        # ``process_before_response``: Bolt answers as soon as a listener returns, and every
        # listener returns right after ``ack()`` (the work goes to ``self._work``). Without it
        # Bolt polls every 10 ms for the ack, which cost every click 10 ms and, under load,
        # most of the process's CPU.
        self.app = AsyncApp(
            client=gateway.client,
            signing_secret=signing_secret,
            request_verification_enabled=signing_secret is not None,
            process_before_response=True,
        )
        self._register()

    # -- wiring ----------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        # Bolt tries each listener's matchers in turn for every request: the receipts, which
        # come by the thousand, are matched first.
        app.action(translate.ACK)(self._on_ack_button)
        app.event("reaction_added")(self._on_reaction)
        app.event("reaction_removed")(self._on_reaction_removed)
        app.command("/release")(self._on_command)
        for act in Act:  # every walkthrough button that asks nothing first becomes its command at once
            if asks_first(act) is Asks.NOTHING:
                app.action(translate.action_id(act))(self._walkthrough_button(act))
        app.action(translate.EDIT)(self._on_edit)
        app.view(translate.EDIT_VIEW)(self._on_edit_submitted)
        app.action(translate.REJECT)(self._on_send_back)
        app.view(translate.SEND_BACK_VIEW)(self._on_send_back_submitted)

    async def flush(self, within: float | None = None) -> None:
        """Finish the work handed off by listeners, then the redraws it asked for."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self._work.drain(within)
        await super().flush(None if within is None else max(0.0, within - (loop.time() - started)))

    # -- the slash command -----------------------------------------------------------

    async def _on_command(self, ack: Callable[..., Awaitable[None]], command: dict[str, Any]) -> None:
        await ack()
        respond = partial(self.gateway.respond, str(command.get("response_url", "")))
        self._work.start(self._answered(self._run_command(command, respond), respond), "a /release command")

    async def _answered(self, work: Awaitable[None], respond: Respond) -> None:
        """Run a command's work; if it fails, tell the person in one sentence, then let it be logged."""
        try:
            await work
        except Exception:
            with contextlib.suppress(Exception):
                await respond(text=f":x: {_TROUBLE}", response_type="ephemeral")
            raise

    async def _run_command(self, command: dict[str, Any], respond: Respond) -> None:
        actor = translate.person(str(command.get("user_id", "")))
        channel = str(command.get("channel_id", ""))
        try:
            parsed = parse_release_command(str(command.get("text", "")), actor)
        except CommandError as error:
            await respond(text=f":x: {error}", response_type="ephemeral")
            return
        reply = await self.desk.handle(parsed)
        if reply.failed:
            await respond(text=f":x: {_notices(reply)}", response_type="ephemeral")
            return
        if isinstance(parsed, AnnounceRelease):
            await self.show_thread(parsed.version, channel, respond)
            return
        status = next((v for v in reply.views if isinstance(v, StatusView)), None)
        if status is not None:
            await respond(
                text=f"{status.product} {status.version}",
                blocks=blocks.as_dicts(blocks.status_blocks(status)),
                response_type="ephemeral",
            )
            return
        help_view = next((v for v in reply.views if isinstance(v, HelpView)), None)
        if help_view is not None:
            await respond(text="\n".join(f"`{line}`" for line in help_view.lines), response_type="ephemeral")
            return
        await respond(text=_notices(reply), response_type="ephemeral")
        version = getattr(parsed, "version", None)
        if version:
            await self.redraw(version)

    # -- the walkthrough thread ------------------------------------------------------

    async def show_thread(self, version: str, channel: str, respond: Respond) -> None:
        """Post the release's parent message and one reply per communiqué (once; later, redraw)."""
        found = await self.desk.walkthrough(version)
        if found is None:
            return
        release, view = found
        if release.thread is not None:
            place = translate.parse_message_ref(release.thread)
            where = f" in <#{place[0]}>" if place else f" in {release.thread.split(':', 1)[0].title()}"
            await respond(
                text=f"Release {version} is already being announced{where}; it is up to date there.",
                response_type="ephemeral",
            )
            await self.redraw(version)
            return
        parent = await self.gateway.post(
            channel, text=f"{view.product} {view.version}", blocks=blocks.as_dicts(blocks.release_blocks(view))
        )
        parent_ts = str(parent["ts"])
        refs: dict[str, str] = {}
        for communique in view.communiques:
            posted = await self.gateway.post(
                channel,
                thread_ts=parent_ts,
                text=f"{communique.group_name}: communiqué for {view.version}",
                blocks=blocks.as_dicts(blocks.communique_blocks(communique)),
                unfurl_links=False,
            )
            refs[communique.group_id] = translate.message_ref(channel, str(posted["ts"]))
        await self.desk.place_thread(version, translate.message_ref(channel, parent_ts), refs)

    async def redraw(self, version: str, groups: tuple[str, ...] | None = None) -> None:
        """Update the parent message (and the communiqués named, or all) to the current state."""
        found = await self.desk.walkthrough(version)
        if found is None or found[0].thread is None:
            return
        release, view = found
        status = await self.desk.status(version, names=False)  # the parent shows counts, not names
        parent = translate.parse_message_ref(release.thread or "")
        if parent is not None:
            await self._update(parent, f"{view.product} {view.version}", blocks.release_blocks(view, status))
        for communique in view.communiques:
            if groups is not None and communique.group_id not in groups:
                continue
            ref = release.communiques[communique.group_id].message_ref
            place = translate.parse_message_ref(ref or "")
            if place is not None:
                await self._update(place, communique.group_name, blocks.communique_blocks(communique))

    async def _update(self, place: tuple[str, str], text: str, content: list[Any]) -> None:
        try:
            await self.gateway.call(
                "chat.update", channel=place[0], ts=place[1], text=text, blocks=blocks.as_dicts(content)
            )
        except HeraldError as error:
            log.warning("could not redraw a walkthrough message: %s", error)

    async def redraw_copy(self, ref: str) -> None:
        """A channel copy of a communiqué, redrawn with its own count of acknowledgements."""
        found = await self.desk.delivered_copy(ref)
        place = translate.parse_message_ref(ref)
        if found is None or place is None:
            return
        message, tally = found
        shown = blocks.recipient_text(message.text, message.allow_mentions)
        content = blocks.delivered_blocks(message, shown, self.gateway.ack_emoji, tally)
        await self._update(place, shown[:3000], content)

    # -- buttons and the edit modal --------------------------------------------------

    def _walkthrough_button(self, act: Act) -> Callable[..., Awaitable[None]]:
        async def handler(ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            self._work.start(work(body, action), f"a {action.get('action_id')} click")

        async def work(body: dict[str, Any], action: dict[str, Any]) -> None:
            actor = translate.person(str(body["user"]["id"]))
            subject = translate.parse_subject(str(action.get("value", "")))
            try:
                command = command_for(act, actor=actor, version=subject.version, group_id=subject.group_id)
            except ValueError:  # a button whose value lost its group: nothing to do
                return
            reply = await self.desk.handle(command)
            channel = str((body.get("channel") or {}).get("id", ""))
            if reply.failed:
                await self._tell(channel, actor, f":x: {_notices(reply)}")
            elif isinstance(command, (ApproveRelease, RequestSend)) or any(
                isinstance(v, Notice) and v.tone is Tone.SUCCESS and "Sending" in v.text for v in reply.views
            ):
                await self._tell(channel, actor, _notices(reply))
            self.progress(subject.version, (subject.group_id,) if subject.group_id else ())

        return handler

    async def _tell(self, channel: str, actor: str, text: str) -> None:
        if not channel or not actor.startswith("slack:"):
            return
        try:
            await self.gateway.call("chat.postEphemeral", channel=channel, user=actor.split(":", 1)[1], text=text)
        except Exception:  # telling someone is best effort; the audit log has it
            log.warning("could not post an ephemeral message", exc_info=True)

    async def _on_edit(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self._work.start(self._open_editor(body, action), "opening the edit modal")

    async def _open_editor(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        subject = translate.parse_subject(str(action.get("value", "")))
        found = await self.desk.walkthrough(subject.version)
        current = ""
        if found is not None and subject.group_id in found[0].communiques:
            current = found[0].communiques[subject.group_id or ""].text
        await self._open_modal(
            body,
            subject,
            callback_id=translate.EDIT_VIEW,
            title="Edit communiqué",
            submit="Save and re-check",
            field=(translate.EDIT_BLOCK, translate.EDIT_INPUT),
            initial=current[:3000],
        )

    async def _open_modal(
        self,
        body: dict[str, Any],
        subject: translate.Subject,
        *,
        callback_id: str,
        title: str,
        submit: str,
        field: tuple[str, str],
        initial: str = "",
        hint: str | None = None,
        limit: int = 3000,
    ) -> None:
        """A modal with one multi-line text field about one communiqué; its submit comes to ``callback_id``."""
        channel = str((body.get("channel") or {}).get("id", ""))
        view = View(
            type="modal",
            callback_id=callback_id,
            private_metadata=f"{subject.version}|{subject.group_id}|{channel}",
            title=PlainTextObject(text=title),
            submit=PlainTextObject(text=submit),
            close=PlainTextObject(text="Cancel"),
            blocks=[
                InputBlock(
                    block_id=field[0],
                    label=PlainTextObject(text=f"{subject.group_id} · {subject.version}"),
                    hint=PlainTextObject(text=hint) if hint else None,
                    element=PlainTextInputElement(
                        action_id=field[1], multiline=True, initial_value=initial or None, max_length=limit
                    ),
                )
            ],
        )
        # The trigger id lives three seconds: open the modal now, before anything slow.
        await self.gateway.call("views.open", trigger_id=str(body.get("trigger_id", "")), view=view.to_dict())

    async def _on_edit_submitted(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        text = _submitted(view, translate.EDIT_BLOCK, translate.EDIT_INPUT)
        if not text.strip():
            await ack(response_action="errors", errors={translate.EDIT_BLOCK: "A communiqué cannot be empty."})
            return
        await ack()
        version, group_id, channel = _opened_for(view)
        actor = translate.person(str(body["user"]["id"]))
        command = command_for(Act.EDIT, actor=actor, version=version, group_id=group_id, text=text)
        self._work.start(self._review(command, version, group_id, channel), "saving an edited communiqué")

    async def _on_send_back(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        subject = translate.parse_subject(str(action.get("value", "")))
        opening = self._open_modal(
            body,
            subject,
            callback_id=translate.SEND_BACK_VIEW,
            title="Send back",
            submit="Send back",
            field=(translate.SEND_BACK_BLOCK, translate.SEND_BACK_INPUT),
            hint="What must change? The announcer sees this next to the communiqué.",
            limit=_REASON_LIMIT,
        )
        self._work.start(opening, "opening the send-back modal")

    async def _on_send_back_submitted(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        reason = " ".join(_submitted(view, translate.SEND_BACK_BLOCK, translate.SEND_BACK_INPUT).split())
        if not reason:
            await ack(response_action="errors", errors={translate.SEND_BACK_BLOCK: "Say what must change."})
            return
        await ack()
        version, group_id, channel = _opened_for(view)
        actor = translate.person(str(body["user"]["id"]))
        command = command_for(Act.REJECT, actor=actor, version=version, group_id=group_id, text=reason)
        self._work.start(self._review(command, version, group_id, channel), "sending a communiqué back")

    async def _review(self, command: Command, version: str, group_id: str, channel: str) -> None:
        """A modal's edit or send-back, handed to the desk; a refusal is told privately where the modal was opened."""
        reply = await self.desk.handle(command)
        if reply.failed:
            await self._tell(channel, command.actor, f":x: {_notices(reply)}")
        self.progress(version, (group_id,))

    # -- receipts --------------------------------------------------------------------

    async def _on_ack_button(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        respond = partial(self.gateway.respond, str(body.get("response_url", "")))
        self._work.start(self._record_click(body, respond), "an Acknowledge click")

    async def _record_click(self, body: dict[str, Any], respond: Respond) -> None:
        actor = translate.person(str(body["user"]["id"]))
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
        ts = str(container.get("message_ts", ""))
        # Receipts pouring in are recorded many to a transaction (the desk's group commit):
        # however many arrive at once, they hold one database connection, not one each.
        reply = await self.desk.handle(
            Acknowledge(
                actor=actor,
                message_ref=translate.message_ref(channel, ts),
                source=ReceiptSource.BUTTON,
                with_tally=False,
            )
        )
        if not (reply.recorded is not None and await self._mark_acknowledged(body, channel, respond, _notices(reply))):
            await self._tell(channel, actor, _notices(reply))
        self._receipt_progress(reply, translate.message_ref(channel, ts))

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

    async def _on_reaction(self, event: dict[str, Any]) -> None:
        # Bolt answers an event once its listener returns: return at once, record after.
        self._work.start(self._record_reaction(event), "a reaction")

    async def _record_reaction(self, event: dict[str, Any]) -> None:
        reaction = str(event.get("reaction", "")).split("::", 1)[0]  # ignore skin tones
        item = event.get("item") or {}
        if reaction != self.gateway.ack_emoji or item.get("type") != "message":
            return
        ref = translate.message_ref(str(item.get("channel", "")), str(item.get("ts", "")))
        actor = translate.person(str(event.get("user", "")))
        reply = await self.desk.handle(
            Acknowledge(actor=actor, message_ref=ref, source=ReceiptSource.REACTION, with_tally=False)
        )
        self._receipt_progress(reply, ref)

    async def _on_reaction_removed(self, event: dict[str, Any]) -> None:
        # A receipt is proof the message was read; taking the emoji back does not unread it.
        log.debug("reaction removed by %s; the receipt stands", event.get("user"))

    def _receipt_progress(self, reply: Reply, ref: str) -> None:
        if reply.failed:
            return
        delivery = reply.subject  # the desk already looked it up: no second query per receipt
        if delivery is not None:
            self.progress(delivery.version, copies=(ref,) if delivery.kind is Kind.CHANNEL else ())
