"""A webhook receiver on 127.0.0.1 (aiohttp) that checks Herald's signature as a real receiver would."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
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

    def verified(self, request: web.Request, body: bytes) -> bool:
        """Standard Webhooks: the v1 signature over id.timestamp.body, and a timestamp within five minutes."""
        post_id = request.headers.get("webhook-id", "")
        stamp = request.headers.get("webhook-timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return False
        mac = hmac.new(self.secret, f"{post_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(mac).decode()
        given = request.headers.get("webhook-signature", "").split()
        return any(hmac.compare_digest(expected, one) for one in given)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.verify and not self.verified(request, body):
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
