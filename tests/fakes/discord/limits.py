"""Discord's REST rate limits for every route the fake Discord serves, and the windows that meter them.

Where the figures come from (read in December 2026; ``docs/discord-rate-limits.md`` has the links):

* The rules. Discord's "Rate Limits" page (https://discord.com/developers/docs/topics/rate-limits,
  discord/discord-api-docs ``developers/topics/rate-limits.mdx`` at 291ee19): a global limit of 50
  requests a second per bot, which interaction endpoints are not bound to; per-route limits kept per
  top-level resource (``channel_id``, ``guild_id``, ``webhook_id`` + token); the ``X-RateLimit-*``
  headers; a 429 carries ``{message, retry_after, global}``, ``Retry-After`` and ``X-RateLimit-Scope``.
  Discord publishes no per-route figures ("rate limits should not be hard coded").
* The per-route figures. What the API answered when measured, as recorded route by route in
  HuyaneMatsu/hata ``hata/discord/http/rate_limit_groups.py`` (commit 04506fe), checked against the
  community table in the "Rate limits for those who interact with Discord API" gist
  (gist.github.com/XynoxTheDev/8aa33c15bf0e2a550789d3f6faa475ee) where it has the route, and for a
  channel webhook against birdie0's Discord Webhooks Guide
  (https://birdie0.github.io/discord-webhooks-guide/other/rate_limits.html). Where the
  sources differ the table takes the stricter figure, and says so in the row's ``note``.
* The global window. discord.js (packages/rest ``SequentialHandler.ts``, commit 06591d9) keeps the
  global budget as 50 requests in a one-second window that starts with the first request after the
  last window ended; the fake counts it the same way.

A route with ``limit=None`` has no per-route limit that anyone has measured: only the global one
applies, and the fake answers it without ``X-RateLimit-*`` headers, as Discord does ("if the route
doesn't return a x-ratelimit-bucket, there is no ratelimit (aside from global)", discord-api-docs#1135).


How the fake meters these windows is in ``tests/fakes/discord/_meter.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "GLOBAL_PER_SECOND",
    "GLOBAL_WINDOW",
    "LIMITS",
    "Major",
    "RouteLimit",
    "bucket_hash",
    "quicker",
]

GLOBAL_PER_SECOND = 50
"""Requests a bot may make each second, all routes together, interaction endpoints aside."""

GLOBAL_WINDOW = 1.0

_DOCS = "discord.com/developers/docs/topics/rate-limits"
_HATA = "hata rate_limit_groups.py"
_GIST = "XynoxTheDev rate-limits gist"


class Major(StrEnum):
    """The top-level resource a route's bucket is kept per (Discord's major parameter)."""

    BOT = "bot"  # one bucket for the whole bot
    CHANNEL = "channel_id"
    GUILD = "guild_id"
    WEBHOOK = "webhook_id+webhook_token"


@dataclass(frozen=True, slots=True)
class RouteLimit:
    """One route's limit: calls per window, what the bucket is kept per, and where the figures come from.

    ``bucket`` names the counter; routes with the same ``bucket`` share one (per major parameter).
    ``header`` is what ``X-RateLimit-Bucket`` names, which Discord sometimes gives to separate counters.
    """

    method: str
    route: str  # as the fake spells it: /channels/{channel}/messages
    limit: int | None  # calls per window; None: no per-route limit, only the global one
    window: float  # seconds
    major: Major
    bucket: str
    source: str
    header: str = ""
    counts_globally: bool = True  # False for interaction endpoints
    note: str = ""

    @property
    def key(self) -> str:
        """``METHOD /route``, as the table is indexed."""
        return f"{self.method} {self.route}"

    @property
    def header_name(self) -> str:
        """The name behind ``X-RateLimit-Bucket``: ``header``, else the bucket's own."""
        return self.header or self.bucket


def _measured(
    method: str,
    route: str,
    limit: int,
    window: float,
    major: Major,
    bucket: str,
    hata: str,
    *,
    header: str = "",
    counts_globally: bool = True,
    note: str = "",
) -> RouteLimit:
    source = f"{_HATA}: {hata}"
    return RouteLimit(method, route, limit, window, major, bucket, source, header, counts_globally, note)


def _global_only(method: str, route: str, hata: str, *, counts_globally: bool = True, note: str = "") -> RouteLimit:
    source = f"{_HATA}: {hata}"
    return RouteLimit(method, route, None, 0.0, Major.BOT, f"{method} {route}", source, "", counts_globally, note)


