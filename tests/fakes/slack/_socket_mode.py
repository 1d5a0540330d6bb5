"""Socket Mode on the fake Slack: a websocket that says hello, and envelopes the app must ack."""

from __future__ import annotations

import asyncio
import json

from aiohttp import WSMsgType, web

from tests.eventually import eventually
from tests.fakes.slack._constants import APP_ID, Json, sequence
from tests.fakes.slack._state import State


class SocketMode(State):
    """Connections the app opened with ``apps.connections.open``; envelopes go to the newest."""

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            waiting = self._acks.pop(str(data.get("envelope_id")), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(data)
        self._sockets.remove(socket)
        return socket

    async def socket_deliver(self, kind: str, payload: Json) -> Json:
        """Send one Socket Mode envelope (``slash_commands``, ``interactive``, ``events_api``); return the app's ack."""
        loop = asyncio.get_running_loop()
        await eventually(lambda: self._sockets)  # someone connected over Socket Mode
        envelope_id = f"env-{next(sequence)}"
        acked: asyncio.Future[Json] = loop.create_future()
        self._acks[envelope_id] = acked
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
                "payload": payload,
            }
        )
        return await asyncio.wait_for(acked, timeout=5.0)
