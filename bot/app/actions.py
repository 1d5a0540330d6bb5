"""A release pipeline's actions on a running Herald, through its release API, each one sentence back.

``herald retract VERSION REASON...`` (``POST …/retract``, a rollback job) and ``herald resend
VERSION [GROUP] missed|failed|unread`` (``POST …/resend``). Like ``herald announce`` they talk
to a running Herald (``HERALD_API_URL``, else ``HERALD_PUBLIC_URL``) with the pipeline's
token (``HERALD_API_TOKEN``) and print Herald's sentence. Exit status: 0 recorded (a
retraction in effect or waiting for an approver; a resend sent, or nobody left to send to),
1 refused or unreachable.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO
from urllib.parse import quote

import aiohttp

from bot.app.announce import EXIT_REFUSED, ApiClient, _call, _Refused
from bot.domain.errors import HeraldError
from bot.domain.versions import parse_version

EXIT_RECORDED = 0
_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)


def run_retract(version: str, reason: Sequence[str], *, environ: Mapping[str, str], out: TextIO | None = None) -> int:
    """``herald retract``: the client from the environment, one retraction, its exit status."""
    return _run(version, "retract", {"reason": " ".join(reason)}, environ, out)


def run_resend(
    version: str, which: str, *, group: str | None = None, environ: Mapping[str, str], out: TextIO | None = None
) -> int:
    """``herald resend``: the client from the environment, one resend, its exit status."""
    return _run(version, "resend", {"which": which, **({"group": group} if group is not None else {})}, environ, out)


async def retract(client: ApiClient, version: str, reason: str, *, out: TextIO) -> int:
    """Retract ``version`` for ``reason``; print Herald's sentence (and where a waiting one is approved)."""
    return await act(client, version, "retract", {"reason": reason}, out=out)


async def resend(client: ApiClient, version: str, which: str, *, group: str | None = None, out: TextIO) -> int:
    """Send ``version`` again to the ``which`` set (of ``group``, else every group); print Herald's sentence."""
    return await act(client, version, "resend", {"which": which, **({"group": group} if group else {})}, out=out)


async def act(client: ApiClient, version: str, action: str, body: dict[str, Any], *, out: TextIO) -> int:
    """``POST /api/releases/VERSION/ACTION`` once; print Herald's sentence; the exit status."""
    headers = {"Authorization": f"Bearer {client.token}", "Accept": "application/json"}
    url = f"{client.url}/api/releases/{quote(version, safe='')}/{action}"
    async with aiohttp.ClientSession(headers=headers, timeout=_REQUEST_TIMEOUT) as http:
        try:
            answer = await _call(http, "POST", url, body)
        except _Refused as error:
            print(f"herald: {error}", file=out)
            return EXIT_REFUSED
    print(answer.get("message") or f"Release {answer['version']} is {answer['state']}.", file=out)
    return EXIT_RECORDED


def _run(version: str, action: str, body: dict[str, Any], environ: Mapping[str, str], out: TextIO | None) -> int:
    shown = out if out is not None else sys.stdout
    try:
        client = ApiClient.from_environment(environ)
        canonical = parse_version(version)
    except HeraldError as error:
        print(f"herald: {error}", file=sys.stderr if out is None else out)
        return EXIT_REFUSED
    return asyncio.run(act(client, canonical, action, body, out=shown))
