"""What Slack sends an app through the Events API: the signed envelope, and reaction events to put in it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

from tests.fakes.slack._constants import APP_ID, BOT_USER_ID, TEAM_ID, VERIFICATION_TOKEN, Json, sequence
from tests.fakes.slack._signing import SignedRequest, new_event_ts, signed


def event_callback(
    secret: str,
    *,
    event: Mapping[str, Any],
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    event_time: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    timestamp: int | None = None,
) -> SignedRequest:
    """An Events API delivery: the JSON envelope around ``event``, signed, with retry headers if given."""
    envelope: Json = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev0HERALD{next(sequence):05d}",
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + base64.b64encode(f"{team_id}:{APP_ID}".encode()).decode(),
    }
    request = signed(secret, json.dumps(envelope).encode(), "application/json", timestamp)
    if retry_num is not None:
        request.headers["X-Slack-Retry-Num"] = str(retry_num)
        request.headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    elif retry_reason is not None:
        raise ValueError("retry_reason needs retry_num")
    return request


def reaction_event(
    kind: str, user: str, reaction: str, channel: str, ts: str, item_user: str | None, event_ts: str | None
) -> Json:
    event: Json = {
        "type": kind,
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": ts},
    }
    if item_user is not None:
        event["item_user"] = item_user
    event["event_ts"] = event_ts or new_event_ts()
    return event


def reaction_added(
    *, user: str, reaction: str, channel: str, ts: str, item_user: str | None = BOT_USER_ID, event_ts: str | None = None
) -> Json:
    """A ``reaction_added`` event on a message; ``item_user`` is the author (``None``: not a user's message)."""
    return reaction_event("reaction_added", user, reaction, channel, ts, item_user, event_ts)


def reaction_removed(
    *, user: str, reaction: str, channel: str, ts: str, item_user: str | None = BOT_USER_ID, event_ts: str | None = None
) -> Json:
    """A ``reaction_removed`` event on a message; same shape as ``reaction_added``."""
    return reaction_event("reaction_removed", user, reaction, channel, ts, item_user, event_ts)
