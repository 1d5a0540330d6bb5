"""The fake Discord's REST front: every request recorded, checked for the token, metered, then routed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.fakes.discord._errors import ApiError, Failure
from tests.fakes.discord._http import ApiRequest, Handler, Route, path_pattern, read_body
from tests.fakes.discord._meter import Admitted
from tests.fakes.discord._records import Call, Throttle
from tests.fakes.discord._rest_channels import ChannelRoutes
from tests.fakes.discord._rest_guilds import GuildRoutes
from tests.fakes.discord._rest_identity import IdentityRoutes
from tests.fakes.discord._rest_interactions import InteractionRoutes
from tests.fakes.discord._rest_webhooks import WebhookRoutes
from tests.fakes.discord._throttling import (
    admitted_headers,
    failure_answer,
    major_of,
    ratelimit_headers,
    refusal,
    route_bucket,
)


class Router(IdentityRoutes, ChannelRoutes, GuildRoutes, InteractionRoutes, WebhookRoutes):
    """Every served route, as discord.py's ``Route`` spells it, and the way a request reaches one."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._routes = self._route_table()

    async def _rest_unversioned(self, request: web.Request) -> web.Response:
        return await self._serve(request, "/" + request.match_info["tail"], known=False)

    async def _rest(self, request: web.Request) -> web.Response:
        return await self._serve(request, "/" + request.match_info["tail"], known=True)

    async def _serve(self, request: web.Request, path: str, *, known: bool) -> web.Response:
        at = self.clock()
        body = await read_body(request)
        query = {k: v for k, v in request.query.items()}
        headers = {k: v for k, v in request.headers.items()}
        route, answered = await self._answer(request.method, path if known else "?" + path, query, body, headers, at)
        status, payload, extra = answered
        call = Call(request.method, path, query, body, headers, status, at, route)
        self.calls.append(call)
        if status == 501 and self.enforce_limits:
            self.untabled_calls.append(call)
        if self.reply_latency:  # the request has taken effect; its answer is still on its way
            await asyncio.sleep(self.reply_latency)
        extra.setdefault("Via", "1.1 google")  # discord.py treats a 429 without Via as a Cloudflare ban
        if status == 204:
            return web.Response(status=204, headers=extra)
        return web.Response(
            status=status, headers=extra, body=json.dumps(payload).encode(), content_type="application/json"
        )

    async def _answer(
        self, method: str, path: str, query: Mapping[str, str], body: Any, headers: Mapping[str, str], at: float
    ) -> tuple[str, tuple[int, Any, dict[str, str]]]:
        """The route the call matched (``METHOD /template``, or "") and the answer: status, body, headers."""
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None or route.method != method:
                continue
            if route.needs_auth and headers.get("Authorization") != f"Bot {self.token}":
                return route.key, (401, {"code": 0, "message": "401: Unauthorized"}, {})
            params = match.groupdict()
            if not self.enforce_limits:
                roomy = ratelimit_headers(route_bucket(method, route.pattern.pattern), wall=self.wall())
                return route.key, await self._handle(route, method, path, params, query, body, roomy)
            row = self.rate_limits.get(route.key)
            if row is None:
                detail = f"no documented rate limit for {route.key} in tests/fakes/discord/limits.py"
                return route.key, (501, {"code": 0, "message": detail}, {})
            major = major_of(row, params)
            verdict = self._meter.take(row, major, at)
            if not isinstance(verdict, Admitted):
                throttle = Throttle(route.key, verdict.bucket, at, verdict.retry_after, verdict.scope, verdict.early)
                self.throttled.append(throttle)
                if verdict.early:
                    self.early_calls.append(throttle)
                refused = refusal(row, verdict.scope, verdict.retry_after, wall=self.wall())
                return route.key, refused
            limits = admitted_headers(verdict, wall=self.wall())
            failure = self._take_failure(method, path)
            if failure is not None:
                if failure.status == 429:  # Discord's own reasons (a shared limit): the bucket's state stands
                    self._meter.tell(row, major, at + failure.retry_after, global_=failure.global_)
                return route.key, failure_answer(failure, {} if failure.global_ else limits)
            return route.key, await self._run(route, method, params, query, body, limits)
        return "", (404, {"code": 0, "message": "404: Not Found"}, {})

    async def _handle(
        self,
        route: Route,
        method: str,
        path: str,
        params: Mapping[str, str],
        query: Mapping[str, str],
        body: Any,
        limits: dict[str, str],
    ) -> tuple[int, Any, dict[str, str]]:
        """Without limits: a queued failure if one matches, else the route's handler."""
        failure = self._take_failure(method, path)
        if failure is not None and failure.status == 429:
            bucket = route_bucket(method, route.pattern.pattern)
            exhausted = ratelimit_headers(bucket, remaining=0, reset_after=failure.retry_after, wall=self.wall())
            return failure_answer(failure, exhausted)
        if failure is not None:
            return failure_answer(failure, limits)
        return await self._run(route, method, params, query, body, limits)

    async def _run(
        self,
        route: Route,
        method: str,
        params: Mapping[str, str],
        query: Mapping[str, str],
        body: Any,
        limits: dict[str, str],
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            status, payload = await route.handler(ApiRequest(method, params, query, body))
        except ApiError as error:
            return error.status, error.body(), limits
        return status, payload, limits

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.matches(method, path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _route_table(self) -> list[Route]:
        """Routes as discord.py's ``Route`` spells them; the last field says whether the bot token is needed."""
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/users/{user}", self._get_user, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/applications/{app}/commands", self._get_commands, True),
            ("PUT", "/applications/{app}/commands", self._put_commands, True),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._get_commands, True),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands, True),
            ("GET", "/channels/{channel}", self._get_channel, True),
            ("GET", "/channels/{channel}/messages", self._get_messages, True),
            ("POST", "/channels/{channel}/messages", self._post_message, True),
            ("GET", "/channels/{channel}/messages/{message}", self._get_message, True),
            ("PATCH", "/channels/{channel}/messages/{message}", self._patch_message, True),
            ("DELETE", "/channels/{channel}/messages/{message}", self._delete_message, True),
            ("POST", "/channels/{channel}/messages/{message}/threads", self._thread_from_message, True),
            ("POST", "/channels/{channel}/threads", self._thread_without_message, True),
            ("GET", "/channels/{channel}/messages/{message}/reactions/{emoji}", self._get_reactions, True),
            ("PUT", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self._put_reaction, True),
            ("DELETE", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self._delete_reaction, True),
            ("GET", "/guilds/{guild}", self._get_guild, True),
            ("GET", "/guilds/{guild}/members", self._get_members, True),
            ("GET", "/guilds/{guild}/members/{user}", self._get_member, True),
            ("GET", "/guilds/{guild}/roles", self._get_roles, True),
            ("GET", "/guilds/{guild}/channels", self._get_guild_channels, True),
            ("POST", "/interactions/{interaction}/{token}/callback", self._callback, False),
            ("GET", "/webhooks/{webhook}/{token}", self._get_webhook, False),
            ("POST", "/webhooks/{webhook}/{token}", self._execute_webhook, False),
            ("PATCH", "/webhooks/{webhook}/{token}/messages/{message}", self._edit_webhook_post, False),
            ("POST", "/webhooks/{app}/{token}", self._post_followup, False),
            ("GET", "/webhooks/{app}/{token}/messages/{webhook_message}", self._get_webhook_message, False),
            ("PATCH", "/webhooks/{app}/{token}/messages/{webhook_message}", self._patch_webhook_message, False),
            ("DELETE", "/webhooks/{app}/{token}/messages/{webhook_message}", self._delete_webhook_message, False),
        ]
        return [Route(method, path, path_pattern(path), handler, auth) for method, path, handler, auth in table]

    def served_routes(self) -> list[str]:
        """Every route the fake serves, as ``METHOD /template`` (the keys of the rate-limit table)."""
        return [route.key for route in self._routes]

    def calls_per_route(self) -> dict[str, int]:
        """How many calls reached each route, busiest first (unknown paths left out)."""
        counted: dict[str, int] = {}
        for call in self.calls:
            if call.route:
                counted[call.route] = counted.get(call.route, 0) + 1
        return dict(sorted(counted.items(), key=lambda item: -item[1]))
