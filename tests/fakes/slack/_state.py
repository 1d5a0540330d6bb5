"""What the fake Slack workspace holds, and the lookups every layer of it shares."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.slack._constants import BOT_TOKEN, BOT_USER_ID, TS_STEP_MICROS, Json, manifest_scopes
from tests.fakes.slack._model import Conversation, Failure, MethodError, User
from tests.fakes.slack._records import Call, OpenedView, ResponsePost, Throttle
from tests.fakes.slack.limits import LIMITS, WORKSPACE_MESSAGES_PER_MINUTE, Meter, MethodLimit


@dataclass(eq=False)
class State:
    """``FakeSlack``'s fields (its docstring says what they mean) and what every layer looks up.

    The layers above (the method families, faults, metering, Socket Mode, the server) add
    behaviour only; everything they read or change lives here.
    """

    token: str = BOT_TOKEN
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time  # a message's ts is the Unix time it was posted, as on Slack
    reply_latency: float = 0.0  # seconds between a call taking effect and its answer leaving
    # The bot token's scopes, sent back on every answer as Slack does (``x-oauth-scopes``);
    # by default the ones manifest.json asks for. Only chat.postMessage's customizing looks at them.
    scopes: tuple[str, ...] = field(default_factory=lambda: manifest_scopes())
    _drop_answers: set[str] = field(default_factory=set, init=False, repr=False)
    enforce_limits: bool = False
    workspace_messages_per_minute: int = WORKSPACE_MESSAGES_PER_MINUTE
    rate_limits: Mapping[str, MethodLimit] = field(default_factory=lambda: LIMITS, repr=False)
    calls: list[Call] = field(default_factory=list, init=False)
    responses: list[ResponsePost] = field(default_factory=list, init=False)
    ephemerals: list[Json] = field(default_factory=list, init=False)
    views: list[OpenedView] = field(default_factory=list, init=False)
    _users: dict[str, User] = field(default_factory=dict, init=False, repr=False)
    # People who turned off the app's Messages tab: a post to their DM answers messages_tab_disabled.
    messages_tab_off: set[str] = field(default_factory=set, init=False, repr=False)
    _conversations: dict[str, Conversation] = field(default_factory=dict, init=False, repr=False)
    _usergroups: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)
    _messages: dict[str, list[Json]] = field(default_factory=dict, init=False, repr=False)
    _queued: dict[str, deque[Failure]] = field(default_factory=dict, init=False, repr=False)
    _permanent: dict[str, list[Failure]] = field(default_factory=dict, init=False, repr=False)
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

    # -- addresses --

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

    # -- reading what happened (the methods read it too) --

    def messages(self, channel: str) -> list[Json]:
        """Messages stored in a channel (thread replies included), oldest first."""
        return list(self._messages.get(channel, ()))

    def message(self, channel: str, ts: str) -> Json:
        """One stored message; ``KeyError`` if there is none."""
        for message in self._messages.get(channel, ()):
            if message["ts"] == ts:
                return message
        raise KeyError(f"no message {ts} in {channel}")

    def dm_channel(self, user_id: str) -> str:
        """The stable ``D…`` id ``conversations.open`` gives for a DM with this user."""
        return "D" + user_id[1:]

    # -- helpers --

    def _can_see(self, conversation: Conversation) -> bool:
        return not (conversation.is_private or conversation.is_mpim) or BOT_USER_ID in conversation.members

    def _visible(self, channel_id: str) -> Conversation:
        conversation = self._conversations.get(channel_id)
        if conversation is None or not self._can_see(conversation):
            raise MethodError("channel_not_found")
        return conversation

    def _count_reply(self, channel: str, thread_ts: str) -> None:
        try:
            parent = self.message(channel, thread_ts)
        except KeyError:
            return
        parent["thread_ts"] = thread_ts
        parent["reply_count"] = parent.get("reply_count", 0) + 1

    def _next_ts(self) -> str:
        micros = max(self._last_ts + TS_STEP_MICROS, int(self.wall() * 1_000_000))
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
