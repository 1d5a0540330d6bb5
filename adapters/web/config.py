"""The web pages' section of the settings: the public URL and the secret that signs its links."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.config import Secret


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Herald's own web pages: where people reach them, and the secret that signs their links."""

    public_url: str  # e.g. https://herald.example.com, without a trailing slash
    link_secret: Secret
    http_host: str
    http_port: int


def web_settings(values: Mapping[str, str], problems: list[str]) -> WebSettings | None:
    """``HERALD_PUBLIC_URL`` and ``HERALD_LINK_SECRET``; None when no public URL is set (no links)."""
    url = values.get("HERALD_PUBLIC_URL", "").strip().rstrip("/")
    if not url:
        return None
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", url):
        problems.append(
            f"HERALD_PUBLIC_URL must be an http(s) URL such as https://herald.example.com (got {url[:40]!r})"
        )
    secret = values.get("HERALD_LINK_SECRET", "").strip()
    if len(secret) < 32:
        problems.append(
            "HERALD_LINK_SECRET must be set with HERALD_PUBLIC_URL: at least 32 random characters, the same on "
            "every Herald process, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    host = values.get("HERALD_HTTP_HOST", "").strip() or "0.0.0.0"
    port_text = values.get("HERALD_HTTP_PORT", "").strip() or "3000"
    port = int(port_text) if port_text.isdigit() and 0 <= int(port_text) < 65536 else -1
    if port < 0 and not any(p.startswith("HERALD_HTTP_PORT") for p in problems):
        problems.append(f"HERALD_HTTP_PORT must be a port number from 1 to 65535 (got {port_text[:10]!r})")
    return WebSettings(public_url=url, link_secret=Secret(secret), http_host=host, http_port=max(port, 0))
