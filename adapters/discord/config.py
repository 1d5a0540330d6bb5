"""Discord's section of the settings: how to reach Discord as one bot (``DISCORD_*``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.config import Secret


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """How to reach Discord as one bot."""

    bot_token: Secret
    api_url: str  # the REST base, e.g. https://discord.com/api/v10
    gateway_url: str | None  # None: discord.py's default gateway
    members_intent: bool  # the privileged Server Members intent, needed for discord:role: destinations
    dms_per_minute: int  # how fast Herald opens DMs; Discord warns against mass DMs
    ack_emoji: str


def discord_settings(values: Mapping[str, str], problems: list[str]) -> DiscordSettings | None:
    token = values.get("DISCORD_BOT_TOKEN", "").strip()
    if not token:
        return None
    if token.startswith("Bot ") or any(c.isspace() for c in token):
        problems.append("DISCORD_BOT_TOKEN must be the bot token itself, without 'Bot ' or spaces")
    api_url = (values.get("DISCORD_API_URL", "").strip() or "https://discord.com/api/v10").rstrip("/")
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", api_url):
        problems.append(
            f"DISCORD_API_URL must be an http(s) URL such as https://discord.com/api/v10 (got {api_url[:40]!r})"
        )
    gateway = values.get("DISCORD_GATEWAY_URL", "").strip() or None
    if gateway is not None and not re.match(r"^wss?://[^\s/]+(/\S*)?$", gateway):
        problems.append(
            f"DISCORD_GATEWAY_URL must be a ws(s) URL such as wss://gateway.discord.gg/ (got {gateway[:40]!r})"
        )
    members_text = values.get("DISCORD_MEMBERS_INTENT", "").strip().lower() or "off"
    if members_text not in ("on", "off", "1", "0", "true", "false", "yes", "no"):
        problems.append(f"DISCORD_MEMBERS_INTENT must be on or off (got {members_text[:10]!r})")
    dms_text = values.get("DISCORD_DMS_PER_MINUTE", "").strip() or "30"
    dms = int(dms_text) if dms_text.isdigit() and 0 < int(dms_text) <= 3000 else 0
    if not dms:
        problems.append(f"DISCORD_DMS_PER_MINUTE must be a whole number from 1 to 3000 (got {dms_text[:10]!r})")
    emoji = values.get("DISCORD_ACK_EMOJI", "").strip() or "\u2705"
    if len(emoji) > 8 or any(c.isspace() or c.isascii() for c in emoji):
        problems.append(f"DISCORD_ACK_EMOJI must be one Unicode emoji such as \u2705 (got {emoji[:10]!r})")
    return DiscordSettings(
        bot_token=Secret(token),
        api_url=api_url,
        gateway_url=gateway,
        members_intent=members_text in ("on", "1", "true", "yes"),
        dms_per_minute=dms,
        ack_emoji=emoji,
    )
