"""``herald doctor`` for Slack: the token works, and it has every scope the manifest asks for."""

from __future__ import annotations

import json
from pathlib import Path

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.checkup import Finding, failed, ok, warning
from adapters.slack.config import SlackSettings

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.json"


OPTIONAL_SCOPES = {  # asked for by the manifest, but Herald works without them
    "chat:write.customize": "groups with slack_username or slack_icon post under the app's own name and icon",
}


def manifest_scopes(manifest: Path = MANIFEST) -> tuple[tuple[str, ...], int]:
    """The bot scopes manifest.json asks for, and the line where its list starts."""
    text = manifest.read_text()
    scopes = tuple(json.loads(text)["oauth_config"]["scopes"]["bot"])
    line = next((n for n, row in enumerate(text.splitlines(), 1) if row.strip().startswith('"bot"')), 1)
    return scopes, line


async def slack_findings(settings: SlackSettings, *, manifest: Path = MANIFEST) -> list[Finding]:
    """auth.test with the bot token; the token's scopes (Slack's ``x-oauth-scopes``) against the manifest's."""
    client = AsyncWebClient(token=settings.bot_token.reveal(), base_url=settings.api_url, timeout=10)
    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "unknown_error") if error.response is not None else "unknown_error"
        return [
            failed(
                "slack token",
                f"Slack refused SLACK_BOT_TOKEN ({code})",
                "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page into SLACK_BOT_TOKEN",
            )
        ]
    except (OSError, TimeoutError) as error:
        return [failed("slack token", f"Slack could not be reached: {type(error).__name__}", "check the network")]
    found = [ok("slack token", f"works: the bot {answer.get('user', '?')} in {answer.get('team', '?')}")]
    granted = {s.strip() for s in str(answer.headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
    wanted, line = manifest_scopes(manifest)
    missing = [scope for scope in wanted if scope not in granted and scope not in OPTIONAL_SCOPES]
    optional = [scope for scope in wanted if scope not in granted and scope in OPTIONAL_SCOPES]
    remedy = (
        f"manifest.json line {line} (oauth_config.scopes.bot) lists them: update the app from the manifest "
        "and reinstall it to the workspace, then copy the new token"
    )
    if not granted:
        found.append(warning("slack scopes", "Slack did not say which scopes the token has"))
    elif missing:
        found.append(failed("slack scopes", f"the token lacks {', '.join(missing)}", remedy))
    else:
        found.append(ok("slack scopes", f"all {len(wanted) - len(optional)} the manifest needs"))
    for scope in optional if granted else ():
        found.append(warning("slack optional scope", f"the token lacks {scope}: {OPTIONAL_SCOPES[scope]}; {remedy}"))
    if settings.socket_mode:
        found.append(ok("slack mode", "Socket Mode (SLACK_APP_TOKEN set)"))
    elif settings.signing_secret is None:
        found.append(
            failed(
                "slack mode",
                "HTTP mode without SLACK_SIGNING_SECRET: every request would be refused",
                "set SLACK_SIGNING_SECRET from the app's Basic Information page, or SLACK_APP_TOKEN for Socket Mode",
            )
        )
    else:
        found.append(ok("slack mode", f"HTTP mode on {settings.http_host}:{settings.http_port}/slack/events"))
    return found
