"""Slack's Web API behind Herald's ports: resolving destinations and sending messages.

Lookups Slack rate-limits hard (Tier 3: ``conversations.open``, ``users.lookupByEmail``)
go through the shared limiter and are cached for the life of the process; Slack's
errors become Herald's retryable or permanent delivery errors here, and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.retry_after import retry_after as parse_retry_after
from adapters.slack import blocks, translate
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.service.limits import Limits, Rate, RateLimiter
from bot.service.ports import OutgoingMessage, Resolution, Target

log = logging.getLogger(__name__)

# Slack's tiers, per method, per workspace (https://api.slack.com/docs/rate-limits): Tier 2
# 20+ a minute, Tier 3 50+, Tier 4 100+, with bursts Slack tolerates but does not size. Herald
# declares the floor of each and ten seconds' worth of burst (docs/slack-rate-limits.md).
TIER_2 = Rate.per_minute(20, burst=3)
TIER_3 = Rate.per_minute(50, burst=8)
TIER_4 = Rate.per_minute(100, burst=16)
_BURST_SECONDS = 10.0

# Every Web API method Herald calls, with its documented tier (docs/slack-rate-limits.md).
# chat.postMessage is "special": about one message a second per channel under a workspace
# ceiling; those are the ``per_target`` and ``ceiling`` budgets, not a method's.
METHOD_BUDGETS: dict[str, Rate] = {
    "auth.test": TIER_4,  # special: "hundreds of requests per minute"
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "conversations.history": TIER_3,  # only to look for a copy in doubt
    "conversations.list": TIER_2,
    "conversations.members": TIER_4,
    "conversations.open": TIER_3,  # only to find the DM of a copy in doubt
    "usergroups.users.list": TIER_2,
    "users.list": TIER_2,
    "users.lookupByEmail": TIER_3,
    "views.open": TIER_4,
}
POST_MESSAGE = "chat.postMessage"
# Each copy Herald posts carries its delivery key as message metadata (https://api.slack.com/metadata),
# so a copy whose fate is in doubt can be found in the conversation's history.
METADATA_EVENT = "herald_delivery"
_CLOCK_SKEW = 60.0  # seconds before a claim to start looking: Herald's clock and Slack's differ a little
_PATIENCE = 5  # how many Retry-Afters a call waits out before its 429 reaches the caller

# Errors that no retry will fix (https://api.slack.com/methods/chat.postMessage and friends).
PERMANENT = {
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "account_inactive",
    "user_not_found",
    "users_not_found",
    "user_disabled",
    "cannot_dm_bot",
    "no_such_subteam",
    "msg_too_long",
    "invalid_blocks",
    "restricted_action",
    "not_authed",
    "invalid_auth",
    "missing_scope",
    "channel_is_archived",
}


def slack_limits(team: str, per_minute: int) -> Limits:
    """Slack's budgets: ~1 message/s per channel, the workspace ceiling, and every other method's tier.

    A DM is posted to the person's user id, which Slack accepts as a channel, so reaching
    someone new costs no ``conversations.open`` (Tier 3) and DMs go at the ceiling.
    """
    return Limits(
        name=f"slack:{team}",
        per_target=Rate(1.0, burst=1.0),
        ceiling=Rate.per_minute(per_minute, burst=max(1.0, per_minute / 60 * _BURST_SECONDS)),
        methods=dict(METHOD_BUDGETS),
    )


def delivery_error(error: SlackApiError, method: str | None = None) -> Exception:
    """Slack's error as Herald's: permanent, rate limited, or worth another try."""
    response = error.response
    code = str(response.get("error", "unknown_error")) if response is not None else "unknown_error"
    status = getattr(response, "status_code", 0)
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        retry_after = parse_retry_after(headers.get("Retry-After", headers.get("retry-after")), default=1.0)
        return RateLimited(
            f"Slack rate limit ({code})",
            retry_after=retry_after,
            scope="method" if method else "ceiling",
            method=method,
        )
    if code in PERMANENT:
        return PermanentDeliveryError(f"Slack: {code}")
    return RetryableDeliveryError(f"Slack: {code}")


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
        self._bots: set[str] | None = None
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

    async def bots(self) -> set[str]:
        """Every bot and deactivated account in the workspace (one paginated users.list, cached)."""
        async with self._loading:
            if self._bots is None:
                self._bots = await self._list_bots()
        return self._bots

    async def _list_bots(self) -> set[str]:
        found: set[str] = set()
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            data = await self.call("users.list", **params)
            found |= {
                str(u.get("id"))
                for u in data.get("members", [])
                if u.get("is_bot") or u.get("deleted") or u.get("id") == "USLACKBOT"
            }
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

    async def history_channel(self, target: str) -> str:
        """The channel whose history holds the copies sent to ``target`` (a DM's D… channel for a person)."""
        channel = await self.conversation(target)
        return await self.dm_channel(channel) if channel.startswith(("U", "W")) else channel

    def remember_dm(self, user: str, channel: str) -> None:
        """The DM channel Slack answered a post to ``user`` with."""
        self._dms[user] = channel

    async def conversation(self, target: str) -> str:
        """The channel id to post to for a concrete target."""
        destination = target.split(":", 1)[1]
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


class SlackDirectory:
    """Resolves Slack destinations: channels to their members, user groups and e-mail addresses to users."""

    def __init__(self, gateway: SlackGateway) -> None:
        self._gateway = gateway

    async def resolve(self, destination: Destination) -> Resolution:
        try:
            return await self._resolve(destination)
        except (PermanentDeliveryError, RetryableDeliveryError) as error:
            return Resolution.failed(destination, error)

    async def _resolve(self, destination: Destination) -> Resolution:
        gateway = self._gateway
        if destination.kind is Kind.CHANNEL:
            channel = destination.address
            if channel.startswith("#"):
                found = await gateway.channel_id(channel[1:])
                if found is None:
                    return Resolution(
                        destination, (), problem=f"no channel {channel} that Herald can see (invite the app)"
                    )
                channel = found
            members = tuple(translate.person(m) for m in await gateway.members(channel))
            return Resolution(destination, (Target(f"slack:{channel}", Kind.CHANNEL, members),))
        if destination.kind is Kind.GROUP:
            data = await gateway.call("usergroups.users.list", usergroup=destination.address)
            users = [str(u) for u in data.get("users", [])]
            if not users:
                return Resolution(destination, (), problem="the user group has no members")
            return Resolution(destination, tuple(Target(f"slack:@{u}", Kind.DM, (translate.person(u),)) for u in users))
        if destination.address.startswith("email:"):
            user = await gateway.user_by_email(destination.address[len("email:") :])
            return Resolution(destination, (Target(f"slack:@{user}", Kind.DM, (translate.person(user),)),))
        return Resolution(destination, (Target(str(destination), Kind.DM, (translate.person(destination.address),)),))


class SlackMessenger:
    """Posts communiqués, reminders and escalations, each marked with its delivery key, and finds them again."""

    def __init__(self, gateway: SlackGateway, *, reconcile: bool = True) -> None:
        self._gateway = gateway
        self._reconcile = reconcile

    async def find(self, message: OutgoingMessage, since: datetime) -> str | None:
        """The copy of ``message`` posted since ``since``, found by its metadata in the conversation's history.

        Raises:
            RateLimited: Slack kept answering 429; ask again later.
            PermanentDeliveryError: the history cannot be read (the scopes, a channel Herald left, or
                ``HERALD_SLACK_RECONCILE=off``).
        """
        if not self._reconcile:
            raise PermanentDeliveryError("HERALD_SLACK_RECONCILE is off")
        gateway = self._gateway
        channel = await gateway.history_channel(message.target)
        params: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{since.timestamp() - _CLOCK_SKEW:.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        while True:
            data = await gateway.call("conversations.history", **params)
            for posted in data.get("messages", []):
                metadata = posted.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == message.delivery_key:
                    return translate.message_ref(channel, str(posted["ts"]))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
            params["cursor"] = cursor

    async def send(self, message: OutgoingMessage) -> str:
        gateway = self._gateway
        channel = await gateway.conversation(message.target)
        text = blocks.recipient_text(message.text, message.allow_mentions)
        payload = blocks.as_dicts(blocks.delivered_blocks(message, text, gateway.ack_emoji))
        try:
            response = await gateway.once().chat_postMessage(
                channel=channel,
                text=text[:3000],
                blocks=payload,
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": METADATA_EVENT,
                    "event_payload": {
                        "key": message.delivery_key,
                        "release": message.version,
                        "group": message.group_id,
                    },
                },
            )
        except SlackApiError as error:
            raise delivery_error(error) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            # The message may or may not have arrived (chat.postMessage takes no idempotency
            # key): the delivery is in doubt, and is looked for before it is sent again.
            raise RetryableDeliveryError(f"Slack did not answer: {type(error).__name__}", uncertain=True) from None
        channel_id = str(response["channel"])
        if channel_id.startswith("D") and not channel.startswith("D"):
            gateway.remember_dm(channel, channel_id)
        return translate.message_ref(channel_id, str(response["ts"]))
