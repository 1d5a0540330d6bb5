"""The release API: ``POST /api/releases`` announces a release from a pipeline, ``GET /api/releases/VERSION`` says
where it stands, ``POST /api/releases/VERSION/retract`` withdraws it (a rollback), ``POST …/resend`` sends again.

A pipeline does what ``/release announce VERSION`` does in chat, through the same
``ChatFlow``: the same checks, the same refusals in the audit log, the walkthrough posted
in a chat channel, and every approval still given there by people (a token never approves).
It may hand over the release's notes (``notes``, Markdown), used instead of the plan's source.
A retraction is ``/release retract VERSION REASON`` through the same desk: in effect at
once, or waiting for an approver in chat when the plan names approvers; asked again, it
changes nothing and says where it stands. A resend is ``/release resend VERSION [GROUP] WHICH``
through the same parser and desk: it sends again, once each, to those in that set (never
attempted, failed, unread); asked again for ``missed`` or ``failed``, nobody is left to send to.
Each caller has its own bearer token (``HERALD_API_TOKENS``, compared in constant time)
and is recorded as ``api:NAME``, which the plan's announcers must name. Every answer is
JSON; a refusal is ``{"error": sentence}`` with its status (401, 400, 403, 404, 409).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from adapters.web.config import CHANNEL, ApiToken
from adapters.web.sessions import dashboard_path
from bot.domain.commands import AnnounceRelease, Resend, RetractRelease, parse_release_command
from bot.domain.destinations import Platform
from bot.domain.errors import CommandError
from bot.domain.notes import MAX_NOTES
from bot.domain.plan import Plan
from bot.domain.release import Release, ReleaseState
from bot.domain.versions import parse_version
from bot.service.chat.flow import ChatFlow
from bot.service.desk import ReleaseDesk
from bot.service.views import Notice, Tone

_FIELDS = frozenset({"version", "channel", "notes", "components"})
_NO_STORE = {"Cache-Control": "no-store"}
RETRACTION_WAITING = "retraction_waiting"  # the state a retraction waiting for an approver answers with
_RESEND_FORM = 'The body must be JSON such as {"which": "missed", "group": "support"} (group may be left out).'
_WORD = re.compile(r"\S+")


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
        self._retracting = asyncio.Lock()  # likewise: a retried retraction sees the first one, and changes nothing

    def routes(self) -> list[web.RouteDef]:
        """``/api/releases`` and below."""
        return [
            web.post("/api/releases", self.announce),
            web.get("/api/releases/{version}", self.release),
            web.post("/api/releases/{version}/retract", self.retract),
            web.post("/api/releases/{version}/resend", self.resend),
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
        # As typed in chat: a version (or a monorepo's tag, api-v2.4.0) and what it is a release of.
        typed = " ".join(("announce", str(body["version"]), ",".join(body.get("components") or ())))
        try:
            parsed = parse_release_command(typed.strip(), caller.actor)
        except CommandError as error:
            return _error(400, str(error))
        if not isinstance(parsed, AnnounceRelease):  # "announce …" parses to nothing else; a guard for the types
            return _error(400, "That is not a release to announce.")
        version = parsed.version
        said = " ".join(("announce", version, ",".join(parsed.components))).strip()
        channel = body.get("channel") or self._default_channel
        if channel is None:
            return _error(400, "Say where to post the walkthrough: give channel, or set HERALD_ANNOUNCE_CHANNEL.")
        platform, _, room = channel.partition(":")
        flow = self._flows.get(Platform(platform))
        if flow is None:
            return _error(409, f"Herald is not serving {platform.title()}, so it cannot post in {channel}.")
        async with self._announcing:
            known = await self._desk.walkthrough(version) is not None
            outcome = await flow.command(caller.actor, said, room, notes=body.get("notes"))
        if outcome.reply.failed:
            plan = self._desk.plan
            refused = caller.actor not in plan.announcers or plan.out_of_scope(caller.actor, plan.group_ids) is not None
            return _error(403 if refused else 409, outcome.text)
        if outcome.failed_to_post:
            return _error(409, outcome.text)
        found = await self._desk.walkthrough(version)
        if found is None:  # announced a moment ago: only a store that forgets could lose it
            return _error(409, f"Release {version} is not known here.")
        return self._answer(found[0], outcome.text, status=200 if known else 201)

    async def release(self, request: web.Request) -> web.Response:
        """Where a release stands, with its status counts (no names), for a pipeline that waits."""
        called = self._called_on_a_release(request)
        if isinstance(called, web.Response):
            return called
        _, version = called
        found = await self._desk.walkthrough(version)
        if found is None:
            return _error(404, f"Release {version} has not been announced.")
        release = found[0]
        status = await self._desk.status(version, names=False)
        return self._answer(release, _where(release), extra={"status": status.as_json()})

    async def retract(self, request: web.Request) -> web.Response:
        """Withdraw a release being or already sent; 202 when recorded, 200 (nothing new) when it already was.

        Recorded means in effect, or (the plan names approvers) waiting for an approver's
        ``/release approve VERSION`` in chat. Every refusal but a malformed call is the desk's, so it is audited.
        """
        called = self._called_on_a_release(request)
        if isinstance(called, web.Response):
            return called
        caller, version = called
        reason = await _reason(request)
        if reason is None:
            return _error(400, 'The body must be JSON such as {"reason": "rolled back: the migration failed"}.')
        actor = caller.actor
        may = actor in self._desk.plan.announcers or actor in self._desk.plan.approvers
        async with self._retracting:
            found = await self._desk.walkthrough(version)
            before = found[0] if found is not None else None
            if may and before is not None and before.retraction is not None:  # asked again: where it stands
                return self._answer(before, _where(before), state=_state(before))
            reply = await self._desk.handle(RetractRelease(actor=actor, version=version, reason=reason))
        said = " ".join(view.text for view in reply.views if isinstance(view, Notice))
        if reply.failed:
            scoped = before is not None and self._desk.plan.out_of_scope(actor, before.communiques) is not None
            return _error(_refusal_status(before, may=may and not scoped, reason=reason), said)
        found = await self._desk.walkthrough(version)
        if found is None:  # retracted a moment ago: only a store that forgets could lose it
            return _error(409, f"Release {version} is not known here.")
        self._redraw(found[0])
        return self._answer(found[0], said, status=202, state=_state(found[0]))

    async def resend(self, request: web.Request) -> web.Response:
        """Send again, once each, to one set of a release's people; 202 when some are, 200 when nobody is left.

        ``which`` (``missed``, ``failed``, …) and ``group`` are read by ``/release resend``'s own
        parser, so the API takes exactly what chat takes. Every refusal but a malformed call is the desk's,
        so it is audited. A resend needs no lock: the desk sends again only to rows still in that set.
        """
        called = self._called_on_a_release(request)
        if isinstance(called, web.Response):
            return called
        caller, version = called
        words = await _resend_words(request)
        if words is None:
            return _error(400, _RESEND_FORM)
        try:
            command = parse_release_command(" ".join(("resend", version, *words)), caller.actor)
        except CommandError as error:  # a word that is not a set, a group id that cannot be one
            return _error(400, str(error))
        group_id = command.group_id if isinstance(command, Resend) else None
        reply = await self._desk.handle(command)
        said = " ".join(view.text for view in reply.views if isinstance(view, Notice))
        found = await self._desk.walkthrough(version)
        if reply.failed:
            release = found[0] if found is not None else None
            return _error(_resend_refusal(release, self._desk.plan, caller.actor, group_id), said)
        if found is None:  # resent a moment ago: only a store that forgets could lose it
            return _error(409, f"Release {version} is not known here.")
        # The desk's sentence is a success only when someone is sent to again; otherwise nobody was left.
        sending = any(isinstance(view, Notice) and view.tone is Tone.SUCCESS for view in reply.views)
        if sending:
            self._redraw(found[0], (group_id,) if group_id else ())
        return self._answer(found[0], said, status=202 if sending else 200)

    # -- the parts -------------------------------------------------------------------

    def _redraw(self, release: Release, groups: tuple[str, ...] = ()) -> None:
        """Redraw the release's message (and ``groups``' communiqués) in its thread, on the platform that holds it."""
        platform = (release.thread or "").partition(":")[0]
        flow = next((f for p, f in self._flows.items() if p.value == platform), None)
        if flow is not None:
            flow.progress(release.version, groups)

    def _called_on_a_release(self, request: web.Request) -> tuple[ApiToken, str] | web.Response:
        """The caller and the path's release version of an action on a release, or the 401/400 that refuses it."""
        caller = self._caller(request)
        if caller is None:
            return _unauthorized()
        try:
            return caller, parse_version(request.match_info["version"])
        except CommandError as error:
            return _error(400, str(error))

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
        self,
        release: Release,
        message: str,
        *,
        status: int = 200,
        state: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> web.Response:
        return web.json_response(
            {
                "version": release.version,
                "state": state or release.state.value,
                "status_url": self._base + dashboard_path(release.version),
                "thread": release.thread,
                "message": message,
                **(extra or {}),
            },
            status=status,
            headers=_NO_STORE,
        )


