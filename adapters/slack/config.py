"""Slack's section of the settings: how to reach one workspace (``SLACK_*``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticUseDefault

from adapters.config import Secret, Section, Switch, WholeNumber, wrong

HTTP_URL = r"^https?://[^\s/]+(/\S*)?$"


class SlackSettings(Section):
    """How to reach one Slack workspace."""

    switched_on_by: ClassVar[tuple[str, ...]] = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")

    bot_token: Secret = Field(
        validation_alias="SLACK_BOT_TOKEN",
        description="must be set to the app's bot token (it starts with xoxb-)",
    )
    app_token: Secret | None = Field(  # Socket Mode
        None,
        validation_alias="SLACK_APP_TOKEN",
        description="must be an app-level token starting with xapp- (for Socket Mode)",
    )
    signing_secret: Secret | None = Field(None, validation_alias="SLACK_SIGNING_SECRET", validate_default=True)  # HTTP
    api_url: str = Field(
        "https://slack.com/api/",
        validation_alias="SLACK_API_URL",
        pattern=HTTP_URL,
        description="must be an http(s) URL such as https://slack-gov.com/api/",
    )
    http_host: str = Field("0.0.0.0", validation_alias="HERALD_HTTP_HOST")
    http_port: WholeNumber = Field(
        3000, validation_alias="HERALD_HTTP_PORT", ge=1, le=65535, description="must be a port number from 1 to 65535"
    )
    ceiling_per_minute: WholeNumber = Field(
        600, validation_alias="SLACK_MESSAGES_PER_MINUTE", gt=0, description="must be a positive whole number"
    )
    ack_emoji: str = Field(
        "white_check_mark",
        validation_alias="HERALD_ACK_EMOJI",
        pattern=r"^[a-z0-9_+\-']{1,80}$",
        description="must be an emoji name such as white_check_mark",
    )
    # Look for a copy in doubt before resending (needs the history scopes).
    reconcile: Switch = Field(True, validation_alias="HERALD_SLACK_RECONCILE")

    @property
    def socket_mode(self) -> bool:
        """Whether to connect over Socket Mode rather than serve HTTP."""
        return self.app_token is not None

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, token: Secret) -> Secret:
        if not token.reveal().startswith("xoxb-"):
            raise wrong()
        return token

    @field_validator("app_token")
    @classmethod
    def _app_token(cls, token: Secret | None) -> Secret | None:
        if token is not None and not token.reveal().startswith("xapp-"):
            raise wrong()
        return token

    @field_validator("signing_secret")
    @classmethod
    def _a_way_in(cls, secret: Secret | None, info: ValidationInfo) -> Secret | None:
        if secret is None and info.data.get("app_token", "wrong") is None:  # a wrong app token is said already
            raise ValueError("is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")
        return secret

    @field_validator("api_url", mode="after")
    @classmethod
    def _ends_in_a_slash(cls, url: str) -> str:
        return url if url.endswith("/") else url + "/"

    @field_validator("ack_emoji", mode="before")
    @classmethod
    def _without_colons(cls, name: object) -> object:
        if isinstance(name, str) and not name.strip(":"):
            raise PydanticUseDefault  # ":" alone, as if unset
        return name.strip(":") if isinstance(name, str) else name
