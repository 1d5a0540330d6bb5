"""The web pages' section of the settings: the public URL and the secret that signs its links."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from adapters.config import Secret, Section, WholeNumber, wrong


class WebSettings(Section):
    """Herald's own web pages: where people reach them, and the secret that signs their links."""

    switched_on_by: ClassVar[tuple[str, ...]] = ("HERALD_PUBLIC_URL",)

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
