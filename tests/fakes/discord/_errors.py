"""How the fake Discord says no: an ``ApiError`` a route raises, a ``Failure`` a test queued, and the body checks.

``ApiError`` becomes Discord's ``{"code", "message"[, "errors"]}`` body with its status. A ``Failure``
(``FakeDiscord.fail_next``) answers a matching request before its route runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.fakes.discord._constants import Json
from tests.fakes.discord._records import walk_components


class ApiError(Exception):
    """Raised inside a route handler; becomes Discord's ``{"code", "message"}`` error body."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> Json:
        payload: Json = {"code": self.code, "message": self.message}
        if self.errors is not None:
            payload["errors"] = self.errors
        return payload


@dataclass(slots=True)
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    retry_after: float
    code: int | None
    message: str | None
    global_: bool
    times: int

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.path.fullmatch(path) is not None


def json_object(body: Any) -> Json:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, 50109, "The request body contains invalid JSON.")
    return body


def check_content(body: Json) -> None:
    content = body.get("content") or ""
    if len(str(content)) > 2000:
        raise ApiError(400, 50035, "Invalid Form Body", {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}})
    if len(body.get("embeds") or []) > 10:
        raise ApiError(400, 50035, "Invalid Form Body", {"embeds": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}})
    for component in walk_components(body.get("components") or []):
        if "custom_id" in component and not 1 <= len(str(component["custom_id"])) <= 100:
            raise ApiError(
                400, 50035, "Invalid Form Body", {"components": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}}
            )
    if not (content or body.get("embeds") or body.get("components") or body.get("sticker_ids") or body.get("poll")):
        raise ApiError(400, 50006, "Cannot send an empty message")
