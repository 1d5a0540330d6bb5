"""The fake Discord's gateway: HELLO, IDENTIFY and READY, RESUME, member chunks, and dispatches to every session."""

from __future__ import annotations

import contextlib
import copy
import json
import uuid

from aiohttp import WSMsgType, web

from tests.eventually import eventually
from tests.fakes.discord._constants import (
    API_VERSION,
    APP_ID,
    BOT_USER_ID,
    DIRECT_MESSAGES,
    GUILD_MEMBERS,
    GUILD_MESSAGES,
    GUILD_PRESENCES,
    GUILDS,
    HEARTBEAT_INTERVAL_MS,
    MESSAGE_CONTENT,
    Json,
)
from tests.fakes.discord._model import Session
from tests.fakes.discord._records import FakeMessage
from tests.fakes.discord._shapes import Shapes


class Gateway(Shapes):
    """Gateway sessions: one per IDENTIFY, kept through a drop for RESUME, ended by a clean close."""

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=0)
        await socket.prepare(request)
        self.connections += 1
        await socket.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None})
        )
        session: Session | None = None
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            op, data = message.get("op"), message.get("d")
            if op == 1:
                await socket.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif op == 2:
                session = await self._identify(socket, data)
            elif op == 6:
                session = await self._resume(socket, data)
            elif op == 8 and session is not None:
                await self._send_member_chunks(session, data)
        if session is not None and session.socket is socket:
            session.socket = None
            if socket.close_code in (1000, 1001):  # a client that closes cleanly ends its session
                session.ended = True
        return socket

    async def _identify(self, socket: web.WebSocketResponse, data: Json) -> Session | None:
        self.identify_payloads.append(copy.deepcopy(data))
        if data.get("token") not in (self.token, f"Bot {self.token}"):
            await socket.close(code=4004, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents", 0))
        refused = (
            (intents & GUILD_MEMBERS and not self.members_intent_granted)
            or (intents & GUILD_PRESENCES and not self.presences_intent_granted)
            or (intents & MESSAGE_CONTENT and not self.message_content_intent_granted)
        )
        if refused:
            await socket.close(code=4014, message=b"Disallowed intent(s).")
            return None
        session = Session(uuid.uuid4().hex, intents, data.get("shard"), socket)
        self._sessions[session.id] = session
        ready: Json = {
            "v": API_VERSION,
            "user": self._bot_user_json(),
            "user_settings": {},
            "guilds": [{"id": str(g), "unavailable": True} for g in self._guilds],
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._gateway_base(),
            "application": {"id": str(APP_ID), "flags": 0},
            "geo_ordered_rtc_regions": [],
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await self._send(session, "READY", ready)
        if intents & GUILDS:
            for guild in self._guilds.values():
                await self._send(session, "GUILD_CREATE", self._guild_create_json(guild, intents))
        return session

    async def _resume(self, socket: web.WebSocketResponse, data: Json) -> Session | None:
        self.resume_payloads.append(copy.deepcopy(data))
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or session.ended or data.get("token") not in (self.token, f"Bot {self.token}"):
            await socket.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return None
        if session.socket is not None and not session.socket.closed:
            await session.socket.close(code=4000)
        session.socket = socket
        since = int(data.get("seq") or 0)
        async with session.lock:
            for frame in session.backlog:
                if frame["s"] > since:
                    await socket.send_str(json.dumps(frame))
        await self._send(session, "RESUMED", {"_trace": ["fake-discord"]})
        return session

    async def _send_member_chunks(self, session: Session, data: Json) -> None:
        guild = self._guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        wanted = data.get("user_ids")
        members = [
            self._member_json(guild.id, user_id)
            for user_id in guild.members
            if wanted is None or str(user_id) in {str(w) for w in wanted}
        ]
        if not session.intents & GUILD_MEMBERS and wanted is None:
            members = []
        chunk: Json = {"guild_id": str(guild.id), "members": members, "chunk_index": 0, "chunk_count": 1}
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send(self, session: Session, event: str, data: Json) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.backlog.append(frame)
            if session.socket is not None and not session.socket.closed:
                with contextlib.suppress(ConnectionResetError):
                    await session.socket.send_str(json.dumps(frame))

    async def _broadcast(self, event: str, data: Json, intent: int) -> None:
        """Send to every session that has not ended; a dropped one gets it when it RESUMEs."""
        for session in list(self._sessions.values()):
            if session.ended or (intent and not session.intents & intent):
                continue
            await self._send(session, event, copy.deepcopy(data))

    async def _newest_live_session(self, within: float) -> Session:
        await eventually(lambda: self.live_sessions > 0, within=within)
        return [s for s in self._sessions.values() if s.live][-1]

    async def _announce_message(self, message: FakeMessage) -> None:
        await self._broadcast_message("MESSAGE_CREATE", message)

    async def _broadcast_message(self, event: str, message: FakeMessage) -> None:
        if message.ephemeral:
            return
        guild_id = self._guild_of(self._channels[message.channel_id])
        intent = GUILD_MESSAGES if guild_id is not None else DIRECT_MESSAGES
        payload = self._message_json(message, with_nonce=event == "MESSAGE_CREATE")
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            if message.author_id in self._users:  # a webhook's post has an author but no member
                payload["member"] = self._member_json(guild_id, message.author_id)
        for session in list(self._sessions.values()):
            if session.ended or not session.intents & intent:
                continue
            visible = payload
            if message.author_id != BOT_USER_ID and not session.intents & MESSAGE_CONTENT:
                visible = {**payload, "content": "", "embeds": [], "components": []}
            await self._send(session, event, copy.deepcopy(visible))

    async def _broadcast_deletion(self, message: FakeMessage) -> None:
        guild_id = self._guild_of(self._channels[message.channel_id])
        payload: Json = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        await self._broadcast("MESSAGE_DELETE", payload, GUILD_MESSAGES if guild_id else DIRECT_MESSAGES)

    async def disconnect_all(self, *, code: int = 4000, resumable: bool = True) -> None:
        """Drop every gateway connection with ``code``; clients then RESUME (or re-IDENTIFY if not resumable)."""
        for session in list(self._sessions.values()):
            socket = session.socket
            if not resumable:
                session.ended = True
            if socket is not None and not socket.closed:
                session.socket = None
                await socket.close(code=code)

    @property
    def live_sessions(self) -> int:
        """Gateway sessions currently connected and identified."""
        return sum(1 for s in self._sessions.values() if s.live)
