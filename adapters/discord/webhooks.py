"""A group's own Discord webhook: where it posts, posting and editing through it, and finding a post in doubt.

A group that names a webhook (``discord_webhook`` in the plan) has its channel copy posted
through it, so the post shows the group's name and avatar: Execute Webhook
(``POST /webhooks/{id}/{token}?wait=true``, which answers with the message) in the webhook's
own channel, corrected with ``PATCH /webhooks/{id}/{token}/messages/{message}``. Discord says
first, on ``GET /webhooks/{id}/{token}``, which channel that is and whether the webhook is
Herald's application's own: only then may its posts carry the Acknowledge button, otherwise
they ask for the reaction alone. These calls are made once each, on the bot's HTTP session,
to the configured API base (``DISCORD_API_URL``): an execute takes no nonce, so it is never
repeated blind; a post in doubt is looked for in the channel's history by its webhook and its
text. The webhook's URL holds its token: no error sentence or log line repeats it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import discord
from discord.http import Route

from adapters.discord import render, translate
from adapters.discord.errors import FAILURES, delivery_error
from adapters.discord.gateway import DiscordGateway
from bot.domain.delivery import Purpose
from bot.domain.destinations import Kind
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.service.ports import OutgoingMessage

log = logging.getLogger(__name__)

CLOCK_SKEW = 60.0  # seconds before a send started to begin looking for its copy
HISTORY_LIMIT = 500  # messages read after that moment, at most, to find one copy
_THROUGH_WEBHOOK = (Purpose.COMMUNIQUE, Purpose.CORRECTION)  # the group's own words; reminders are Herald's
_UNKNOWN_MESSAGE = 10008
_HOOK = "/webhooks/{webhook_id}/{webhook_token}"


@dataclass(frozen=True, slots=True)
class Hook:
    """A group's webhook as Discord describes it: where it posts, and whether its posts may carry a button."""

    id: int
    token: str = field(repr=False)
    channel: int
    buttons: bool  # created by Herald's own application: the only webhooks whose posts carry interactive buttons


