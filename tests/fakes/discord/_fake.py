"""``FakeDiscord``: the layers put together, with what a test calls to run, seed, fault and read it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Self

import yarl
from aiohttp import WSCloseCode, web

from tests.eventually import eventually
from tests.fakes.discord._constants import API_VERSION, BOT_USER_ID, EVERYONE_PERMISSIONS, GUILD_ID, OWNER_ID, TEXT
from tests.fakes.discord._drive_events import EventDrivers
from tests.fakes.discord._drive_interactions import InteractionDrivers
from tests.fakes.discord._errors import Failure
from tests.fakes.discord._model import Channel, Guild, Role, User, Webhook
from tests.fakes.discord._records import Call, InteractionResponse
from tests.fakes.discord._router import Router


class FakeDiscord(Router, InteractionDrivers, EventDrivers):
    """Discord's REST API and gateway for one bot and one guild, on 127.0.0.1.

    Use it as ``async with FakeDiscord() as discord, discord.patched():`` and give a real discord.py
    client ``BOT_TOKEN``. The guild ``GUILD_ID`` ("Herald Test"), the bot's member and the guild
    owner exist from the start. A client with ``GUILD_MEMBERS``, ``GUILD_PRESENCES`` or
    ``MESSAGE_CONTENT`` in its intents is closed with 4014 unless the matching ``*_intent_granted``
    flag is set, as Discord does for privileged intents not switched on in the Developer Portal.

    Gateway events go to every session that has not ended; a session dropped by ``disconnect_all``
    gets what it missed when it RESUMEs, while one its client closed (code 1000) is over. An
    interaction goes, as on Discord, to one session only: the newest connected one.

    Rate limits are off unless ``enforce_limits`` is set; then every authorized call is metered by
    its row in ``rate_limits`` (by default ``tests/fakes/discord/limits.LIMITS``) and by the global
    ``global_per_second``, on ``clock``. Queued 429s (``fail_next``) count as told waits: a call
    inside one is early too. Without ``enforce_limits`` every answer carries the same roomy headers.
    """

    # -- lifecycle --

    async def start(self) -> None:
        """Serve on an ephemeral port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", f"/api/v{API_VERSION}/{{tail:.*}}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._rest_unversioned)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Close every gateway session and stop serving; idempotent."""
        for session in self._sessions.values():
            session.ended = True
            if session.socket is not None and not session.socket.closed:
                await session.socket.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for interaction in self._interactions.values():
            interaction.answered.cancel()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def point_discord_py_here(self) -> None:
        """Aim discord.py's REST base and default gateway at this fake (process-wide; see ``patched``)."""
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        Route.BASE = self.api_url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    @contextlib.contextmanager
    def patched(self) -> Iterator[Self]:
        """``point_discord_py_here`` for the length of a ``with`` block, then put discord.com back."""
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        self.point_discord_py_here()
        try:
            yield self
        finally:
            Route.BASE = base
            DiscordWebSocket.DEFAULT_GATEWAY = gateway

    # -- seeding the guild --

    def add_guild(self, guild_id: int, name: str) -> None:
        """Add another guild the bot is in (it starts with the bot and the owner as members)."""
        guild = Guild(guild_id, name, OWNER_ID)
        guild.roles[guild_id] = Role(guild_id, "@everyone", 0, EVERYONE_PERMISSIONS)
        guild.members[BOT_USER_ID] = []
        guild.members[OWNER_ID] = []
        self._guilds[guild_id] = guild

    def add_channel(self, channel_id: int, name: str, guild_id: int = GUILD_ID) -> None:
        """Add (or rename) a text channel in a guild."""
        guild = self._guild(guild_id)
        if channel_id not in guild.channel_ids:
            guild.channel_ids.append(channel_id)
        self._channels[channel_id] = Channel(
            channel_id, TEXT, name, guild_id, position=guild.channel_ids.index(channel_id)
        )

    def add_webhook(
        self, channel_id: int, name: str = "Captain Hook", *, application_owned: bool = False
    ) -> tuple[int, str]:
        """Create an incoming webhook in a channel, as a person does in its settings; its id and token.

        Its URL is ``https://discord.com/api/webhooks/ID/TOKEN``. With ``application_owned`` it is one
        the bot's application created, whose posts may carry buttons.
        """
        self._channel(channel_id)
        webhook_id = self._next_id()
        token = f"hook-token-{webhook_id:x}-{'s' * 40}"
        self._webhooks[webhook_id] = Webhook(webhook_id, token, channel_id, name, application_owned)
        return webhook_id, token

    def add_user(
        self,
        user_id: int,
        name: str,
        *,
        bot: bool = False,
        dms_open: bool = True,
        guild_id: int | None = GUILD_ID,
        roles: Iterable[int] = (),
    ) -> None:
        """Add (or replace) a user, a member of ``guild_id`` unless that is None.

        With ``dms_open=False`` a message into their DM channel gets 403 / 50007, as when a person has
        closed DMs from server members or shares no server with the bot.
        """
        self._users[user_id] = User(user_id, name, bot=bot, dms_open=dms_open)
        if guild_id is not None:
            guild = self._guild(guild_id)
            for role in roles:
                if role not in guild.roles:
                    raise KeyError(f"no role {role} in guild {guild_id}; add_role first")
            guild.members[user_id] = list(roles)

    def add_role(self, role_id: int, name: str, guild_id: int = GUILD_ID) -> None:
        """Add (or rename) a role in a guild."""
        guild = self._guild(guild_id)
        guild.roles[role_id] = Role(role_id, name, len(guild.roles), "0")

    # -- faults --

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 429,
        retry_after: float = 0.2,
        code: int | None = None,
        message: str | None = None,
        global_: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` (or ``"*"``) and ``path_regex`` with an error.

        ``path_regex`` must match the whole path without ``/api/v10`` (``r"/channels/\\d+/messages"``).
        A 429 carries ``{message, retry_after, global}``, ``Retry-After`` and the ``X-RateLimit-*``
        headers with ``X-RateLimit-Scope``; any other status carries ``{code, message}``. Failures
        queued for the same route are used in order.
        """
        self._failures.append(
            Failure(method.upper(), re.compile(path_regex), status, retry_after, code, message, global_, times)
        )

    # -- reading what happened --

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        """Recorded REST calls whose method (or ``"*"``) and whole path match, in arrival order."""
        pattern = re.compile(path_regex)
        return [c for c in self.calls if method.upper() in ("*", c.method) and pattern.fullmatch(c.path)]

    def dm_channel_of(self, user_id: int) -> int | None:
        """The DM channel opened with this user, if the client opened one."""
        return self._dms.get(user_id)

    def response_to(self, interaction_id: int) -> InteractionResponse | None:
        """The client's answer to one interaction, if it answered."""
        interaction = self._interactions.get(interaction_id)
        return None if interaction is None else interaction.response

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds (``tests.eventually``); ``AssertionError`` after ``timeout`` seconds."""
        await eventually(predicate, within=timeout)
