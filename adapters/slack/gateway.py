"""One Slack workspace's Web API: calls within Herald's budgets, on one shared session, and the lookups it caches.

Lookups Slack rate-limits hard (Tier 3: ``conversations.open``, ``users.lookupByEmail``)
go through the shared limiter and are cached for the life of the process; Slack's errors
become Herald's in ``errors``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.errors import delivery_error
from bot.domain.destinations import Target
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.service.limits import Limits, RateLimiter

log = logging.getLogger(__name__)

_PATIENCE = 5  # how many Retry-Afters a call waits out before its 429 reaches the caller


class SlackGateway:
    """One workspace: the Web API client, its budgets and the lookups it caches."""

    def __init__(self, client: AsyncWebClient, limiter: RateLimiter, limits: Limits, *, ack_emoji: str) -> None:
        self.client = client
        self.limiter = limiter
        self.limits = limits
        self.ack_emoji = ack_emoji
        self._channels: dict[str, str] = {}  # name -> id
        self._dms: dict[str, str] = {}  # user id -> DM channel id
        self._emails: dict[str, str] = {}  # address -> user id
        self.bot_user_id: str | None = None
        self._bots: dict[str, str] | None = None  # id -> "a bot" or "a deactivated account"
        self._loading = asyncio.Lock()  # the workspace-wide lists are fetched once, however many ask at once
        self._once: AsyncWebClient | None = None

    async def open(self) -> None:
        """Share one HTTP session, and its kept-alive connections, between every Web API call until ``close()``.

        Without it slack_sdk opens a session, and a new connection, per call.
        """
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))

    async def close(self) -> None:
        """Close the shared session; later calls open one each again."""
        session, self.client.session = self.client.session, None
        if session is not None:
            await session.close()

    async def respond(self, response_url: str, **message: Any) -> None:
        """Answer an interaction through its ``response_url``, on the shared session.

        Bolt's own ``respond`` opens a session, and a connection, for every answer.

        Raises:
            RetryableDeliveryError: Slack did not take the answer (the status and body say why).
        """
        webhook = AsyncWebhookClient(
            url=response_url,
            timeout=self.client.timeout,
            ssl=self.client.ssl,
            proxy=self.client.proxy,
            session=self.client.session,
        )
        answered = await webhook.send(**message)
        if answered.status_code != 200:
            raise RetryableDeliveryError(f"response_url answered {answered.status_code}: {answered.body[:200]}")

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a Web API method within its tier, translating Slack's errors.

        A 429 blocks the method's budget for its Retry-After and the call is made again
        once that has passed, up to ``_PATIENCE`` times; only then does ``RateLimited``
        reach the caller. A rate limit is never a failure of the thing asked for.
        """
        for waited in range(_PATIENCE + 1):
            try:
                return await self._call_once(method, params)
            except RateLimited:
                if waited == _PATIENCE:
                    raise
                log.info("Slack rate-limited %s; calling it again after its Retry-After", method)
        raise AssertionError("unreachable")

    async def _call_once(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        await self.limiter.acquire_method(self.limits, method)
        try:
            response = await self.client.api_call(method, json=params)
        except SlackApiError as error:
            translated = delivery_error(error, method if method in self.limits.methods else None)
            if isinstance(translated, RateLimited):
                await self.limiter.throttled(
                    self.limits, target=None, retry_after=translated.retry_after or 1.0, method=translated.method
                )
            raise translated from None
        self.limiter.method_succeeded(self.limits, method)
        return dict(response.data) if isinstance(response.data, dict) else {}

    def once(self) -> AsyncWebClient:
        """The client, without slack_sdk's own retries: for delivered copies, never to be repeated blind.

        slack_sdk retries a post whose connection dropped, though Slack may have taken it;
        Herald instead marks the delivery in doubt and looks for it before posting again.
        """
        client = self.client
        if self._once is None or self._once.session is not client.session:  # made again when open() or close()
            self._once = AsyncWebClient(
                token=client.token,
                base_url=client.base_url,
                timeout=client.timeout,
                ssl=client.ssl,
                proxy=client.proxy,
                session=client.session,
                headers=client.headers,
                retry_handlers=[],
            )
        return self._once

    async def post(self, channel: str, **params: Any) -> dict[str, Any]:
        """``chat.postMessage`` outside the engine (the walkthrough), within the channel's and workspace's budgets."""
        for waited in range(_PATIENCE + 1):
            await self.limiter.acquire_send(self.limits, f"slack:{channel}")
            try:
                response = await self.client.chat_postMessage(channel=channel, **params)
            except SlackApiError as error:
                translated = delivery_error(error)
                if not isinstance(translated, RateLimited) or waited == _PATIENCE:
                    raise translated from None
                await self.limiter.throttled(self.limits, target=None, retry_after=translated.retry_after or 1.0)
                continue
            self.limiter.succeeded(self.limits, f"slack:{channel}")
            return dict(response.data) if isinstance(response.data, dict) else {}
        raise AssertionError("unreachable")

    # -- lookups ---------------------------------------------------------------------

    async def me(self) -> str:
        """The bot's own user id."""
        async with self._loading:
            if self.bot_user_id is None:
                data = await self.call("auth.test")
                self.bot_user_id = str(data.get("user_id", ""))
        return self.bot_user_id

    async def channel_id(self, name: str) -> str | None:
        """The id of a channel named ``#name`` (public or private the bot is in)."""
        async with self._loading:
            if name not in self._channels:
                await self._list_channels()
        return self._channels.get(name)

    async def _list_channels(self) -> None:
        """Every public channel and private one the bot is in, by name (one paginated conversations.list)."""
        cursor = None
        while True:
            params: dict[str, Any] = {
                "limit": 1000,
                "types": "public_channel,private_channel",
                "exclude_archived": True,
            }
            if cursor:
                params["cursor"] = cursor
            data = await self.call("conversations.list", **params)
            for channel in data.get("channels", []):
                self._channels[str(channel.get("name"))] = str(channel.get("id"))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    async def bots(self) -> dict[str, str]:
        """Every bot and deactivated account in the workspace, each with what it is (one paginated users.list,
        cached)."""
        async with self._loading:
            if self._bots is None:
                self._bots = await self._list_bots()
        return self._bots

    async def _list_bots(self) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            data = await self.call("users.list", **params)
            for user in data.get("members", []):
                if user.get("deleted"):
                    found[str(user.get("id"))] = "a deactivated account"
                elif user.get("is_bot") or user.get("id") == "USLACKBOT":
                    found[str(user.get("id"))] = "a bot"
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    async def members(self, channel: str) -> list[str]:
        """The human members of a channel: bots (Herald included) and deactivated accounts left out."""
        me = await self.me()
        bots = await self.bots()
        people: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"channel": channel, "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            data = await self.call("conversations.members", **params)
            people += [str(m) for m in data.get("members", []) if m != me and m not in bots]
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return people

    async def user_by_email(self, address: str) -> str:
        """The user with that address."""
        if address not in self._emails:
            data = await self.call("users.lookupByEmail", email=address)
            self._emails[address] = str(data["user"]["id"])
        return self._emails[address]

    async def dm_channel(self, user: str) -> str:
        """The DM channel with a user: the one a post answered with, else ``conversations.open`` (Tier 3)."""
        if user not in self._dms:
            data = await self.call("conversations.open", users=user)
            self._dms[user] = str(data["channel"]["id"])
        return self._dms[user]

    async def history_channel(self, target: Target) -> str:
        """The channel whose history holds the copies sent to ``target`` (a DM's D… channel for a person)."""
        channel = await self.conversation(target)
        return await self.dm_channel(channel) if channel.startswith(("U", "W")) else channel

    def remember_dm(self, user: str, channel: str) -> None:
        """The DM channel Slack answered a post to ``user`` with."""
        self._dms[user] = channel

    async def conversation(self, target: Target) -> str:
        """The channel id to post to for a concrete target."""
        destination = target.id
        if destination.startswith("#"):
            channel = await self.channel_id(destination[1:])
            if channel is None:
                raise PermanentDeliveryError(f"Slack: no channel {destination} the app can see")
            return channel
        if destination.startswith("@"):
            return self._dms.get(destination[1:], destination[1:])  # a user id posts to the DM
        if destination.startswith("email:"):
            user = await self.user_by_email(destination[len("email:") :])
            return self._dms.get(user, user)
        return destination  # a channel id