class GroupWebhooks:
    """The groups' webhooks, asked about and called once per request on the bot's HTTP session."""

    def __init__(self, gateway: DiscordGateway) -> None:
        self._gateway = gateway

    async def hook_for(self, message: OutgoingMessage) -> Hook | None:
        """The group's webhook when ``message`` goes through it: the group's own words to the webhook's channel.

        Raises:
            PermanentDeliveryError: the webhook is gone, or its URL no longer valid.
            RateLimited, RetryableDeliveryError: Discord could not say now.
        """
        sender = message.sender
        url = sender.discord_webhook if sender is not None else None
        if url is None or message.kind is not Kind.CHANNEL or message.purpose not in _THROUGH_WEBHOOK:
            return None
        named = translate.webhook(url)
        if named is None:  # the plan's loader lets no such URL through
            raise PermanentDeliveryError("Discord: the group's discord_webhook is not a webhook's URL")
        try:
            found = await self._call("GET", named.id, named.token)
        except discord.NotFound:
            raise PermanentDeliveryError(
                f"Discord: the group's webhook {named.id} no longer exists; name a new one in the plan"
            ) from None
        except FAILURES as error:
            raise delivery_error(error) from None
        owner = found.get("application_id")
        mine = owner is not None and int(owner) == self._gateway.client.application_id
        hook = Hook(named.id, named.token, int(found["channel_id"]), buttons=mine)
        channel = await self._gateway.channel_for(message.to)
        if hook.channel != channel:
            log.warning(
                "the webhook %s of group %s posts in channel %s, not %s: the copy there goes as the bot",
                hook.id,
                message.group_id,
                hook.channel,
                channel,
            )
            return None
        return hook

    async def post(self, hook: Hook, message: OutgoingMessage) -> str:
        """Execute the webhook once, waiting for the message it posts; that message's reference."""
        content, view = render.delivered(message, self._gateway.ack_emoji, button=hook.buttons)
        body = _as_the_group(_webhook_body(content, view, allow_mentions=message.allow_mentions), message)
        try:
            posted = await self._call("POST", hook.id, hook.token, body=body, params={"wait": "true"})
        except FAILURES as error:
            raise _in_doubt(delivery_error(error)) from None
        return translate.message_ref(posted["channel_id"], posted["id"])

    async def find(self, hook: Hook, message: OutgoingMessage, since: datetime) -> str | None:
        """The webhook's post of ``message`` since ``since``: posted by that webhook, with the text ``send`` drew.

        A webhook's post carries no nonce and, from most webhooks, no button: its webhook and its
        text are what tell it. Nothing redraws a copy before its sending is recorded, so the text
        is still the one sent.
        """
        wanted, _ = render.delivered(message, self._gateway.ack_emoji, button=hook.buttons)
        after = discord.Object(id=discord.utils.time_snowflake(since - timedelta(seconds=CLOCK_SKEW)))
        channel = self._gateway.client.get_partial_messageable(hook.channel)
        try:
            async for posted in channel.history(after=after, limit=HISTORY_LIMIT, oldest_first=True):
                if posted.webhook_id == hook.id and posted.content.strip() == wanted.strip():
                    return translate.message_ref(hook.channel, posted.id)
        except FAILURES as error:
            raise delivery_error(error) from None
        return None

    async def edit(self, hook: Hook, message: OutgoingMessage, posted: int, tally: str | None = None) -> bool:
        """Edit the webhook's post ``posted`` (with its count, ``tally``); False when the webhook did not post it
        (the bot did, before the plan named the webhook), to be edited as the bot."""
        content, view = render.delivered(message, self._gateway.ack_emoji, tally, button=hook.buttons)
        body = _webhook_body(content, view, allow_mentions=False)  # nobody is pinged again
        try:
            await self._call("PATCH", hook.id, hook.token, f"/messages/{posted}", body=body)
        except discord.NotFound as error:
            if error.code == _UNKNOWN_MESSAGE:
                return False
            raise delivery_error(error) from None
        except FAILURES as error:
            raise delivery_error(error) from None
        return True

    async def _call(
        self,
        method: str,
        hook: int,
        token: str,
        path: str = "",
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        """One request to a webhook's route, made once, on the bot's HTTP session; the JSON answered.

        discord.py's own webhook calls would retry a 5xx, which for an execute could post twice.

        Raises:
            discord.HTTPException: Discord's refusal, as discord.py words it (``delivery_error`` reads it).
            aiohttp.ClientError, TimeoutError, OSError: no answer.
        """
        route = Route(method, _HOOK + path, webhook_id=hook, webhook_token=token)
        async with _session(self._gateway.client, hook, token).request(
            method, route.url, json=body, params=params
        ) as response:
            data = await _answer(response)
            if response.status >= 300:
                raise _refusal(response, data)
            return data


def _session(client: discord.Client, hook: int, token: str) -> aiohttp.ClientSession:
    """The bot's own HTTP session, as discord.py hands it to a webhook made with ``client=``."""
    return discord.Webhook.partial(hook, token, client=client).session


async def _answer(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    if response.content_type != "application/json" or not text:
        return text
    return json.loads(text)


def _refusal(response: aiohttp.ClientResponse, data: Any) -> discord.HTTPException:
    if response.status == 403:
        return discord.Forbidden(response, data)
    if response.status == 404:
        return discord.NotFound(response, data)
    if response.status >= 500:
        return discord.DiscordServerError(response, data)
    return discord.HTTPException(response, data)


def _in_doubt(failure: Exception) -> Exception:
    """A failed execute as the engine must take it: anything but a refusal may have posted the message."""
    if isinstance(failure, RetryableDeliveryError) and not isinstance(failure, RateLimited) and not failure.uncertain:
        return RetryableDeliveryError(str(failure), retry_after=failure.retry_after, uncertain=True)
    return failure


def _webhook_body(content: str, view: discord.ui.View | None, *, allow_mentions: bool) -> dict[str, Any]:
    """A webhook post's body, to execute or edit it: the text, the button if any (none clears it), who is pinged."""
    return {
        "content": content,
        "components": view.to_components() if view is not None else [],
        "allowed_mentions": render.mentions(allow_mentions).to_dict(),
    }


def _as_the_group(body: dict[str, Any], message: OutgoingMessage) -> dict[str, Any]:
    """``body`` posted under the group's name and avatar, where the plan gives them (else the webhook's own)."""
    sender = message.sender
    if sender is not None and sender.discord_username:
        body["username"] = sender.discord_username
    if sender is not None and sender.discord_avatar:
        body["avatar_url"] = sender.discord_avatar
    return body
