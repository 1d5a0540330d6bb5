"""A fake Slack for tests: a local Web API server, and requests signed exactly as Slack signs them.

``FakeSlack`` is a real aiohttp server on 127.0.0.1. Point ``AsyncWebClient(base_url=slack.api_url)``
at it and it answers like Slack for the methods Herald uses, with Slack's own error codes, while
recording every call. Faults are queued with ``fail_next`` (one answer) or ``fail_always`` (every
answer, optionally for one channel or user). With ``enforce_limits=True`` it also holds every method to
Slack's documented rate limit (the table in ``tests/fakes/slack_rate_limits.py``) and answers 429 as Slack does.

The builders (``slash_command``, ``block_action``, ``view_submission``, ``event_callback``) return a
``SignedRequest`` (a ``(body, headers)`` tuple) to post to the app's front door; ``reaction_added``
and ``reaction_removed`` build the inner event for ``event_callback``.

Shapes follow Slack's documented payloads and the recorded bodies in slackapi/bolt-python's tests;
nothing is sent that Slack does not send.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeAlias, TypeVar
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from tests.eventually import eventually
from tests.fakes.slack_rate_limits import LIMITS, WORKSPACE_MESSAGES_PER_MINUTE, Budget, Meter, MethodLimit, Scope

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "VERIFICATION_TOKEN",
    "Call",
    "FakeSlack",
    "OpenedView",
    "ResponsePost",
    "SignedRequest",
    "Throttle",
    "block_action",
    "event_callback",
    "reaction_added",
    "reaction_removed",
    "sign",
    "slash_command",
    "view_submission",
]

TEAM_ID = "T0HERALD"
TEAM_DOMAIN = "herald-test"
BOT_USER_ID = "U0HERALDBOT"
BOT_ID = "B0HERALD"
APP_ID = "A0HERALD"
BOT_TOKEN = "xoxb-herald-test"
APP_TOKEN = "xapp-1-herald-test"  # the app-level token Socket Mode connects with
VERIFICATION_TOKEN = "herald-verification-token"  # the deprecated `token` field every payload still carries

_JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata"})
_BLOCKS_PER_MESSAGE = 50
_SECTION_TEXT_LIMIT = 3000
_MESSAGE_TEXT_LIMIT = 40_000
_TS_STEP_MICROS = 100  # two messages never share a ts
_HISTORY_PAGE_MAX = 999  # conversations.history's documented ``limit`` ceiling
_NO_TEXT_FALLBACK = "This content can't be displayed."  # what Slack stores when only blocks were sent

Json: TypeAlias = dict[str, Any]
_T = TypeVar("_T")


# --- the fake Web API ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received: the method, its decoded parameters, when, and any error given."""

    method: str
    params: Json
    at: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Throttle:
    """One 429 the rate limits gave: the method, the bucket that refused it, when, and the Retry-After sent.

    A method's workspace bucket is named after the method (for ``chat.postMessage`` that is the
    workspace message ceiling); a channel's bucket is ``"chat.postMessage:<channel id>"``, where a
    post to a user id counts against the DM channel with that person.
    """

    method: str
    bucket: str
    at: float
    retry_after: int


@dataclass(frozen=True, slots=True)
class ResponsePost:
    """One JSON body POSTed to a ``response_url`` handed out by the fake."""

    name: str
    body: Json
    at: float


@dataclass(frozen=True, slots=True)
class OpenedView:
    """A modal opened with ``views.open``: the trigger that opened it and the view as Slack returned it."""

    trigger_id: str
    view: Json
    at: float


@dataclass(slots=True)
class _User:
    id: str
    name: str
    real_name: str
    email: str | None
    deleted: bool
    is_bot: bool

    def to_slack(self) -> Json:
        profile: Json = {"real_name": self.real_name, "display_name": self.name}
        if self.email is not None:
            profile["email"] = self.email
        if self.id == BOT_USER_ID:
            profile["bot_id"] = BOT_ID
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile,
        }


@dataclass(slots=True)
class _Conversation:
    id: str
    name: str
    members: list[str]
    is_archived: bool = False
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    user: str | None = None  # the other person, for a DM

    def to_slack(self) -> Json:
        if self.is_im:
            return {"id": self.id, "created": 1_700_000_000, "is_im": True, "is_org_shared": False, "user": self.user}
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_mpim,
            "is_group": False,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_member": BOT_USER_ID in self.members,
            "created": 1_700_000_000,
            "creator": "U0CREATOR",
            "num_members": len(self.members),
        }