async def _body(request: web.Request) -> dict[str, Any] | str:
    """The call's ``{"version": …, "channel": …, "notes": …, "components": […]}``, or the sentence saying what is
    wrong with it."""
    try:
        body = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        return 'The body must be JSON such as {"version": "2.4", "channel": "slack:C0123ABCD"}.'
    if not isinstance(body, dict):
        return 'The body must be a JSON object such as {"version": "2.4"}.'
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return (
            f"The body has {', '.join(map(str, unknown))}, which Herald does not take; it takes version, channel, "
            "notes and components."
        )
    if not isinstance(body.get("version"), str) or not body["version"].strip():
        return 'The body must give the release version as a string, e.g. {"version": "2.4"}.'
    if len(body["version"].split()) > 1:  # one word, as typed in chat: the rest would read as components
        return f"“{body['version'][:40]}” is not a release version; write it like 2.4, 2.4.1 or api-v2.4.0."
    channel = body.get("channel")
    if channel is not None and not (isinstance(channel, str) and CHANNEL.fullmatch(channel)):
        return "channel must be a chat channel such as slack:C0123ABCD or discord:123456789012345678."
    components = body.get("components")
    if components is not None and not (
        isinstance(components, list) and all(isinstance(c, str) and c and "," not in c for c in components)
    ):
        return 'components must be a list of component names, e.g. ["api", "web"].'
    notes = body.get("notes")
    if notes is not None and not isinstance(notes, str):
        return "notes must be the release notes as one Markdown string."
    if isinstance(notes, str) and len(notes) > MAX_NOTES:
        return f"notes are {len(notes):,} characters long; Herald takes at most {MAX_NOTES:,} (GitHub's own limit)."
    return {key: value for key, value in body.items() if value is not None}


