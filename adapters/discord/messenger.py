"""Communiqués, reminders and escalations posted to Discord; a copy in doubt found again by its button; a copy
corrected in place, and asked whether an edit in doubt landed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import discord

from adapters.discord import render, translate
from adapters.discord.errors import FAILURES, delivery_error
from adapters.discord.gateway import DiscordGateway
from bot.domain.errors import PermanentDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.ports import OutgoingMessage

_CLOCK_SKEW = 60.0  # seconds before a send started to begin looking for its copy
_HISTORY_LIMIT = 500  # messages read after that moment, at most, to find one copy
_HINT_BREAK = "\n\n-# "  # what separates a copy's text from the small-text line under it (receipt, count)


class DiscordMessenger:
    """Posts communiqués, reminders and escalations, each with its Acknowledge button; edits a copy to correct it."""

    def __init__(self, gateway: DiscordGateway) -> None:
        self._gateway = gateway

    async def send(self, message: OutgoingMessage) -> str:
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
        """The copy of ``message`` posted since ``since``, found by its Acknowledge button's mark.

        Raises:
            RateLimited, RetryableDeliveryError: Discord could not answer now; ask again later.
            PermanentDeliveryError: the copy carries no mark (nothing is acknowledged) or the
                history cannot be read (Read Message History is not granted).
        """
        if message.ack is AckPolicy.NONE:
            raise PermanentDeliveryError("a copy with no Acknowledge button carries no mark; Discord's nonce covers it")
        gateway = self._gateway
        wanted = translate.ack_id(message.delivery_key)
        after = discord.Object(id=discord.utils.time_snowflake(since - timedelta(seconds=_CLOCK_SKEW)))
        try:
            channel = await gateway.channel_for(message.to)
            history = gateway.client.get_partial_messageable(channel).history(
                after=after, limit=_HISTORY_LIMIT, oldest_first=True
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
        to the engine, as for a send.

        Raises:
            RateLimited, RetryableDeliveryError: Discord may accept it later.
            PermanentDeliveryError: the copy is gone (deleted: nothing to correct), or may not be edited.
        """
        channel, posted = _place(ref)
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