@dataclass(frozen=True, slots=True)
class _Failure:
    error: str
    status: int
    retry_after: int | None
    channel: str | None = None
    user: str | None = None

    def matches(self, params: Mapping[str, Any]) -> bool:
        if self.channel is not None and params.get("channel") != self.channel:
            return False
        return self.user is None or self.user in (params.get("user"), params.get("users"))


class _Refusal(Exception):
    """Raised inside a method handler; becomes ``{"ok": false, "error": code, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass(eq=False)
class FakeSlack:
    """A Slack workspace and Web API on 127.0.0.1, for ``AsyncWebClient(base_url=slack.api_url)``.

    Use it as ``async with FakeSlack() as slack:``; the server runs on an ephemeral port and is shut
    down cleanly on exit. The bot (``U0HERALDBOT``) exists from the start; seed the rest with
    ``add_user``, ``add_channel`` and ``add_usergroup``. It does not model scopes, ``response_url``
    expiry, or the 3-second life of a ``trigger_id`` (use ``expire_trigger``).

    Rate limits are off unless ``enforce_limits`` is set; then each authenticated call spends a token
    of its method's documented budget (``rate_limits``, by default ``tests/fakes/slack_rate_limits.LIMITS``), timed
    by ``clock``, and ``chat.postMessage`` also spends one from its channel's bucket and one from the
    workspace ceiling of ``workspace_messages_per_minute`` (set it before the first post). A refused
    call gets HTTP 429, ``Retry-After`` and ``ratelimited``, and is recorded in ``throttled``; a call that
    comes while a Retry-After is still running is refused again and also recorded in ``early_calls``.
    A served method with no row in the table answers HTTP 500 and is recorded in ``untabled_calls``.
    """

    token: str = BOT_TOKEN
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time  # a message's ts is the Unix time it was posted, as on Slack
    reply_latency: float = 0.0  # seconds between a call taking effect and its answer leaving
    # The bot token's scopes, sent back on every answer as Slack does (``x-oauth-scopes``);
    # by default the ones manifest.json asks for. Nothing else looks at them.
    scopes: tuple[str, ...] = field(default_factory=lambda: manifest_scopes())
    _drop_answers: set[str] = field(default_factory=set, init=False, repr=False)
    enforce_limits: bool = False
    workspace_messages_per_minute: int = WORKSPACE_MESSAGES_PER_MINUTE
    rate_limits: Mapping[str, MethodLimit] = field(default_factory=lambda: LIMITS, repr=False)
    calls: list[Call] = field(default_factory=list, init=False)
    responses: list[ResponsePost] = field(default_factory=list, init=False)
    ephemerals: list[Json] = field(default_factory=list, init=False)
    views: list[OpenedView] = field(default_factory=list, init=False)
    _users: dict[str, _User] = field(default_factory=dict, init=False, repr=False)
    _conversations: dict[str, _Conversation] = field(default_factory=dict, init=False, repr=False)
    _usergroups: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)
    _messages: dict[str, list[Json]] = field(default_factory=dict, init=False, repr=False)
    _queued: dict[str, deque[_Failure]] = field(default_factory=dict, init=False, repr=False)
    _permanent: dict[str, list[_Failure]] = field(default_factory=dict, init=False, repr=False)
    _used_triggers: set[str] = field(default_factory=set, init=False, repr=False)
    _expired_triggers: set[str] = field(default_factory=set, init=False, repr=False)
    _last_ts: int = field(default=0, init=False, repr=False)
    _views_made: Iterator[int] = field(default_factory=lambda: itertools.count(1), init=False, repr=False)
    _runner: web.AppRunner | None = field(default=None, init=False, repr=False)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list, init=False, repr=False)
    _acks: dict[str, asyncio.Future[Json]] = field(default_factory=dict, init=False, repr=False)
    _port: int | None = field(default=None, init=False, repr=False)
    _meter: Meter = field(default_factory=Meter, init=False, repr=False)
    _throttled: list[Throttle] = field(default_factory=list, init=False, repr=False)
    _storms: dict[str, tuple[float, float, int]] = field(default_factory=dict, init=False, repr=False)
    _early_calls: list[Throttle] = field(default_factory=list, init=False, repr=False)
    _untabled_calls: list[Call] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.add_user(BOT_USER_ID, "herald", is_bot=True, real_name="Herald")

    @property
    def throttled(self) -> list[Throttle]:
        """Every 429 the rate limits gave, in order (not those queued with ``fail_next``)."""
        return self._throttled

    @property
    def early_calls(self) -> list[Throttle]:
        """The refused calls that came while a Retry-After announced for their bucket was running."""
        return self._early_calls

    @property
    def untabled_calls(self) -> list[Call]:
        """Calls, with limits enforced, to a served method that has no row in the rate-limit table."""
        return self._untabled_calls

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

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, once started."""
        if self._port is None:
            raise RuntimeError("FakeSlack is not running; use `async with FakeSlack() as slack:`")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL to pass as ``AsyncWebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        """A ``response_url`` on the fake; JSON POSTed to it lands in ``responses`` under ``name``."""
        return f"{self.base_url}/response/{name}"

    # -- seeding the workspace --

    def add_user(
        self,
        id: str,
        name: str,
        email: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
        *,
        real_name: str | None = None,
    ) -> None:
        """Add (or replace) a member of the workspace."""
        self._users[id] = _User(id, name, real_name or name.title(), email, deleted, is_bot)

    def add_channel(
        self, id: str, name: str, members: Iterable[str] = (), archived: bool = False, *, private: bool = False
    ) -> None:
        """Add (or replace) a channel; a private channel is invisible to the bot unless it is a member."""
        self._conversations[id] = _Conversation(id, name, list(members), is_archived=archived, is_private=private)

    def add_usergroup(self, id: str, users: Iterable[str]) -> None:
        """Add (or replace) a user group (``S…``) with these members."""
        self._usergroups[id] = list(users)

    def add_reaction(self, channel: str, ts: str, name: str, user: str) -> None:
        """Record ``user`` reacting with ``name`` on a stored message, as ``reactions.get`` will report it."""
        reactions: list[Json] = self.message(channel, ts).setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if user not in reaction["users"]:
                    reaction["users"].append(user)
                    reaction["count"] += 1
                return
        reactions.append({"name": name, "users": [user], "count": 1})

    def expire_trigger(self, trigger_id: str) -> None:
        """Make ``views.open`` answer ``expired_trigger_id`` for this trigger."""
        self._expired_triggers.add(trigger_id)

    def dm_channel(self, user_id: str) -> str:
        """The stable ``D…`` id ``conversations.open`` gives for a DM with this user."""
        return "D" + user_id[1:]

    # -- faults --

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = 2,
        channel: str | None = None,
    ) -> None:
        """Queue one failed answer for ``method`` (optionally only for calls on ``channel``).

        With no arguments it is a 429 ``ratelimited`` carrying ``Retry-After``. ``status=500`` gives a
        5xx ``internal_error``; an error code alone (``fail_next("chat.update", "message_not_found")``)
        is an ordinary HTTP 200 Slack error. Queued failures for one method are used in order.
        """
        resolved_status = status if status is not None else (429 if error in (None, "ratelimited") else 200)
        resolved_error = error or ("ratelimited" if resolved_status == 429 else "internal_error")
        after = retry_after if resolved_status == 429 else None
        self._queued.setdefault(method, deque()).append(_Failure(resolved_error, resolved_status, after, channel))

    def storm(self, method: str, seconds: float, retry_after: int = 1) -> None:
        """From now, for ``seconds`` on the fake's clock, answer every call of ``method`` 429 (Slack under an incident).

        Each refusal carries ``Retry-After``; a call that comes back before the last one's
        has passed is counted among the early calls.
        """
        self._storms[method] = (self.clock(), self.clock() + seconds, retry_after)

    def _stormy(self, method: str) -> tuple[int, dict[str, str], Json] | None:
        storm = self._storms.get(method)
        at = self.clock()
        if storm is None or not storm[0] <= at < storm[1]:
            return None
        early = any(
            t.method == method and t.bucket == "storm" and at < t.at + t.retry_after for t in self._throttled[-5:]
        )
        throttle = Throttle(method, "storm", at, storm[2])
        self._throttled.append(throttle)
        if early:
            self._early_calls.append(throttle)
        return 429, {"Retry-After": str(storm[2])}, {"ok": False, "error": "ratelimited"}

    def drop_answer_next(self, method: str) -> None:
        """Carry out the next call of ``method``, then close the connection without answering it."""
        self._drop_answers.add(method)

    def fail_always(self, method: str, error: str, channel: str | None = None, *, user: str | None = None) -> None:
        """Answer every call of ``method`` (on ``channel``, or for ``user`` if given) with this Slack error."""
        self._permanent.setdefault(method, []).append(_Failure(error, 200, None, channel, user))

    # -- reading what happened --

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in arrival order."""
        return [call for call in self.calls if call.method == method]

    def messages(self, channel: str) -> list[Json]:
        """Messages stored in a channel (thread replies included), oldest first."""
        return list(self._messages.get(channel, ()))

    def message(self, channel: str, ts: str) -> Json:
        """One stored message; ``KeyError`` if there is none."""
        for message in self._messages.get(channel, ()):
            if message["ts"] == ts:
                return message
        raise KeyError(f"no message {ts} in {channel}")

    def replies(self, channel: str, thread_ts: str) -> list[Json]:
        """Replies in one thread, parent excluded, oldest first."""
        return [m for m in self._messages.get(channel, ()) if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]

    def responses_to(self, name: str) -> list[Json]:
        """Bodies POSTed to one ``response_url``."""
        return [post.body for post in self.responses if post.name == name]

    # -- HTTP --

    async def _api(self, request: web.Request) -> web.Response:
        at = self.clock()
        method = request.match_info["method"]
        params = await _read_params(request)
        token = params.pop("token", None) or _bearer(request.headers.get("Authorization", ""))
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
        except _Refusal as refusal:
            return 200, {}, {"ok": False, "error": refusal.error, **refusal.extra}

    def _metered(self, method: str, params: Json) -> tuple[int, dict[str, str], Json] | None:
        """Slack's answer if the rate limits refuse this call; ``None`` to serve it."""
        if not self.enforce_limits:
            return None
        at = self.clock()
        limit = self.rate_limits.get(method)
        if limit is None:
            self._untabled_calls.append(Call(method, dict(params), at, "fatal_error"))
            detail = f"no documented rate limit for {method} in tests/fakes/slack_rate_limits.py"
            return 500, {}, {"ok": False, "error": "fatal_error", "detail": detail}
        refusal = self._meter.take(self._budgets(limit, params), at)
        if refusal is None:
            return None
        throttle = Throttle(method, refusal.bucket, at, refusal.retry_after)
        self._throttled.append(throttle)
        if refusal.early:
            self._early_calls.append(throttle)
        return 429, {"Retry-After": str(refusal.retry_after)}, {"ok": False, "error": "ratelimited"}

    def _budgets(self, limit: MethodLimit, params: Json) -> list[tuple[str, Budget]]:
        if limit.scope is Scope.CHANNEL:
            channel = str(params.get("channel") or "")
            if channel.startswith(("U", "W")) and channel in self._users:
                channel = self.dm_channel(channel)  # a post to a user id goes to, and counts against, the DM
            ceiling = Budget.of(self.workspace_messages_per_minute)
            return [(limit.method, ceiling), (f"{limit.method}:{channel}", limit.budget)]
        return [(limit.method, limit.budget)]

    def _take_failure(self, method: str, params: Json) -> _Failure | None:
        queue = self._queued.get(method)
        if queue:
            for failure in queue:
                if failure.matches(params):
                    queue.remove(failure)
                    return failure
        return next((f for f in self._permanent.get(method, ()) if f.matches(params)), None)

    # -- Socket Mode --

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
        envelope_id = f"env-{next(_sequence)}"
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

    # -- methods --

    def _auth_test(self, params: Json) -> Json:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Herald Test",
            "user": "herald",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: Json) -> Json:
        channel = self._writable(params)
        text, blocks = _content(params)
        message: Json = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": self._next_ts(),
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": text,
            "team": TEAM_ID,
        }
        if blocks is not None:
            message["blocks"] = blocks
        metadata = params.get("metadata")
        if metadata is not None:
            message["metadata"] = _metadata(metadata)
        thread_ts = params.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            self._count_reply(channel.id, str(thread_ts))
        self._messages.setdefault(channel.id, []).append(message)
        shown = {k: v for k, v in message.items() if k != "metadata"}  # metadata comes back only from history
        return {"channel": channel.id, "ts": message["ts"], "message": shown}

    def _chat_update(self, params: Json) -> Json:
        channel = self._writable(params)
        ts = str(params.get("ts") or "")
        try:
            message = self.message(channel.id, ts)
        except KeyError:
            raise _Refusal("message_not_found") from None
        text, blocks = _content(params)
        message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": BOT_ID, "ts": self._next_ts()}
        return {"channel": channel.id, "ts": ts, "text": text, "message": dict(message)}

    def _chat_post_ephemeral(self, params: Json) -> Json:
        channel = self._writable(params)
        user = str(params.get("user") or "")
        if user not in self._users:
            raise _Refusal("user_not_found")
        if user not in channel.members:
            raise _Refusal("user_not_in_channel")
        text, blocks = _content(params)
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel.id,
                "user": user,
                "text": text,
                "blocks": blocks,
                "thread_ts": params.get("thread_ts"),
                "ts": ts,
            }
        )
        return {"message_ts": ts}

    def _conversations_open(self, params: Json) -> Json:
        if params.get("channel"):
            conversation = self._visible(str(params["channel"]))
            return {"no_op": True, "already_open": True, "channel": {"id": conversation.id}}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise _Refusal("users_list_not_supplied")
        if len(users) > 8:
            raise _Refusal("too_many_users")
        for user_id in users:
            user = self._users.get(user_id)
            if user is None:
                raise _Refusal("user_not_found")
            if user.deleted:
                raise _Refusal("user_disabled")
        if len(users) == 1:
            conversation = _Conversation(
                self.dm_channel(users[0]), "", [BOT_USER_ID, users[0]], is_im=True, user=users[0]
            )
        else:
            members = sorted({BOT_USER_ID, *users})
            digest = hashlib.sha1(",".join(members).encode()).hexdigest()[:10].upper()
            conversation = _Conversation(f"G{digest}", "mpdm-" + "--".join(members) + "-1", members, is_mpim=True)
        already_open = conversation.id in self._conversations
        self._conversations.setdefault(conversation.id, conversation)
        answer: Json = {"no_op": True, "already_open": True} if already_open else {}
        channel = conversation.to_slack() if _flag(params.get("return_im")) else {"id": conversation.id}
        return {**answer, "channel": channel}

    def _conversations_list(self, params: Json) -> Json:
        types = set(str(params.get("types") or "public_channel").split(","))
        known = {"public_channel", "private_channel", "mpim", "im"}
        if not types <= known:
            raise _Refusal("invalid_types")
        exclude_archived = _flag(params.get("exclude_archived"))
        listed = [
            c.to_slack()
            for c in self._conversations.values()
            if _kind(c) in types and self._can_see(c) and not (exclude_archived and c.is_archived)
        ]
        page, cursor = _page(listed, params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_members(self, params: Json) -> Json:
        conversation = self._visible(str(params.get("channel") or ""))
        page, cursor = _page(conversation.members, params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_history(self, params: Json) -> Json:
        """Top-level messages (and thread parents), newest first, between ``oldest`` and ``latest``.

        As https://api.slack.com/methods/conversations.history documents: both bounds exclusive
        unless ``inclusive``; ``latest`` defaults to now; cursor pagination with ``has_more``;
        ``limit`` at most 999; metadata only with ``include_all_metadata``; the bot must be in
        the conversation (``not_in_channel`` otherwise).
        """
        conversation = self._visible(str(params.get("channel") or ""))
        if BOT_USER_ID not in conversation.members and not conversation.is_im:
            raise _Refusal("not_in_channel")
        try:
            oldest = float(params.get("oldest") or 0)
            latest = float(params.get("latest") or self.wall())
            limit = int(params.get("limit") or 100)
        except (TypeError, ValueError):
            raise _Refusal("invalid_arguments") from None
        if limit > _HISTORY_PAGE_MAX:
            raise _Refusal("invalid_limit")
        inclusive = _flag(params.get("inclusive"))
        with_metadata = _flag(params.get("include_all_metadata"))

        def within(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        listed = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in reversed(self._messages.get(conversation.id, []))
            if within(float(m["ts"])) and m.get("thread_ts") in (None, m["ts"])
        ]
        page, cursor = _page(listed, {**params, "limit": limit})
        return {
            "messages": page,
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_info(self, params: Json) -> Json:
        return {"channel": self._visible(str(params.get("channel") or "")).to_slack()}

    def _users_lookup_by_email(self, params: Json) -> Json:
        email = str(params.get("email") or "").lower()
        for user in self._users.values():
            # Slack answers users_not_found for a deactivated account, not the user with deleted=true.
            if user.email is not None and user.email.lower() == email and not user.deleted:
                return {"user": user.to_slack()}
        raise _Refusal("users_not_found")

    def _users_info(self, params: Json) -> Json:
        user = self._users.get(str(params.get("user") or ""))
        if user is None:
            raise _Refusal("user_not_found")
        return {"user": user.to_slack()}

    def _users_list(self, params: Json) -> Json:
        page, cursor = _page(list(self._users.values()), params)
        return {"members": [user.to_slack() for user in page], "response_metadata": {"next_cursor": cursor}}

    def _usergroups_users_list(self, params: Json) -> Json:
        users = self._usergroups.get(str(params.get("usergroup") or ""))
        if users is None:
            raise _Refusal("no_such_subteam")
        return {"users": list(users)}

    def _views_open(self, params: Json) -> Json:
        trigger_id = str(params.get("trigger_id") or "")
        view = params.get("view")
        if not trigger_id or not isinstance(view, dict):
            raise _Refusal("invalid_arguments")
        if trigger_id in self._expired_triggers:
            raise _Refusal("expired_trigger_id")
        if trigger_id in self._used_triggers:
            raise _Refusal("exchanged_trigger_id")
        self._used_triggers.add(trigger_id)
        view_id = f"V0HERALD{next(self._views_made):04d}"
        opened: Json = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"1700000000.{hashlib.sha1(view_id.encode()).hexdigest()[:8]}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self.views.append(OpenedView(trigger_id, opened, self.clock()))
        return {"view": opened}

    def _reactions_get(self, params: Json) -> Json:
        conversation = self._visible(str(params.get("channel") or ""))
        try:
            message = self.message(conversation.id, str(params.get("timestamp") or ""))
        except KeyError:
            raise _Refusal("message_not_found") from None
        return {"type": "message", "channel": conversation.id, "message": dict(message)}

    # -- helpers --

    def _can_see(self, conversation: _Conversation) -> bool:
        return not (conversation.is_private or conversation.is_mpim) or BOT_USER_ID in conversation.members

    def _visible(self, channel_id: str) -> _Conversation:
        conversation = self._conversations.get(channel_id)
        if conversation is None or not self._can_see(conversation):
            raise _Refusal("channel_not_found")
        return conversation

    def _writable(self, params: Json) -> _Conversation:
        channel_id = str(params.get("channel") or "")
        if channel_id.startswith(("U", "W")) and channel_id in self._users:
            # Posting to a user id posts in the app's DM with that person.
            self._conversations_open({"users": channel_id})
            channel_id = self.dm_channel(channel_id)
        conversation = self._visible(channel_id)
        if conversation.is_archived:
            raise _Refusal("is_archived")
        return conversation

    def _count_reply(self, channel: str, thread_ts: str) -> None:
        try:
            parent = self.message(channel, thread_ts)
        except KeyError:
            return
        parent["thread_ts"] = thread_ts
        parent["reply_count"] = parent.get("reply_count", 0) + 1

    def _next_ts(self) -> str:
        micros = max(self._last_ts + _TS_STEP_MICROS, int(self.wall() * 1_000_000))
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _kind(conversation: _Conversation) -> str:
    if conversation.is_im:
        return "im"
    if conversation.is_mpim:
        return "mpim"
    return "private_channel" if conversation.is_private else "public_channel"


async def _read_params(request: web.Request) -> Json:
    params: Json = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.can_read_body:
        form = await request.post()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
    for key in _JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):  # else left as sent, for the handler to refuse
                params[key] = json.loads(value)
    return params


def _bearer(authorization: str) -> str | None:
    scheme, _, credentials = authorization.partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _content(params: Json) -> tuple[str, list[Json] | None]:
    """Validate a message's text and blocks as Slack does; return the text Slack stores."""
    text = str(params.get("text") or "")
    blocks = params.get("blocks")
    if blocks is not None:
        problem = _block_problem(blocks)
        if problem is not None:
            raise _Refusal("invalid_blocks", errors=[problem])
        blocks = [dict(block, block_id=block.get("block_id") or _block_id(i, block)) for i, block in enumerate(blocks)]
    if not text and not blocks and not params.get("attachments"):
        raise _Refusal("no_text")
    if len(text) > _MESSAGE_TEXT_LIMIT:
        raise _Refusal("msg_too_long")
    return text or _NO_TEXT_FALLBACK, blocks


def _block_problem(blocks: Any) -> str | None:
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        return "blocks must be a list of objects with a type"
    if len(blocks) > _BLOCKS_PER_MESSAGE:
        return f"no more than {_BLOCKS_PER_MESSAGE} items allowed [json-pointer:/blocks]"
    for i, block in enumerate(blocks):
        text = block.get("text")
        if (
            block["type"] == "section"
            and isinstance(text, dict)
            and len(str(text.get("text", ""))) > _SECTION_TEXT_LIMIT
        ):
            return f"must be less than {_SECTION_TEXT_LIMIT + 1} characters [json-pointer:/blocks/{i}/text/text]"
    return None


def _block_id(index: int, block: Mapping[str, Any]) -> str:
    # Slack fills in a short random block_id for every block sent without one.
    digest = hashlib.sha1(f"{index}:{json.dumps(block, sort_keys=True)}".encode()).digest()
    return base64.b64encode(digest).decode()[:5].replace("+", "x").replace("/", "y")


def _metadata(value: Any) -> Json:
    """Message metadata as chat.postMessage takes it: an ``event_type`` and an ``event_payload`` object."""
    if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
        raise _Refusal("invalid_metadata_format")
    if not isinstance(value.get("event_payload", {}), dict):
        raise _Refusal("invalid_metadata_format")
    return {"event_type": value["event_type"], "event_payload": dict(value.get("event_payload", {}))}


def _page(items: Sequence[_T], params: Json) -> tuple[list[_T], str]:
    """Slack's cursor pagination: an opaque ``next_cursor``, empty on the last page."""
    try:
        limit = int(params.get("limit") or 100)
    except (TypeError, ValueError):
        raise _Refusal("invalid_limit") from None
    if limit < 1:
        raise _Refusal("invalid_limit")
    limit = min(limit, 1000)
    cursor = str(params.get("cursor") or "")
    start = 0
    if cursor:
        try:
            kind, _, offset = base64.b64decode(cursor, validate=True).decode().partition(":")
            start = int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _Refusal("invalid_cursor") from None
        if kind != "offset" or not 0 <= start <= len(items):
            raise _Refusal("invalid_cursor")
    end = start + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return list(items[start:end]), next_cursor


# --- signed requests, as Slack sends them ------------------------------------------------------------


def manifest_scopes() -> tuple[str, ...]:
    """The bot scopes manifest.json asks for."""
    manifest = json.loads((Path(__file__).resolve().parents[2] / "manifest.json").read_text())
    return tuple(manifest["oauth_config"]["scopes"]["bot"])


class SignedRequest(NamedTuple):
    """A raw body and the headers Slack sends with it, signature included."""

    body: bytes
    headers: dict[str, str]


_sequence = itertools.count(1)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Slack-Signature`` value: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _signed(secret: str, body: bytes, content_type: str, timestamp: int | None) -> SignedRequest:
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(secret, body, stamp),
    }
    return SignedRequest(body, headers)


def _form(secret: str, fields: Mapping[str, str], timestamp: int | None) -> SignedRequest:
    return _signed(secret, urlencode(fields).encode(), "application/x-www-form-urlencoded", timestamp)


def _interaction(secret: str, payload: Json, timestamp: int | None) -> SignedRequest:
    return _form(secret, {"payload": json.dumps(payload, separators=(",", ":"))}, timestamp)


def _new_trigger_id() -> str:
    n = next(_sequence)
    return f"{1_000_000_000 + n}.{1_700_000_000}.{hashlib.md5(str(n).encode()).hexdigest()}"


def _user(user_id: str, user_name: str | None, team_id: str) -> Json:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _channel_name(channel_id: str, channel_name: str | None) -> str:
    return channel_name or ("directmessage" if channel_id.startswith("D") else channel_id.lower())


def slash_command(
    secret: str,
    *,
    text: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str | None = None,
    command: str = "/release",
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    channel_name: str | None = None,
    timestamp: int | None = None,
) -> SignedRequest:
    """A slash command: the form-encoded body with every field Slack sends, signed."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": _channel_name(channel_id, channel_name),
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _new_trigger_id(),
    }
    return _form(secret, fields, timestamp)


def _find_button(message: Mapping[str, Any], action_id: str) -> tuple[str, Json] | None:
    for block in message.get("blocks") or ():
        elements = list(block.get("elements") or ())
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None


def block_action(
    secret: str,
    *,
    user_id: str,
    action_id: str,
    channel_id: str,
    message_ts: str,
    response_url: str,
    value: str | None = None,
    message: Mapping[str, Any] | None = None,
    block_id: str | None = None,
    thread_ts: str | None = None,
    is_ephemeral: bool = False,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    channel_name: str | None = None,
    timestamp: int | None = None,
) -> SignedRequest:
    """A click on a message button: form field ``payload=`` holding a ``block_actions`` JSON, signed.

    Pass the stored ``message`` (``slack.message(channel, ts)``) to click a button that was really
    posted: its ``block_id``, label and ``value`` are taken from the message, and ``thread_ts`` from
    the message if it is a reply. Without it, ``value`` is required and the message is minimal.
    Ephemeral messages carry no ``message`` object, as in Slack.
    """
    found = _find_button(message, action_id) if message is not None else None
    if message is not None and found is None:
        raise ValueError(f"no element with action_id {action_id!r} in the message")
    element: Json = found[1] if found else {}
    resolved_value = value if value is not None else element.get("value")
    if resolved_value is None:
        raise ValueError("value is required when the message does not supply it")
    if thread_ts is None and message is not None and message.get("thread_ts") not in (None, message_ts):
        thread_ts = str(message["thread_ts"])
    container: Json = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    action: Json = {
        "action_id": action_id,
        "block_id": block_id or (found[0] if found else "actions"),
        "text": element.get("text", {"type": "plain_text", "text": "Button", "emoji": True}),
        "value": resolved_value,
        "type": element.get("type", "button"),
        "action_ts": _event_ts(),
    }
    payload: Json = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or _new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": _channel_name(channel_id, channel_name)},
    }
    if not is_ephemeral:
        shown: Json = dict(message) if message is not None else {"type": "message", "ts": message_ts, "text": ""}
        if message is None:
            shown.update(user=BOT_USER_ID, bot_id=BOT_ID, app_id=APP_ID, team=TEAM_ID)
            if thread_ts is not None:
                shown["thread_ts"] = thread_ts
        payload["message"] = shown
    payload.update(state={"values": {}}, response_url=response_url, actions=[action])
    return _interaction(secret, payload, timestamp)


def view_submission(
    secret: str,
    *,
    user_id: str,
    callback_id: str,
    values: Mapping[str, Mapping[str, Any]],
    private_metadata: str = "",
    view: Mapping[str, Any] | None = None,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    response_urls: Sequence[Mapping[str, str]] = (),
    timestamp: int | None = None,
) -> SignedRequest:
    """A modal submitted: form field ``payload=`` holding a ``view_submission`` JSON, signed.

    ``values`` is Slack's ``view.state.values`` (``{block_id: {action_id: {"type": ..., "value": ...}}}``);
    a plain string in place of the innermost object is shorthand for a ``plain_text_input``. Pass the
    ``view`` that ``views.open`` returned (``slack.views[-1].view``) to submit that very modal.
    """
    state = {
        block_id: {
            action_id: {"type": "plain_text_input", "value": entry} if isinstance(entry, str) else dict(entry)
            for action_id, entry in actions.items()
        }
        for block_id, actions in values.items()
    }
    submitted: Json = {
        "id": "V0HERALD0000",
        "team_id": team_id,
        "type": "modal",
        "blocks": [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "hash": "1700000000.00000000",
        "title": {"type": "plain_text", "text": "Herald"},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "previous_view_id": None,
        "root_view_id": "V0HERALD0000",
        "app_id": APP_ID,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }
    if view is not None:
        submitted.update(view)
        submitted.update(callback_id=callback_id, private_metadata=private_metadata or view.get("private_metadata", ""))
    submitted["state"] = {"values": state}
    payload: Json = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _new_trigger_id(),
        "view": submitted,
        "response_urls": [dict(url) for url in response_urls],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _interaction(secret, payload, timestamp)


def event_callback(
    secret: str,
    *,
    event: Mapping[str, Any],
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    event_time: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    timestamp: int | None = None,
) -> SignedRequest:
    """An Events API delivery: the JSON envelope around ``event``, signed, with retry headers if given."""
    envelope: Json = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev0HERALD{next(_sequence):05d}",
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + base64.b64encode(f"{team_id}:{APP_ID}".encode()).decode(),
    }
    request = _signed(secret, json.dumps(envelope).encode(), "application/json", timestamp)
    if retry_num is not None:
        request.headers["X-Slack-Retry-Num"] = str(retry_num)
        request.headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    elif retry_reason is not None:
        raise ValueError("retry_reason needs retry_num")
    return request


def _event_ts() -> str:
    micros = int(time.time() * 1_000_000) + next(_sequence)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _reaction_event(
    kind: str, user: str, reaction: str, channel: str, ts: str, item_user: str | None, event_ts: str | None
) -> Json:
    event: Json = {
        "type": kind,
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": ts},
    }
    if item_user is not None:
        event["item_user"] = item_user
    event["event_ts"] = event_ts or _event_ts()
    return event


def reaction_added(
    *, user: str, reaction: str, channel: str, ts: str, item_user: str | None = BOT_USER_ID, event_ts: str | None = None
) -> Json:
    """A ``reaction_added`` event on a message; ``item_user`` is the author (``None``: not a user's message)."""
    return _reaction_event("reaction_added", user, reaction, channel, ts, item_user, event_ts)


def reaction_removed(
    *, user: str, reaction: str, channel: str, ts: str, item_user: str | None = BOT_USER_ID, event_ts: str | None = None
) -> Json:
    """A ``reaction_removed`` event on a message; same shape as ``reaction_added``."""
    return _reaction_event("reaction_removed", user, reaction, channel, ts, item_user, event_ts)
