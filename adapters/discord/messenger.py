"""Communiqués, reminders and escalations posted to Discord; a copy in doubt found again by its button; a copy
corrected in place, and asked whether an edit in doubt landed. A group's channel copy goes through the group's
own webhook where the plan names one (``adapters.discord.webhooks``); everything else goes as the bot.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import discord

from adapters.discord import render, translate
from adapters.discord.errors import FAILURES, delivery_error
from adapters.discord.gateway import DiscordGateway
from adapters.discord.webhooks import CLOCK_SKEW, HISTORY_LIMIT, GroupWebhooks
from bot.domain.errors import PermanentDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.ports import OutgoingMessage

log = logging.getLogger(__name__)

_HINT_BREAK = "\n\n-# "  # what separates a copy's text from the small-text line under it (receipt, count)


class DiscordMessenger:
    """Posts communiqués (a group's channel copy through its webhook, if it names one), reminders and escalations,
    each with its Acknowledge button where it may carry one; edits a copy to correct it."""

    def __init__(self, gateway: DiscordGateway) -> None:
        self._gateway = gateway
        self._hooks = GroupWebhooks(gateway)

    async def send(self, message: OutgoingMessage) -> str:
        hook = await self._hooks.hook_for(message)
        if hook is not None:
            return await self._hooks.post(hook, message)
        gateway = self._gateway
        channel = await gateway.channel_for(message.to)
        content, view = render.delivered(message, gateway.ack_emoji)
        extra: dict[str, Any] = {} if view is None else {"view": view}
        try:
            posted = await gateway.client.get_partial_messageable(channel).send(
                content,
                allowed_mentions=render.mentions(message.allow_mentions),
                nonce=translate.nonce(message.delivery_key),
                **extra,
            )
        except FAILURES as error:
            raise delivery_error(error) from None
        return translate.message_ref(channel, posted.id)

    async def find(self, message: OutgoingMessage, since: datetime) -> str | None:
        """The copy of ``message`` posted since ``since``, found by its Acknowledge button's mark, or (posted
        through the group's webhook) by that webhook and its text.

        Raises:
            RateLimited, RetryableDeliveryError: Discord could not answer now; ask again later.
            PermanentDeliveryError: the copy carries no mark (nothing is acknowledged) or the
                history cannot be read (Read Message History is not granted).
        """
        hook = await self._hooks.hook_for(message)
        if hook is not None:
            return await self._hooks.find(hook, message, since)
        if message.ack is AckPolicy.NONE:
            raise PermanentDeliveryError("a copy with no Acknowledge button carries no mark; Discord's nonce covers it")
        gateway = self._gateway
        wanted = translate.ack_id(message.delivery_key)
        after = discord.Object(id=discord.utils.time_snowflake(since - timedelta(seconds=CLOCK_SKEW)))
        try:
            channel = await gateway.channel_for(message.to)
            history = gateway.client.get_partial_messageable(channel).history(
                after=after, limit=HISTORY_LIMIT, oldest_first=True
            )
            me = gateway.client.user
            async for posted in history:
                if (me is None or posted.author.id == me.id) and _carries(posted, wanted):
                    return translate.message_ref(channel, posted.id)
        except FAILURES as error:
            raise delivery_error(error) from None
        return None

    async def edit(self, message: OutgoingMessage, ref: str) -> None:
        """Correct the copy ``ref`` in place: the corrected text, shown as corrected, its button marked anew.

        The button's mark becomes the correction's (``message.delivery_key``), which is how
        ``carries`` tells later that this edit landed. Nobody is pinged again. A 429 goes back
        to the engine, as for a send. A copy the group's webhook posted is edited through the
        webhook (the bot may not edit it); one it did not post, as the bot.

        Raises:
            RateLimited, RetryableDeliveryError: Discord may accept it later.
            PermanentDeliveryError: the copy is gone (deleted: nothing to correct), or may not be edited.
        """
        channel, posted = _place(ref)
        hook = await self._hooks.hook_for(message)
        if hook is not None and hook.channel == channel and await self._hooks.edit(hook, message, posted):
            return
        content, view = render.delivered(message, self._gateway.ack_emoji)
        copy = self._gateway.client.get_partial_messageable(channel).get_partial_message(posted)
        try:
            # view=None clears the components: a copy that asks for no receipt carries no button.
            await copy.edit(content=content, view=view, allowed_mentions=render.mentions(False))
        except discord.NotFound:
            raise PermanentDeliveryError("Discord: the copy was deleted; there is nothing to correct") from None
        except FAILURES as error:
            raise delivery_error(error) from None

    async def carries(self, message: OutgoingMessage, ref: str) -> bool:
        """Whether the copy ``ref`` already shows ``message``: an edit whose answer was lost landed.

        One GET of that message. It carries the correction when its button bears the correction's
        mark, or when its text is the corrected text as ``edit`` draws it: a copy that asks for no
        receipt has no button, and a later redraw (a count, a receipt in a DM) may have put back
        the copy's own mark or taken the button away, but keeps the corrected text.

        Raises:
            RateLimited, RetryableDeliveryError: Discord could not answer now; ask again later.
            PermanentDeliveryError: the copy cannot be read (deleted, or no access).
        """
        channel, posted = _place(ref)
        try:
            copy = await self._gateway.client.get_partial_messageable(channel).fetch_message(posted)
        except FAILURES as error:
            raise delivery_error(error) from None
        if _carries(copy, translate.ack_id(message.delivery_key)):
            return True
        content, _ = render.delivered(message, self._gateway.ack_emoji)
        return _same_text(copy.content, content, message.ack is AckPolicy.NONE)

    async def redraw_through_webhook(self, ref: str, message: OutgoingMessage, tally: str) -> bool:
        """Redraw a copy the group's webhook posted, with its count, through that webhook (the bot may not edit it).

        Returns:
            False when ``message`` does not go through a webhook, or the webhook did not post ``ref``:
            the bot redraws it then.
        """
        channel, posted = _place(ref)
        hook = await self._hooks.hook_for(message)
        return hook is not None and hook.channel == channel and await self._hooks.edit(hook, message, posted, tally)


def _place(ref: str) -> tuple[int, int]:
    place = translate.parse_message_ref(ref)
    if place is None:
        raise PermanentDeliveryError(f"not a Discord message: {ref!r}")
    return place


def _same_text(shown: str, drawn: str, whole: bool) -> bool:
    """Whether a copy showing ``shown`` carries the text that ``edit`` draws as ``drawn`` (Discord trims the ends).

    A copy with no receipt asked is ``drawn`` whole; otherwise the text above the last small-text
    line is compared, as a count or a recorded receipt redraws that line and keeps the text.
    """
    if not whole:
        shown, drawn = _above_hint(shown), _above_hint(drawn)
    return bool(drawn.strip()) and shown.strip() == drawn.strip()


def _above_hint(content: str) -> str:
    text, hint, _ = content.rpartition(_HINT_BREAK)
    return text if hint else ""


def _carries(posted: discord.Message, custom_id: str) -> bool:
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in posted.components
        for child in getattr(row, "children", ())
    )
