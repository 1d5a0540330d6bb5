"""The web pages' section of the settings: the public URL, the secret that signs its links, the release API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field, field_validator

from adapters.config import Secret, Section, WholeNumber, wrong

CHANNEL = re.compile(r"^(slack:[A-Z0-9]{2,24}|discord:[0-9]{5,25})$")  # $ : pydantic's regex has no \Z
"""Where the release API may post a walkthrough: ``slack:C0123ABCD`` or ``discord:123456789012345678``."""
_TOKEN_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}\Z")
_TOKEN_LENGTH = 32


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One caller of the release API: the name its actions are recorded under (``api:NAME``) and its token."""

    name: str
    token: Secret

    @property
    def actor(self) -> str:
        """The person id the plan's announcers name it by."""
        return f"api:{self.name}"


def _api_tokens(value: object) -> object:
    """``NAME:TOKEN,NAME:TOKEN`` into ``ApiToken``s; no sentence shows a token."""
    if not isinstance(value, str):
        return value
    found: list[ApiToken] = []
    for position, pair in enumerate((p.strip() for p in value.split(",")), start=1):
        name, colon, token = pair.partition(":")
        if not colon or not _TOKEN_NAME.match(name):
            raise ValueError(
                f"must be a comma-separated list of NAME:TOKEN pairs, NAME in lower-case letters, digits, ., - or _ "
                f"(pair {position} is not)"
            )
        if len(token) < _TOKEN_LENGTH or not token.isprintable() or " " in token:
            raise ValueError(
                f"gives {name} a token shorter than {_TOKEN_LENGTH} characters (or with spaces); make one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if any(t.name == name for t in found):
            raise ValueError(f"names {name} twice; give each pipeline one token")
        if any(t.token.reveal() == token for t in found):
            raise ValueError(f"gives {name} the same token as another name; give each pipeline its own")
        found.append(ApiToken(name, Secret(token)))
    return tuple(found)


ApiTokens = Annotated[tuple[ApiToken, ...], BeforeValidator(_api_tokens)]


class WebSettings(Section):
    """Herald's own web pages: where people reach them, and the secret that signs their links."""

    switched_on_by: ClassVar[tuple[str, ...]] = ("HERALD_PUBLIC_URL", "HERALD_API_TOKENS", "HERALD_ANNOUNCE_CHANNEL")

    public_url: str = Field(  # e.g. https://herald.example.com, without a trailing slash
        validation_alias="HERALD_PUBLIC_URL",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="must be an http(s) URL such as https://herald.example.com",
    )
    link_secret: Secret = Field(
        validation_alias="HERALD_LINK_SECRET",
        description="must be set with HERALD_PUBLIC_URL: at least 32 random characters, the same on every Herald "
        "process, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
    )
    trusted_header: str | None = Field(  # behind an authenticating proxy: the header naming the person
        None,
        validation_alias="HERALD_WEB_TRUSTED_HEADER",
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="must be an HTTP header name such as X-Forwarded-Email",
    )
    http_host: str = Field("0.0.0.0", validation_alias="HERALD_HTTP_HOST")
    http_port: WholeNumber = Field(  # 0 picks a free port
        3000, validation_alias="HERALD_HTTP_PORT", ge=0, le=65535, description="must be a port number from 1 to 65535"
    )

    api_tokens: ApiTokens = Field(  # set: POST /api/releases is served, for these callers only
        (), validation_alias="HERALD_API_TOKENS"
    )
    announce_channel: str | None = Field(  # where the release API posts a walkthrough when the call names none
        None,
        validation_alias="HERALD_ANNOUNCE_CHANNEL",
        pattern=CHANNEL.pattern,
        description="must be a chat channel such as slack:C0123ABCD or discord:123456789012345678",
    )

    @field_validator("public_url", mode="before")
    @classmethod
    def _without_trailing_slash(cls, url: object) -> object:
        return url.rstrip("/") if isinstance(url, str) else url

    @field_validator("link_secret")
    @classmethod
    def _long_enough(cls, secret: Secret) -> Secret:
        if len(secret.reveal()) < 32:
            raise wrong()
        return secret
