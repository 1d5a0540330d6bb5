"""The fake Discord's fixed ids and names, and the numbers of Discord's API it speaks."""

from __future__ import annotations

from typing import Any, TypeAlias

APP_ID = 1_190_000_000_000_000_001
BOT_USER_ID = 1_190_000_000_000_000_002  # a different number from APP_ID on purpose: mixing them up shows
GUILD_ID = 1_190_000_000_000_000_003
OWNER_ID = 1_190_000_000_000_000_004  # owns the application and the guild
BOT_TOKEN = "fake-discord-token"
BOT_NAME = "Herald"
GUILD_NAME = "Herald Test"
API_VERSION = 10

Json: TypeAlias = dict[str, Any]

# Gateway intents (developers/events/gateway.mdx).
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
MESSAGE_CONTENT = 1 << 15

# Channel types.
TEXT = 0
DM = 1
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12

EPHEMERAL = 1 << 6
LOADING = 1 << 7
HEARTBEAT_INTERVAL_MS = 41_250
NONCE_WINDOW_S = 300.0  # Discord de-duplicates an enforced nonce for "a few minutes"
DISCORD_EPOCH_MS = 1_420_070_400_000
FIRST_SNOWFLAKE = (1_735_689_600_000 - DISCORD_EPOCH_MS) << 22  # 2025-01-01
SNOWFLAKE = r"\d+"
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
# What the bot may do in the guild: add reactions, view, send, embed, read history, external emojis,
# create public threads, send in threads. app_permissions in interactions carries this.
BOT_PERMISSIONS = str(sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 18, 35, 38)))
EVERYONE_PERMISSIONS = str(sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 31, 35, 38)))
MEMBER_PERMISSIONS = EVERYONE_PERMISSIONS
