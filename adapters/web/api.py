"""The release API: ``POST /api/releases`` announces a release from a pipeline, ``GET /api/releases/VERSION`` says
where it stands.

A pipeline does what ``/release announce VERSION`` does in chat, through the same
``ChatFlow``: the same checks, the same refusals in the audit log, the walkthrough posted
in a chat channel, and every approval still given there by people (a token never approves).
Each caller has its own bearer token (``HERALD_API_TOKENS``, compared in constant time)
and is recorded as ``api:NAME``, which the plan's announcers must name. Every answer is
JSON; a refusal is ``{"error": sentence}`` with its status (401, 400, 403, 404, 409).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from adapters.web.config import CHANNEL, ApiToken
from adapters.web.sessions import dashboard_path
from bot.domain.destinations import Platform
from bot.domain.errors import CommandError
from bot.domain.release import Release, ReleaseState
from bot.domain.versions import parse_version
from bot.service.chat.flow import ChatFlow
from bot.service.desk import ReleaseDesk

_FIELDS = frozenset({"version", "channel"})
_NO_STORE = {"Cache-Control": "no-store"}


class ReleaseApi:
    """The release API's routes, for the callers ``tokens`` names, posting through each platform's flow."""

    def __init__(
        self,
        desk: ReleaseDesk,
        flows: Mapping[Platform, ChatFlow],
        tokens: tuple[ApiToken, ...],
        public_url: str,
        *,
        default_channel: str | None = None,
    ) -> None:
        self._desk = desk
        self._flows = flows
        self._tokens = tokens
        self._base = public_url.rstrip("/")
        self._default_channel = default_channel
        self._announcing = asyncio.Lock()  # one announcement at a time: a retried call sees the first one's thread

    def routes(self) -> list[web.RouteDef]:
        """``/api/releases`` and below."""
        return [
            web.post("/api/releases", self.announce),
            web.get("/api/releases/{version}", self.release),
        ]

    # -- the calls -------------------------------------------------------------------

    async def announce(self, request: web.Request) -> web.Response:
        """Announce a release and post its walkthrough; 201 the first time, 200 (nothing new) after."""
        caller = self._caller(request)
        if caller is None:
            return _unauthorized()
        body = await _body(request)
        if isinstance(body, str):
            return _error(400, body)
        try:
            version = parse_version(body["version"])
        except CommandError as error:
            return _error(400, str(error))
        channel = body.get("channel") or self._default_channel
        if channel is None:
            return _error(400, "Say where to post the walkthrough: give channel, or set HERALD_ANNOUNCE_CHANNEL.")
        platform, _, room = channel.partition(":")
        flow = self._flows.get(Platform(platform))
        if flow is None:
            return _error(409, f"Herald is not serving {platform.title()}, so it cannot post in {channel}.")
        async with self._announcing:
            known = await self._desk.walkthrough(version) is not None
            outcome = await flow.command(caller.actor, f"announce {version}", room)
        if outcome.reply.failed:
            refused = caller.actor not in self._desk.plan.announcers
            return _error(403 if refused else 409, outcome.text)
        if outcome.failed_to_post:
            return _error(409, outcome.text)
        found = await self._desk.walkthrough(version)
        if found is None:  # announced a moment ago: only a store that forgets could lose it
            return _error(409, f"Release {version} is not known here.")
        return self._answer(found[0], outcome.text, status=200 if known else 201)

    async def release(self, request: web.Request) -> web.Response:
        """Where a release stands, with its status counts (no names), for a pipeline that waits."""
        if self._caller(request) is None:
            return _unauthorized()
        try:
            version = parse_version(request.match_info["version"])
        except CommandError as error:
            return _error(400, str(error))
        found = await self._desk.walkthrough(version)
        if found is None:
            return _error(404, f"Release {version} has not been announced.")
        release = found[0]
        status = await self._desk.status(version, names=False)
        return self._answer(release, _where(release), extra={"status": status.as_json()})

    # -- the parts -------------------------------------------------------------------

    def _caller(self, request: web.Request) -> ApiToken | None:
        """Whose bearer token the request carries: every token is compared, in constant time."""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return None
        offered = given.strip().encode()
        found = None
        for caller in self._tokens:
            if hmac.compare_digest(offered, caller.token.reveal().encode()):
                found = caller
        return found

    def _answer(
        self, release: Release, message: str, *, status: int = 200, extra: Mapping[str, Any] | None = None
    ) -> web.Response:
        return web.json_response(
            {
                "version": release.version,
                "state": release.state.value,
                "status_url": self._base + dashboard_path(release.version),
                "thread": release.thread,
                "message": message,
                **(extra or {}),
            },
            status=status,
            headers=_NO_STORE,
        )


async def _body(request: web.Request) -> dict[str, str] | str:
    """The call's ``{"version": …, "channel": …}``, or the sentence saying what is wrong with it."""
    try:
        body = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        return 'The body must be JSON such as {"version": "2.4", "channel": "slack:C0123ABCD"}.'
    if not isinstance(body, dict):
        return 'The body must be a JSON object such as {"version": "2.4"}.'
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return f"The body has {', '.join(map(str, unknown))}, which Herald does not take; it takes version and channel."
    if not isinstance(body.get("version"), str):
        return 'The body must give the release version as a string, e.g. {"version": "2.4"}.'
    channel = body.get("channel")
    if channel is not None and not (isinstance(channel, str) and CHANNEL.fullmatch(channel)):
        return "channel must be a chat channel such as slack:C0123ABCD or discord:123456789012345678."
    return {key: value for key, value in body.items() if value is not None}


def _where(release: Release) -> str:
    """Where a release stands, in one sentence."""
    if release.state is ReleaseState.CANCELLED:
        when = release.cancelled_at.strftime("%Y-%m-%d %H:%M UTC") if release.cancelled_at else "earlier"
        return f"Release {release.version} was cancelled by {release.cancelled_by or 'someone'} ({when})."
    return {
        ReleaseState.VALIDATING: f"Release {release.version} is being reviewed in chat.",
        ReleaseState.AWAITING_APPROVAL: f"Release {release.version} is waiting for the final approval in chat.",
        ReleaseState.SENDING: f"Release {release.version} is being sent.",
        ReleaseState.SENT: f"Release {release.version} has been sent.",
    }.get(release.state, f"Release {release.version} is {release.state.value}.")


def _error(status: int, sentence: str) -> web.Response:
    return web.json_response({"error": sentence}, status=status, headers=_NO_STORE)


def _unauthorized() -> web.Response:
    response = _error(401, "Give a valid release API token: Authorization: Bearer TOKEN (one of HERALD_API_TOKENS).")
    response.headers["WWW-Authenticate"] = 'Bearer realm="herald"'
    return response
