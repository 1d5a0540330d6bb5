"""Slack's section of the settings: how to reach one workspace (``SLACK_*``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.config import Secret


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """How to reach one Slack workspace."""

    bot_token: Secret
    signing_secret: Secret | None  # HTTP mode
    app_token: Secret | None  # Socket Mode
    api_url: str
    http_host: str
    http_port: int
    ceiling_per_minute: int
    ack_emoji: str
    reconcile: bool = True  # look for a copy in doubt before resending (needs the history scopes)

    @property
    def socket_mode(self) -> bool:
        """Whether to connect over Socket Mode rather than serve HTTP."""
        return self.app_token is not None


def slack_settings(values: Mapping[str, str], problems: list[str]) -> SlackSettings | None:
    token = values.get("SLACK_BOT_TOKEN", "").strip()
    app_token = values.get("SLACK_APP_TOKEN", "").strip()
    secret = values.get("SLACK_SIGNING_SECRET", "").strip()
    if not (token or app_token or secret):
        return None
    if not token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be set to the app's bot token (it starts with xoxb-)")
    if app_token and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp- (for Socket Mode)")
    if not app_token and not secret:
        problems.append("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")
    api_url = values.get("SLACK_API_URL", "").strip() or "https://slack.com/api/"
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", api_url):
        problems.append(
            f"SLACK_API_URL must be an http(s) URL such as https://slack-gov.com/api/ (got {api_url[:40]!r})"
        )
    host = values.get("HERALD_HTTP_HOST", "").strip() or "0.0.0.0"
    port_text = values.get("HERALD_HTTP_PORT", "").strip() or "3000"
    port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65536 else 0
    if not port:
        problems.append(f"HERALD_HTTP_PORT must be a port number from 1 to 65535 (got {port_text[:10]!r})")
    ceiling_text = values.get("SLACK_MESSAGES_PER_MINUTE", "").strip() or "600"
    ceiling = int(ceiling_text) if ceiling_text.isdigit() and int(ceiling_text) > 0 else 0
    if not ceiling:
        problems.append(f"SLACK_MESSAGES_PER_MINUTE must be a positive whole number (got {ceiling_text[:10]!r})")
    emoji = values.get("HERALD_ACK_EMOJI", "").strip().strip(":") or "white_check_mark"
    if not re.match(r"^[a-z0-9_+\-']{1,80}$", emoji):
        problems.append(f"HERALD_ACK_EMOJI must be an emoji name such as white_check_mark (got {emoji[:20]!r})")
    reconcile_text = values.get("HERALD_SLACK_RECONCILE", "").strip().lower() or "on"
    if reconcile_text not in ("on", "off"):
        problems.append(f"HERALD_SLACK_RECONCILE must be on or off (got {reconcile_text[:10]!r})")
    return SlackSettings(
        reconcile=reconcile_text != "off",
        bot_token=Secret(token),
        signing_secret=Secret(secret) if secret else None,
        app_token=Secret(app_token) if app_token else None,
        api_url=api_url if api_url.endswith("/") else api_url + "/",
        http_host=host,
        http_port=port,
        ceiling_per_minute=ceiling,
        ack_emoji=emoji,
    )
