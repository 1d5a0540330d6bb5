"""The fake Slack workspace's fixed ids and tokens, the bot's scopes, and the limits Slack puts on messages."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, TypeAlias

TEAM_ID = "T0HERALD"
TEAM_DOMAIN = "herald-test"
BOT_USER_ID = "U0HERALDBOT"
BOT_ID = "B0HERALD"
APP_ID = "A0HERALD"
BOT_TOKEN = "xoxb-herald-test"
APP_TOKEN = "xapp-1-herald-test"  # the app-level token Socket Mode connects with
VERIFICATION_TOKEN = "herald-verification-token"  # the deprecated `token` field every payload still carries

JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata"})
BLOCKS_PER_MESSAGE = 50
SECTION_TEXT_LIMIT = 3000
MESSAGE_TEXT_LIMIT = 40_000
TS_STEP_MICROS = 100  # two messages never share a ts
HISTORY_PAGE_MAX = 999  # conversations.history's documented ``limit`` ceiling
NO_TEXT_FALLBACK = "This content can't be displayed."  # what Slack stores when only blocks were sent

Json: TypeAlias = dict[str, Any]

# Numbers envelope, event and trigger ids and event timestamps: none is ever handed out twice.
sequence = itertools.count(1)


def manifest_scopes() -> tuple[str, ...]:
    """The bot scopes manifest.json asks for."""
    manifest = json.loads((Path(__file__).resolve().parents[3] / "manifest.json").read_text())
    return tuple(manifest["oauth_config"]["scopes"]["bot"])
