"""The forges' section of the settings: where GitHub's and GitLab's APIs are, and the tokens that read them.

Both are read only for release notes. A token travels to its forge alone, and never over plain
``http://`` to another machine (a GitHub Enterprise or self-managed GitLab behind TLS is fine;
a local fake API on 127.0.0.1 is the tests').
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from adapters.config import Secret, Section

GITHUB_API = "https://api.github.com"
"""GitHub's REST API."""
GITLAB = "https://gitlab.com"
"""GitLab's own instance; its REST API is below ``/api/v4``."""
_LOCAL = ("127.0.0.1", "localhost", "::1")


class ForgeSettings(Section):
    """GitHub's and GitLab's APIs, for release notes; always on (unused unless the plan's notes are there)."""

    github_api_url: str = Field(
        GITHUB_API,
        validation_alias="GITHUB_API_URL",
        description="must be the https URL of GitHub's REST API, e.g. https://api.github.com or "
        "https://github.example.com/api/v3",
    )
    github_token: Secret | None = Field(None, validation_alias="GITHUB_TOKEN")
    gitlab_url: str = Field(
        GITLAB,
        validation_alias="GITLAB_URL",
        description="must be the https URL of a GitLab instance, e.g. https://gitlab.com",
    )
    gitlab_token: Secret | None = Field(None, validation_alias="GITLAB_TOKEN")

    @field_validator("github_api_url", "gitlab_url")
    @classmethod
    def _a_base(cls, url: str) -> str:
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname
        except ValueError:
            raise ValueError(f"is not a URL (got {url[:60]!r})") from None
        if parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment:
            raise ValueError(f"must be an http(s) URL such as https://api.github.com (got {url[:60]!r})")
        if parts.scheme == "http" and host not in _LOCAL:
            raise ValueError(
                "must start with https:// (a token would travel in the clear), except on this machine "
                f"(got {url[:60]!r})"
            )
        return url.strip().rstrip("/")
