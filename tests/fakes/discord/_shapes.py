"""The JSON the fake Discord sends: users, members, channels, threads, guilds and messages, as API v10 has them."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime

from tests.fakes.discord._constants import (
    APP_ID,
    BOT_USER_ID,
    DISCORD_EPOCH_MS,
    DM,
    FIRST_SNOWFLAKE,
    GUILD_ID,
    GUILD_MEMBERS,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Json,
)
from tests.fakes.discord._model import Channel, Guild
from tests.fakes.discord._records import FakeMessage
from tests.fakes.discord._state import State


class Shapes(State):
    """The fake's objects as Discord shows them to a client."""

    def _bot_user_json(self) -> Json:
        return {
            **self._users[BOT_USER_ID].to_json(),
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
        }

    def _member_json(self, guild_id: int, user_id: int) -> Json:
        roles = self._guilds[guild_id].members.get(user_id, [])
        return {
            "user": self._user(user_id).to_json(),
            "roles": [str(r) for r in roles],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": iso(FIRST_SNOWFLAKE),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }

    def _channel_json(self, channel: Channel) -> Json:
        last = str(channel.last_message_id) if channel.last_message_id else None
        if channel.type == DM:
            return {
                "id": str(channel.id),
                "type": DM,
                "last_message_id": last,
                "flags": 0,
                "recipients": [self._users[channel.recipient_id or 0].to_json()],
            }
        if channel.type in (PUBLIC_THREAD, PRIVATE_THREAD):
            thread = self.threads[channel.id]
            return {
                "id": str(channel.id),
                "type": channel.type,
                "guild_id": str(channel.guild_id),
                "parent_id": str(channel.parent_id),
                "owner_id": str(thread.owner_id),
                "name": channel.name,
                "last_message_id": last,
                "rate_limit_per_user": 0,
                "message_count": channel.message_count,
                "member_count": 1,
                "total_message_sent": channel.message_count,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": thread.auto_archive_duration,
                    "archive_timestamp": iso(channel.id),
                    "locked": False,
                    "create_timestamp": iso(channel.id),
                    **({"invitable": True} if channel.type == PRIVATE_THREAD else {}),
                },
                "member": {
                    "id": str(channel.id),
                    "user_id": str(BOT_USER_ID),
                    "join_timestamp": iso(channel.id),
                    "flags": 0,
                },
            }
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": last,
            "default_auto_archive_duration": 1440,
            "flags": 0,
        }

    def _guild_create_json(self, guild: Guild, intents: int) -> Json:
        members = list(guild.members) if intents & GUILD_MEMBERS else [BOT_USER_ID]
        return {
            **guild_json(guild),
            "unavailable": False,
            "large": False,
            "member_count": len(guild.members),
            "joined_at": iso(FIRST_SNOWFLAKE),
            "members": [self._member_json(guild.id, user_id) for user_id in members],
            "channels": [self._channel_json(self._channels[c]) for c in guild.channel_ids],
            "threads": [
                self._channel_json(self._channels[t.id])
                for t in self.threads.values()
                if self._channels[t.id].guild_id == guild.id
            ],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _message_json(self, message: FakeMessage, *, with_nonce: bool = False) -> Json:
        """A message as the API shows it. Its nonce is not stored by Discord: it is echoed only in the
        answer to the create and in MESSAGE_CREATE (Rapptz/discord.py#2451), never when fetched."""
        channel = self._channels[message.channel_id]
        hook = self._webhooks.get(message.webhook_id) if message.webhook_id is not None else None
        payload: Json = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": hook.author_json(message.username) if hook else self._users[message.author_id].to_json(),
            "content": message.content,
            "timestamp": iso(message.id),
            "edited_timestamp": iso(message.id, plus_ms=message.edits) if message.edits else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": copy.deepcopy(message.embeds),
            "components": copy.deepcopy(message.components),
            "reactions": [
                {
                    "emoji": emoji_json(emoji),
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": BOT_USER_ID in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in message.reactions.items()
                if users
            ],
            "pinned": False,
            "type": 0 if message.message_reference is None else 19,
            "flags": message.flags,
        }
        if with_nonce and message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            if hook is None or hook.application_owned:  # an interaction's messages are the application's
                payload["application_id"] = str(APP_ID)
        if message.interaction_id is not None:
            interaction = self._interactions[message.interaction_id]
            payload["type"] = 20 if interaction.type == 2 else 0
            payload["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self._users[interaction.user_id].to_json(),
                "authorizing_integration_owners": {"0": str(interaction.guild_id or GUILD_ID)},
            }
        if message.message_reference is not None:
            payload["message_reference"] = {
                "type": 0,
                "channel_id": str(message.channel_id),
                **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
                **{k: str(v) for k, v in message.message_reference.items() if k in ("message_id",)},
            }
        if message.thread_id is not None:
            payload["thread"] = self._channel_json(self._channels[message.thread_id])
        return payload


def guild_json(guild: Guild) -> Json:
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "roles": [role.to_json() for role in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "max_members": 500_000,
        "max_video_channel_users": 25,
    }


def emoji_json(emoji: str) -> Json:
    custom = re.fullmatch(r"<?a?:?(?P<name>\w+):(?P<id>\d+)>?", emoji)
    if custom:
        return {"id": custom["id"], "name": custom["name"], "animated": emoji.startswith("<a:")}
    return {"id": None, "name": emoji}


def iso(snowflake: int, *, plus_ms: int = 0) -> str:
    millis = (snowflake >> 22) + DISCORD_EPOCH_MS + plus_ms
    return datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat()
