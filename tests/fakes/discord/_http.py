"""Routes as the fake Discord serves them: a template, its pattern, its handler, and the request a handler gets."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from aiohttp import web

from tests.fakes.discord._constants import APP_ID, SNOWFLAKE


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any


Handler: TypeAlias = Callable[[ApiRequest], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str  # /channels/{channel}/messages
    pattern: re.Pattern[str]
    handler: Handler
    needs_auth: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def path_pattern(template: str) -> re.Pattern[str]:
    """``/channels/{channel}`` -> a regex with named groups: snowflakes, except tokens, emoji and ``@original``.

    ``{webhook}`` is a channel webhook's id: any snowflake but the application's, whose
    ``/webhooks/{app}/{token}`` are an interaction's follow-ups.
    """
    special = {
        "token": r"[^/]+",
        "emoji": r"[^/]+",
        "webhook_message": r"@original|\d+",
        "webhook": rf"(?!{APP_ID}/){SNOWFLAKE}",
    }

    def group(match: re.Match[str]) -> str:
        return f"(?P<{match[1]}>{special.get(match[1], SNOWFLAKE)})"

    return re.compile(re.sub(r"\{(\w+)\}", group, template))


async def read_body(request: web.Request) -> Any:
    if not request.body_exists:
        return None
    if request.content_type == "multipart/form-data":
        form = await request.post()
        payload = form.get("payload_json")
        return json.loads(str(payload)) if payload is not None else None
    raw = await request.read()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")
