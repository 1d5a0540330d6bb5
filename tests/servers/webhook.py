"""A webhook receiver on 127.0.0.1 (aiohttp) that checks Herald's signature as a real receiver would."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Receiver:
    """Accepts posts whose signature verifies; ``replies`` scripts statuses per path (then 200)."""

    secret: bytes
    port: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    rejected: int = 0
    replies: dict[str, list[int]] = field(default_factory=dict)
    hang: asyncio.Event = field(default_factory=asyncio.Event)  # /slow answers only once this is set
    verify: bool = True  # False: a plain JSON endpoint (what Apprise's json:// posts to)
    retry_after: str | None = None  # sent with every 429

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        if self.verify and not hmac.compare_digest(request.headers.get("X-Herald-Signature", ""), expected):
            self.rejected += 1
            return web.Response(status=401, text="bad signature")
        if request.path == "/slow":
            await self.hang.wait()
        scripted = self.replies.get(request.path)
        status = scripted.pop(0) if scripted else 200
        if 200 <= status < 300:
            self.accepted.append(json.loads(body))
            self.headers.append(dict(request.headers))
        extra = {"Retry-After": self.retry_after} if status == 429 and self.retry_after is not None else {}
        return web.Response(status=status, text="ok" if status < 300 else "no", headers=extra)


@asynccontextmanager
async def webhook_receiver(secret: bytes, *, verify: bool = True) -> AsyncIterator[Receiver]:
    """Serve a receiver until the block ends."""
    receiver = Receiver(secret, verify=verify)
    application = web.Application()
    application.router.add_post("/{path:.*}", receiver.handle)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.port = int(runner.addresses[0][1])
    try:
        yield receiver
    finally:
        receiver.hang.set()
        await runner.cleanup()
