"""Discord's global limit, kept for every REST request the client makes.

Discord allows a bot 50 requests a second across all routes, interaction endpoints aside, and
says nothing about that budget until a 429. discord.py paces each route by the headers it
answers with, but not the global limit: it learns of it from a 429. ``RestPace`` hooks the
client's HTTP session (an aiohttp trace, which discord.py takes as ``http_trace``) so that each
request to the API, retries included, first takes a token from the limiter's ``global`` budget,
which every Herald process on the database shares; a global 429 blocks that budget for its
``Retry-After``, in every process. Requests go out the moment their token is due, so the budget
is spent where Discord counts it.
"""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import yarl

from adapters.retry_after import retry_after
from bot.service.limits import Limits, RateLimiter

GLOBAL = "global"  # the budget every REST request draws on, but interaction answers
_EXEMPT = frozenset({"interactions", "webhooks"})  # interaction callbacks and follow-ups (the token's webhook)


def counts_globally(url: yarl.URL) -> bool:
    """Whether a request to ``url`` counts toward the global limit: any API route but an interaction's."""
    parts = url.path.split("/")  # "", "api", "v10", "channels", ...
    return len(parts) > 3 and parts[1] == "api" and parts[2].startswith("v") and parts[3] not in _EXEMPT


class RestPace:
    """Hands every counted request to the limiter's global budget; inert until ``bind``."""

    def __init__(self) -> None:
        self._limiter: RateLimiter | None = None
        self._limits: Limits | None = None
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._starting)
        self.trace.on_request_end.append(self._ended)

    def bind(self, limiter: RateLimiter, limits: Limits) -> None:
        """Pace from now on with ``limits``' ``global`` budget (before or after login)."""
        if GLOBAL not in limits.methods:
            raise ValueError(f"{limits.name} declares no {GLOBAL!r} budget")
        self._limiter, self._limits = limiter, limits

    async def _starting(
        self, _session: aiohttp.ClientSession, _context: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        if self._limiter is not None and self._limits is not None and counts_globally(params.url):
            await self._limiter.acquire_method(self._limits, GLOBAL)

    async def _ended(
        self, _session: aiohttp.ClientSession, _context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        if self._limiter is None or self._limits is None or not counts_globally(params.url):
            return
        response = params.response
        if response.status == 429 and response.headers.get("X-RateLimit-Scope") == "global":
            # The header is whole seconds, rounded up: never shorter than the body's retry_after.
            wait = retry_after(response.headers.get("Retry-After"), default=1.0)
            await self._limiter.throttled(self._limits, target=None, retry_after=wait, method=GLOBAL)
        elif response.status < 400:
            self._limiter.method_succeeded(self._limits, GLOBAL)
