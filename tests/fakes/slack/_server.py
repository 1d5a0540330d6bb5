"""The fake Slack's HTTP front: the Web API, response URLs and the Socket Mode socket on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from tests.fakes.slack._chat import ChatMethods
from tests.fakes.slack._constants import APP_TOKEN, Json
from tests.fakes.slack._faults import Faults
from tests.fakes.slack._metering import Metering
from tests.fakes.slack._model import MethodError
from tests.fakes.slack._payloads import bearer, read_params
from tests.fakes.slack._records import Call, ResponsePost
from tests.fakes.slack._socket_mode import SocketMode
from tests.fakes.slack._users import UserMethods
from tests.fakes.slack._views import ViewMethods


class Server(ChatMethods, UserMethods, ViewMethods, Faults, Metering, SocketMode):
    """Serving: an answer is the token check, then the limits, then a queued fault, then the method."""

    # -- lifecycle --

    async def start(self) -> None:
        """Serve on an ephemeral port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Stop serving; idempotent."""
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- HTTP --

    async def _api(self, request: web.Request) -> web.Response:
        at = self.clock()
        method = request.match_info["method"]
        params = await read_params(request)
        token = params.pop("token", None) or bearer(request.headers.get("Authorization", ""))
        status, headers, body = self._answer(method, params, token)
        self.calls.append(Call(method, params, at, None if body["ok"] else body["error"]))
        if self.reply_latency:  # the call has taken effect; its answer is still on its way
            await asyncio.sleep(self.reply_latency)
        if method in self._drop_answers:  # it took effect, and the connection goes before the answer
            self._drop_answers.discard(method)
            assert request.transport is not None
            request.transport.close()
        if token == self.token:
            headers = {**headers, "x-oauth-scopes": ",".join(self.scopes)}
        return web.Response(
            status=status, headers=headers, body=json.dumps(body).encode(), content_type="application/json"
        )

    def _answer(self, method: str, params: Json, token: str | None) -> tuple[int, dict[str, str], Json]:
        if method == "apps.connections.open":  # the one method that takes the app-level token
            if token != APP_TOKEN:
                return 200, {}, {"ok": False, "error": "invalid_auth" if token else "not_authed"}
            refused = self._metered(method, params)
            return refused or (200, {}, {"ok": True, "url": f"ws://127.0.0.1:{self._port}/socket"})
        handler = self._handlers().get(method)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token != self.token:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        refused = self._metered(method, params) or self._stormy(method)
        if refused is not None:
            return refused
        failure = self._take_failure(method, params)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, headers, {"ok": False, "error": failure.error}
        try:
            return 200, {}, {"ok": True, **handler(params)}
        except MethodError as refusal:
            return 200, {}, {"ok": False, "error": refusal.error, **refusal.extra}

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(ResponsePost(request.match_info["name"], body, self.clock()))
        return web.Response(body=b'{"ok": true}', content_type="application/json")

    def _handlers(self) -> dict[str, Callable[[Json], Json]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "conversations.open": self._conversations_open,
            "conversations.list": self._conversations_list,
            "conversations.members": self._conversations_members,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "reactions.get": self._reactions_get,
        }
