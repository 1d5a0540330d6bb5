"""The rate-limit side of the fake Discord's answers: ``X-RateLimit-*`` headers, 429s, and queued failures."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping
from typing import Any

from tests.fakes.discord._constants import Json
from tests.fakes.discord._errors import Failure
from tests.fakes.discord._meter import Admitted
from tests.fakes.discord.limits import Major, RouteLimit, bucket_hash


def route_bucket(method: str, route_pattern: str) -> str:
    return hashlib.sha1(f"{method} {route_pattern}".encode(), usedforsecurity=False).hexdigest()[:16]


def ratelimit_headers(
    bucket: str, *, remaining: int = 49, reset_after: float = 1.0, wall: float | None = None
) -> dict[str, str]:
    """The roomy headers every answer carries when limits are not enforced."""
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{(time.time() if wall is None else wall) + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def major_of(row: RouteLimit, params: Mapping[str, str]) -> str:
    """The top-level resource the route's bucket is kept per, from the path."""
    if row.major is Major.CHANNEL:
        return params["channel"]
    if row.major is Major.GUILD:
        return params["guild"]
    if row.major is Major.WEBHOOK:  # an interaction's (the application's id) or a channel's webhook
        return f"{params.get('app') or params['webhook']}+{params['token']}"
    return ""


def admitted_headers(admitted: Admitted, *, wall: float) -> dict[str, str]:
    """A bucketed route's state after a call; no headers for a route with no limit of its own."""
    if admitted.limit is None:
        return {}
    return {
        "X-RateLimit-Limit": str(admitted.limit),
        "X-RateLimit-Remaining": str(admitted.remaining),
        "X-RateLimit-Reset": f"{wall + admitted.reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{admitted.reset_after:.3f}",
        "X-RateLimit-Bucket": admitted.bucket,
    }


def refusal(row: RouteLimit, scope: str, retry_after: float, *, wall: float) -> tuple[int, Any, dict[str, str]]:
    """Discord's 429: the global limit's (no route headers) or the route's (its bucket, empty)."""
    wait = max(0.001, round(retry_after, 3))
    if scope == "global":
        headers = {"X-RateLimit-Global": "true"}
    else:
        headers = admitted_headers(Admitted(row.limit, 0, wait, bucket_hash(row.header_name)), wall=wall)
    headers["Retry-After"] = str(math.ceil(wait))
    headers["X-RateLimit-Scope"] = scope
    return 429, {"message": "You are being rate limited.", "retry_after": wait, "global": scope == "global"}, headers


def failure_answer(failure: Failure, limits: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    """A queued failure, with the route's rate-limit headers as given."""
    headers = dict(limits)
    if failure.status != 429:
        code = failure.code if failure.code is not None else 0
        message = failure.message or f"{failure.status}: fake failure"
        return failure.status, {"code": code, "message": message}, headers
    headers["Retry-After"] = str(math.ceil(failure.retry_after))
    headers["X-RateLimit-Scope"] = "global" if failure.global_ else "user"
    if failure.global_:
        headers["X-RateLimit-Global"] = "true"
    body: Json = {
        "message": failure.message or "You are being rate limited.",
        "retry_after": failure.retry_after,
        "global": failure.global_,
    }
    if failure.code is not None:
        body["code"] = failure.code
    return 429, body, headers