async def _reason(request: web.Request) -> str | None:
    """The retraction's ``{"reason": …}`` (blank is the desk's to refuse), or None when the body is not that."""
    try:
        body = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or set(body) - {"reason"} or not isinstance(body.get("reason", ""), str):
        return None
    return str(body.get("reason", ""))


async def _resend_words(request: web.Request) -> tuple[str, ...] | None:
    """The resend's ``{"which": …, "group": …}`` as the words after the version, or None when the body is not that.

    Each must be one word: the parser reads them as typed, and a space would make two.
    """
    try:
        body = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or set(body) - {"which", "group"}:
        return None
    group, which = body.get("group"), body.get("which")
    words = (which,) if group is None else (group, which)
    if not all(isinstance(word, str) and _WORD.fullmatch(word) for word in words):
        return None
    return tuple(str(word) for word in words)


def _resend_refusal(release: Release | None, plan: Plan, actor: str, group_id: str | None) -> int:
    """The status of a resend the desk refused, checked in the desk's order: release, group, caller, state."""
    if release is None:
        return 404
    if group_id is not None and group_id not in release.communiques:
        return 400
    may = actor in plan.announcers or actor in plan.approvers
    if not may or plan.out_of_scope(actor, release.communiques) is not None:
        return 403
    return 409


def _refusal_status(release: Release | None, *, may: bool, reason: str) -> int:
    """The status of a retraction the desk refused, checked in the desk's order: release, caller, state, reason."""
    if release is None:
        return 404
    if not may:
        return 403
    return 400 if release.sending_began and not reason.strip() else 409


def _state(release: Release) -> str:
    """A retraction's state for the API: ``retracted``, or ``retraction_waiting`` while it waits for an approver."""
    return RETRACTION_WAITING if release.retraction_waiting else release.state.value


def _where(release: Release) -> str:
    """Where a release stands, in one sentence."""
    if release.state is ReleaseState.RETRACTED and release.retraction is not None:
        return f"Release {release.version} was retracted: {release.retraction.reason}"
    if release.retraction_waiting and release.retraction is not None:
        return (
            f"A retraction of {release.version} waits for an approver in chat (/release approve "
            f"{release.version}): {release.retraction.reason}"
        )
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