_WEBHOOK_GUIDE = "birdie0 discord-webhooks-guide, Rate Limits"
_REACTIONS = "/channels/{channel}/messages/{message}/reactions/{emoji}"
_WEBHOOK_MESSAGE = "/webhooks/{app}/{token}/messages/{webhook_message}"
_FOLLOW_UP = "hata GROUP_INTERACTION_EXECUTE: 5 per 2 s per interaction"

_ROWS = (
    _global_only("GET", "/gateway", "client_gateway_hooman -> GLOBAL", note="Not called by a plain discord.Client."),
    _measured("GET", "/gateway/bot", 2, 5.0, Major.BOT, "gateway_bot", "client_gateway_bot -> 2 per 5 s"),
    _global_only("GET", "/users/@me", "client_user_get -> GLOBAL, no route limit measured"),
    _measured("GET", "/users/{user}", 30, 30.0, Major.BOT, "user_get", "user_get -> 30 per 30 s"),
    _global_only(
        "POST",
        "/users/@me/channels",
        "channel_private_create -> UNLIMITED",
        note="No route limit, but Discord's Create DM page warns that opening many DMs quickly gets a bot "
        "rate limited or blocked from opening more, and answers JSON code 40003 'You are opening direct "
        "messages too fast' (developers/resources/user.mdx, opcodes-and-status-codes.mdx). Herald paces "
        "it itself (DISCORD_DMS_PER_MINUTE).",
    ),
    _global_only("GET", "/oauth2/applications/@me", "application_get_own -> GLOBAL, no route limit measured"),
    _global_only("GET", "/applications/@me", "application_get -> GLOBAL, no route limit measured"),
    _global_only("GET", "/applications/{app}/commands", "application_command_global_get_all -> UNLIMITED"),
    _measured(
        "PUT",
        "/applications/{app}/commands",
        2,
        60.0,
        Major.BOT,
        "commands_put",
        "application_command_global_update_multiple -> 2 per 60 s",
    ),
    _global_only(
        "GET", "/applications/{app}/guilds/{guild}/commands", "application_command_guild_get_all -> UNLIMITED"
    ),
    _measured(
        "PUT",
        "/applications/{app}/guilds/{guild}/commands",
        2,
        60.0,
        Major.GUILD,
        "guild_commands_put",
        "application_command_guild_update_multiple -> 2 per 60 s per guild",
    ),
    _global_only("GET", "/channels/{channel}", "no group for it: no route limit measured"),
    _measured(
        "GET", "/channels/{channel}/messages", 5, 5.0, Major.CHANNEL, "messages_get", "message_get_chunk -> 5 per 5 s"
    ),
    RouteLimit(
        "POST",
        "/channels/{channel}/messages",
        5,
        5.0,
        Major.CHANNEL,
        "message_create",
        f"{_GIST}: POST Message 5/5s per-channel; {_HATA}: message_create -> 5 per 4 s",
        header="messages",
        note="hata measured 5 per 4 s; the gist and the figure every library quotes say 5 per 5 s, the stricter.",
    ),
    _measured(
        "GET",
        "/channels/{channel}/messages/{message}",
        5,
        5.0,
        Major.CHANNEL,
        "message_get",
        "message_get -> 5 per 5 s",
    ),
    _measured(
        "PATCH",
        "/channels/{channel}/messages/{message}",
        5,
        5.0,
        Major.CHANNEL,
        "message_edit",
        "message_edit -> 5 per 4 s",
        header="messages",
        note="Measured 5 per 4 s; the table keeps 5 per 5 s, as for posting. Discord gives POST and PATCH the "
        "same X-RateLimit-Bucket value but counts them apart (discord-api-docs#1442, 2020; #8073, 2026).",
    ),
    _measured(
        "DELETE",
        "/channels/{channel}/messages/{message}",
        3,
        1.0,
        Major.CHANNEL,
        "message_delete",
        "message_delete -> 3 per 1 s",
        note="The gist says 5 per 1 s; hata's 3 is the stricter.",
    ),
    _measured(
        "POST",
        "/channels/{channel}/messages/{message}/threads",
        50,
        300.0,
        Major.BOT,
        "thread_create",
        "GROUP_THREAD_CREATE -> 50 per 300 s for the whole bot",
    ),
    _measured(
        "POST",
        "/channels/{channel}/threads",
        50,
        300.0,
        Major.BOT,
        "thread_create",
        "GROUP_THREAD_CREATE -> 50 per 300 s for the whole bot",
    ),
    _global_only("GET", _REACTIONS, "reaction_user_get_chunk -> per channel, limit not measured (OPT)"),
    RouteLimit(
        "PUT",
        _REACTIONS + "/@me",
        1,
        0.25,
        Major.CHANNEL,
        "reaction_modify",
        f"{_HATA}: GROUP_REACTION_MODIFY -> 1 per 0.25 s; {_GIST}: PUT/DELETE Reaction 1/0.25s per-channel",
    ),
    RouteLimit(
        "DELETE",
        _REACTIONS + "/@me",
        1,
        0.25,
        Major.CHANNEL,
        "reaction_modify",
        f"{_HATA}: GROUP_REACTION_MODIFY -> 1 per 0.25 s; {_GIST}: PUT/DELETE Reaction 1/0.25s per-channel",
    ),
    _global_only("GET", "/guilds/{guild}", "guild_get -> per guild, limit not measured (OPT)"),
    _measured(
        "GET",
        "/guilds/{guild}/members",
        10,
        10.0,
        Major.GUILD,
        "members_list",
        "guild_user_get_chunk -> 10 per 10 s per guild",
        note="Up to 1,000 members a page (the limit query parameter); needs the Server Members intent.",
    ),
    _measured(
        "GET",
        "/guilds/{guild}/members/{user}",
        5,
        1.0,
        Major.GUILD,
        "member_get",
        "guild_user_get -> 5 per 1 s per guild",
    ),
    _global_only("GET", "/guilds/{guild}/roles", "guild_role_get_all -> per guild, limit not measured (OPT)"),
    _global_only("GET", "/guilds/{guild}/channels", "guild_channel_get_all -> per guild, limit not measured (OPT)"),
    _global_only(
        "GET",
        "/webhooks/{webhook}/{token}",
        "webhook_get_token -> UNLIMITED",
        note="A channel webhook described to whoever holds its token (no bot token). Counted in the global "
        "window, like the execute below.",
    ),
    *(
        RouteLimit(
            method,
            route,
            5,
            2.0,
            Major.WEBHOOK,
            "webhook_execute",
            f"{_HATA}: GROUP_WEBHOOK_EXECUTE (webhook_message_create, webhook_message_edit) -> 5 per 2 s per "
            f"webhook; {_WEBHOOK_GUIDE}: 5 requests per 2 s per webhook; {_DOCS}: webhooks are a top-level "
            "resource, limited apart from the channel they post in",
            note="A channel webhook's posts and their edits, kept per webhook id + token. Sent without the bot's "
            "token: the docs leave only interaction endpoints out of the global limit and limit an unauthenticated "
            "request by its IP, which is the bot's; the fake counts them in the bot's global window, the stricter "
            "reading.",
        )
        for method, route in (
            ("POST", "/webhooks/{webhook}/{token}"),
            ("PATCH", "/webhooks/{webhook}/{token}/messages/{message}"),
        )
    ),
    _global_only(
        "POST",
        "/interactions/{interaction}/{token}/callback",
        "interaction_response_message_create -> UNLIMITED",
        counts_globally=False,
        note=f"{_DOCS}: 'Interaction endpoints are not bound to the bot's Global Rate Limit.'",
    ),
    _measured(
        "POST",
        "/webhooks/{app}/{token}",
        5,
        2.0,
        Major.WEBHOOK,
        "interaction_webhook",
        "GROUP_INTERACTION_EXECUTE -> 5 per 2 s per interaction",
        counts_globally=False,
        note="An interaction's follow-ups, kept per application id + interaction token; not in the global limit.",
    ),
    *(
        _measured(
            method,
            _WEBHOOK_MESSAGE,
            5,
            2.0,
            Major.WEBHOOK,
            "interaction_webhook",
            "GROUP_INTERACTION_EXECUTE -> 5 per 2 s per interaction",
            counts_globally=False,
        )
        for method in ("GET", "PATCH", "DELETE")
    ),
)

LIMITS: Mapping[str, RouteLimit] = MappingProxyType({row.key: row for row in _ROWS})
"""Every route the fake Discord serves, by ``METHOD /route``."""


def bucket_hash(name: str) -> str:
    """An ``X-RateLimit-Bucket`` value: 32 hex digits, the same for every route that shares ``name``."""
    return hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()


def quicker(limits: Mapping[str, RouteLimit], factor: float) -> Mapping[str, RouteLimit]:
    """The same limits with every route's window ``factor`` times shorter, so tests see buckets reset soon.

    The global window stays one second.
    """
    return MappingProxyType({key: replace(row, window=row.window / factor) for key, row in limits.items()})
