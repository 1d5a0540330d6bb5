"""Discord's section of the settings: how to reach Discord as one bot (``DISCORD_*``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from adapters.config import Secret, Section, WholeNumber


class DiscordSettings(Section):
    """How to reach Discord as one bot."""

    switched_on_by: ClassVar[tuple[str, ...]] = ("DISCORD_BOT_TOKEN",)

    bot_token: Secret = Field(validation_alias="DISCORD_BOT_TOKEN")
    api_url: str = Field(  # the REST base
        "https://discord.com/api/v10",
        validation_alias="DISCORD_API_URL",
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="must be an http(s) URL such as https://discord.com/api/v10",
    )
    gateway_url: str | None = Field(  # None: discord.py's default gateway
        None,
        validation_alias="DISCORD_GATEWAY_URL",
        pattern=r"^wss?://[^\s/]+(/\S*)?$",
        description="must be a ws(s) URL such as wss://gateway.discord.gg/",
    )
    # The privileged Server Members intent, needed for discord:role: destinations.
    members_intent: bool = Field(False, validation_alias="DISCORD_MEMBERS_INTENT", description="must be on or off")
    dms_per_minute: WholeNumber = Field(  # how fast Herald opens DMs; Discord warns against mass DMs
        30,
        validation_alias="DISCORD_DMS_PER_MINUTE",
        ge=1,
        le=3000,
        description="must be a whole number from 1 to 3000",
    )
    ack_emoji: str = Field("\u2705", validation_alias="DISCORD_ACK_EMOJI")

    @field_validator("bot_token")
    @classmethod
    def _bare_token(cls, token: Secret) -> Secret:
        if token.reveal().startswith("Bot ") or any(c.isspace() for c in token.reveal()):
            raise ValueError("must be the bot token itself, without 'Bot ' or spaces")
        return token

    @field_validator("api_url", mode="before")
    @classmethod
    def _without_trailing_slash(cls, url: object) -> object:
        return url.rstrip("/") if isinstance(url, str) else url

    @field_validator("ack_emoji")
    @classmethod
    def _one_emoji(cls, emoji: str) -> str:
        if len(emoji) > 8 or any(c.isspace() or c.isascii() for c in emoji):
            raise ValueError(f"must be one Unicode emoji such as \u2705 (got {emoji[:10]!r})")
        return emoji
