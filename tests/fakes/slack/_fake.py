"""``FakeSlack``: the layers put together, with what a test calls to seed the workspace and read it."""

from __future__ import annotations

from collections.abc import Iterable

from tests.fakes.slack._constants import BOT_USER_ID, Json
from tests.fakes.slack._model import Conversation, User
from tests.fakes.slack._records import Call
from tests.fakes.slack._server import Server


class FakeSlack(Server):
    """A Slack workspace and Web API on 127.0.0.1, for ``AsyncWebClient(base_url=slack.api_url)``.

    Use it as ``async with FakeSlack() as slack:``; the server runs on an ephemeral port and is shut
    down cleanly on exit. The bot (``U0HERALDBOT``) exists from the start; seed the rest with
    ``add_user``, ``add_channel`` and ``add_usergroup``. Of scopes it models only
    ``chat:write.customize`` (without it a post's ``username`` and icon are ignored); not ``response_url``
    expiry, or the 3-second life of a ``trigger_id`` (use ``expire_trigger``).

    Rate limits are off unless ``enforce_limits`` is set; then each authenticated call spends a token
    of its method's documented budget (``rate_limits``, by default ``tests/fakes/slack/limits.LIMITS``), timed
    by ``clock``, and ``chat.postMessage`` also spends one from its channel's bucket and one from the
    workspace ceiling of ``workspace_messages_per_minute`` (set it before the first post). A refused
    call gets HTTP 429, ``Retry-After`` and ``ratelimited``, and is recorded in ``throttled``; a call that
    comes while a Retry-After is still running is refused again and also recorded in ``early_calls``.
    A served method with no row in the table answers HTTP 500 and is recorded in ``untabled_calls``.
    """

    def __post_init__(self) -> None:
        self.add_user(BOT_USER_ID, "herald", is_bot=True, real_name="Herald")

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
        self._users[id] = User(id, name, real_name or name.title(), email, deleted, is_bot)

    def add_channel(
        self, id: str, name: str, members: Iterable[str] = (), archived: bool = False, *, private: bool = False
    ) -> None:
        """Add (or replace) a channel; a private channel is invisible to the bot unless it is a member."""
        self._conversations[id] = Conversation(id, name, list(members), is_archived=archived, is_private=private)

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

    # -- reading what happened --

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in arrival order."""
        return [call for call in self.calls if call.method == method]

    def replies(self, channel: str, thread_ts: str) -> list[Json]:
        """Replies in one thread, parent excluded, oldest first."""
        return [m for m in self._messages.get(channel, ()) if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]

    def responses_to(self, name: str) -> list[Json]:
        """Bodies POSTed to one ``response_url``."""
        return [post.body for post in self.responses if post.name == name]
