"""Communiqués, reminders and escalations posted to Discord, and a copy in doubt found again by its button."""

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


class DiscordMessenger:
    """Posts communiqués, reminders and escalations, each with its Acknowledge button."""

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


def _carries(posted: discord.Message, custom_id: str) -> bool:
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in posted.components
        for child in getattr(row, "children", ())
    )
