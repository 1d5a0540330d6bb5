"""What a Web API call carries, read and checked as Slack does: parameters, message content, cursors."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web

from tests.fakes.slack._constants import (
    BLOCKS_PER_MESSAGE,
    JSON_FIELDS,
    MESSAGE_TEXT_LIMIT,
    NO_TEXT_FALLBACK,
    SECTION_TEXT_LIMIT,
    Json,
)
from tests.fakes.slack._model import MethodError

_T = TypeVar("_T")


async def read_params(request: web.Request) -> Json:
    params: Json = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.can_read_body:
        form = await request.post()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
    for key in JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):  # else left as sent, for the handler to refuse
                params[key] = json.loads(value)
    return params


def bearer(authorization: str) -> str | None:
    scheme, _, credentials = authorization.partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


def flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def message_content(params: Json) -> tuple[str, list[Json] | None]:
    """Validate a message's text and blocks as Slack does; return the text Slack stores."""
    text = str(params.get("text") or "")
    blocks = params.get("blocks")
    if blocks is not None:
        problem = block_problem(blocks)
        if problem is not None:
            raise MethodError("invalid_blocks", errors=[problem])
        blocks = [
            dict(block, block_id=block.get("block_id") or default_block_id(i, block)) for i, block in enumerate(blocks)
        ]
    if not text and not blocks and not params.get("attachments"):
        raise MethodError("no_text")
    if len(text) > MESSAGE_TEXT_LIMIT:
        raise MethodError("msg_too_long")
    return text or NO_TEXT_FALLBACK, blocks


def block_problem(blocks: Any) -> str | None:
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        return "blocks must be a list of objects with a type"
    if len(blocks) > BLOCKS_PER_MESSAGE:
        return f"no more than {BLOCKS_PER_MESSAGE} items allowed [json-pointer:/blocks]"
    for i, block in enumerate(blocks):
        text = block.get("text")
        if (
            block["type"] == "section"
            and isinstance(text, dict)
            and len(str(text.get("text", ""))) > SECTION_TEXT_LIMIT
        ):
            return f"must be less than {SECTION_TEXT_LIMIT + 1} characters [json-pointer:/blocks/{i}/text/text]"
    return None


def default_block_id(index: int, block: Mapping[str, Any]) -> str:
    # Slack fills in a short random block_id for every block sent without one.
    digest = hashlib.sha1(f"{index}:{json.dumps(block, sort_keys=True)}".encode()).digest()
    return base64.b64encode(digest).decode()[:5].replace("+", "x").replace("/", "y")


CUSTOMIZE_SCOPE = "chat:write.customize"


def message_author(params: Json, scopes: Sequence[str]) -> Json:
    """The name and icon a post shows instead of the app's own, as Slack keeps them on the message.

    ``username``, ``icon_emoji`` and ``icon_url`` take effect only with ``chat:write.customize``;
    without it Slack ignores them and posts as the app. ``icon_emoji`` wins over ``icon_url``.
    """
    if CUSTOMIZE_SCOPE not in scopes:
        return {}
    author: Json = {}
    if params.get("username"):
        author["username"] = str(params["username"])
    if params.get("icon_emoji"):
        author["icons"] = {"emoji": str(params["icon_emoji"])}
    elif params.get("icon_url"):
        author["icons"] = {"image_48": str(params["icon_url"])}
    return author


def message_metadata(value: Any) -> Json:
    """Message metadata as chat.postMessage takes it: an ``event_type`` and an ``event_payload`` object."""
    if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
        raise MethodError("invalid_metadata_format")
    if not isinstance(value.get("event_payload", {}), dict):
        raise MethodError("invalid_metadata_format")
    return {"event_type": value["event_type"], "event_payload": dict(value.get("event_payload", {}))}


def paginate(items: Sequence[_T], params: Json) -> tuple[list[_T], str]:
    """Slack's cursor pagination: an opaque ``next_cursor``, empty on the last page."""
    try:
        limit = int(params.get("limit") or 100)
    except (TypeError, ValueError):
        raise MethodError("invalid_limit") from None
    if limit < 1:
        raise MethodError("invalid_limit")
    limit = min(limit, 1000)
    cursor = str(params.get("cursor") or "")
    start = 0
    if cursor:
        try:
            kind, _, offset = base64.b64decode(cursor, validate=True).decode().partition(":")
            start = int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise MethodError("invalid_cursor") from None
        if kind != "offset" or not 0 <= start <= len(items):
            raise MethodError("invalid_cursor")
    end = start + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return list(items[start:end]), next_cursor
