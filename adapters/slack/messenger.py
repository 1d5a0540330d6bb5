"""Communiqués, reminders and escalations posted to Slack, and a copy in doubt found again by its delivery key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from adapters.slack import blocks, translate
from adapters.slack.errors import delivery_error
from adapters.slack.gateway import SlackGateway
from bot.domain.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.service.ports import OutgoingMessage

# Each copy Herald posts carries its delivery key as message metadata (https://api.slack.com/metadata),
# so a copy whose fate is in doubt can be found in the conversation's history.
METADATA_EVENT = "herald_delivery"
_CLOCK_SKEW = 60.0  # seconds before a claim to start looking: Herald's clock and Slack's differ a little


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
        channel = await gateway.history_channel(message.to)
        params: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{since.timestamp() - _CLOCK_SKEW:.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        while True:
            data = await gateway.call("conversations.history", **params)
            for posted in data.get("messages", []):
                if _marked(posted, message.delivery_key):
                    return translate.message_ref(channel, str(posted["ts"]))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
            params["cursor"] = cursor

    async def edit(self, message: OutgoingMessage, ref: str) -> None:
        """chat.update of the copy ``ref``: the corrected text, marked with the correction's delivery key.

        Raises:
            PermanentDeliveryError: the copy is gone (deleted, or the channel archived).
            RateLimited: Slack kept answering 429 past the gateway's patience.
        """
        place = translate.parse_message_ref(ref)
        if place is None:
            raise PermanentDeliveryError(f"{ref!r} is not a Slack message")
        text = blocks.recipient_text(message.text, message.allow_mentions)
        payload = blocks.as_dicts(blocks.delivered_blocks(message, text, self._gateway.ack_emoji))
        # Within chat.update's own tier (Tier 3), 429s waited out: an edit made twice changes nothing more,
        # so unlike a post it may be repeated when Slack did not answer.
        await self._gateway.call(
            "chat.update",
            channel=place[0],
            ts=place[1],
            text=text[:3000],
            blocks=payload,
            # The correction's mark replaces the communiqué's: an edit in doubt is found by it. (Metadata given
            # replaces the message's; left out, it is kept: https://docs.slack.dev/reference/methods/chat.update.)
            metadata=_metadata(message),
        )

    async def carries(self, message: OutgoingMessage, ref: str) -> bool:
        """Whether the copy ``ref`` carries the correction's mark: the one message read from the history.

        Raises:
            PermanentDeliveryError: the history cannot be read (scopes, ``HERALD_SLACK_RECONCILE=off``).
        """
        if not self._reconcile:
            raise PermanentDeliveryError("HERALD_SLACK_RECONCILE is off")
        place = translate.parse_message_ref(ref)
        if place is None:
            return False
        channel, ts = place
        data = await self._gateway.call(
            "conversations.history",
            channel=channel,
            latest=ts,
            oldest=ts,
            inclusive=True,
            limit=1,
            include_all_metadata=True,
        )
        return any(
            _marked(posted, message.delivery_key) for posted in data.get("messages", []) if posted.get("ts") == ts
        )

    async def send(self, message: OutgoingMessage) -> str:
        gateway = self._gateway
        channel = await gateway.conversation(message.to)
        text = blocks.recipient_text(message.text, message.allow_mentions)
        payload = blocks.as_dicts(blocks.delivered_blocks(message, text, gateway.ack_emoji))
        sender = message.sender
        try:
            response = await gateway.once().chat_postMessage(
                channel=channel,
                text=text[:3000],
                blocks=payload,
                unfurl_links=False,
                unfurl_media=False,
                metadata=_metadata(message),
                # The group's own name and icon (chat:write.customize); None is left out: the app's own.
                username=sender.username if sender else None,
                icon_emoji=sender.icon_emoji if sender else None,
                icon_url=sender.icon_url if sender else None,
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


def _metadata(message: OutgoingMessage) -> dict[str, Any]:
    """The mark a copy carries: its delivery key (https://api.slack.com/metadata)."""
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {"key": message.delivery_key, "release": message.version, "group": message.group_id},
    }


def _marked(posted: dict[str, Any], key: str) -> bool:
    """Whether a message read from the history carries the mark of delivery ``key``."""
    metadata = posted.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key)
