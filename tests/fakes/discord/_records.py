"""What the fake Discord records for tests to read: calls, throttles, messages, threads, interaction answers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord._constants import BOT_USER_ID, EPHEMERAL, PUBLIC_THREAD, Json


@dataclass(frozen=True, slots=True)
class Call:
    """One REST request: the route without ``/api/v10``, its query and JSON body, and the status given."""

    method: str
    path: str
    query: Mapping[str, str]
    json: Any
    headers: Mapping[str, str]
    status: int
    at: float
    route: str = ""  # ``METHOD /route`` as tabled in tests/fakes/discord/limits.py ("" for an unknown path)

    @property
    def authorized(self) -> bool:
        """Whether the request carried an ``Authorization`` header."""
        return "Authorization" in self.headers


@dataclass(frozen=True, slots=True)
class Throttle:
    """A 429 the rate limits gave: the route, the counter that refused it, when, and for how long.

    ``scope`` is ``"global"`` or ``"user"`` (the route's own bucket), as ``X-RateLimit-Scope`` said;
    ``early`` says the client had already been told to wait past this moment.
    """

    route: str
    bucket: str
    at: float
    retry_after: float
    scope: str
    early: bool


@dataclass(slots=True)
class FakeMessage:
    """A message as the fake stores it; ``components`` and ``embeds`` are the raw JSON sent."""

    id: int
    channel_id: int
    author_id: int
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    nonce: str | int | None = None
    flags: int = 0
    allowed_mentions: Json | None = None
    message_reference: Json | None = None
    edits: int = 0
    thread_id: int | None = None
    deleted: bool = False
    webhook_id: int | None = None  # set on interaction responses and follow-ups, and on a channel webhook's posts
    username: str | None = None  # a webhook's post: the name it was posted under (None: the webhook's own)
    avatar_url: str | None = None  # a webhook's post: the image it was posted with
    interaction_id: int | None = None
    reactions: dict[str, set[int]] = field(default_factory=dict)  # emoji -> users, the bot included
    created_at: float = 0.0

    @property
    def ephemeral(self) -> bool:
        """Whether only the interacting user can see it."""
        return bool(self.flags & EPHEMERAL)

    def custom_ids(self) -> list[str]:
        """Every ``custom_id`` in the message's components, in order."""
        return [str(c["custom_id"]) for c in walk_components(self.components) if "custom_id" in c]


@dataclass(slots=True)
class FakeThread:
    """A thread the client created; a thread started from a message has that message's id."""

    id: int
    parent_channel_id: int
    name: str
    starter_message_id: int | None
    type: int = PUBLIC_THREAD
    owner_id: int = BOT_USER_ID
    auto_archive_duration: int = 1440


@dataclass(slots=True)
class InteractionResponse:
    """How the client answered one interaction: the callback, then follow-ups and edits of ``@original``.

    ``type`` is the callback type: 4 message, 5 deferred message, 6 deferred update, 7 update message,
    9 modal. ``data`` is the callback's raw ``data``; ``message_id`` the message it created or updated.
    """

    interaction_id: int
    interaction_type: int  # 2 command, 3 component, 5 modal submit
    token: str
    user_id: int
    channel_id: int
    type: int
    data: Json
    message_id: int | None = None
    followups: list[Json] = field(default_factory=list)
    edits: list[Json] = field(default_factory=list)
    at: float = 0.0

    @property
    def content(self) -> str | None:
        """The callback's message content, if it had one."""
        content = self.data.get("content")
        return None if content is None else str(content)

    @property
    def ephemeral(self) -> bool:
        """Whether the response message was ephemeral."""
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


def walk_components(components: Iterable[Json]) -> Iterator[Json]:
    for component in components:
        yield component
        yield from walk_components(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from walk_components([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield component["accessory"]
