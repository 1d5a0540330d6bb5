"""Requests as Slack signs them: ``X-Slack-Signature`` over the raw body, and the pieces every payload shares."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlencode

from tests.fakes.slack._constants import Json, sequence


class SignedRequest(NamedTuple):
    """A raw body and the headers Slack sends with it, signature included."""

    body: bytes
    headers: dict[str, str]


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Slack-Signature`` value: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed(secret: str, body: bytes, content_type: str, timestamp: int | None) -> SignedRequest:
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(secret, body, stamp),
    }
    return SignedRequest(body, headers)


def form_request(secret: str, fields: Mapping[str, str], timestamp: int | None) -> SignedRequest:
    return signed(secret, urlencode(fields).encode(), "application/x-www-form-urlencoded", timestamp)


def interaction_request(secret: str, payload: Json, timestamp: int | None) -> SignedRequest:
    return form_request(secret, {"payload": json.dumps(payload, separators=(",", ":"))}, timestamp)


def new_trigger_id() -> str:
    n = next(sequence)
    return f"{1_000_000_000 + n}.{1_700_000_000}.{hashlib.md5(str(n).encode()).hexdigest()}"


def user_json(user_id: str, user_name: str | None, team_id: str) -> Json:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def channel_name_of(channel_id: str, channel_name: str | None) -> str:
    return channel_name or ("directmessage" if channel_id.startswith("D") else channel_id.lower())


def new_event_ts() -> str:
    micros = int(time.time() * 1_000_000) + next(sequence)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
