"""``herald retract VERSION REASON...``: a rollback job's client of the release API (``POST …/retract``).

Like ``herald announce`` it talks to a running Herald (``HERALD_API_URL``, else
``HERALD_PUBLIC_URL``) with the pipeline's token (``HERALD_API_TOKEN``), and prints
Herald's one sentence. Exit status: 0 the retraction is recorded (in effect, or waiting
for an approver in chat: the sentence says which), 1 refused or unreachable.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO
from urllib.parse import quote

import aiohttp

from bot.app.announce import EXIT_REFUSED, ApiClient, _call, _Refused
from bot.domain.errors import HeraldError
from bot.domain.versions import parse_version

EXIT_RECORDED = 0
_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)


def run_retract(version: str, reason: Sequence[str], *, environ: Mapping[str, str], out: TextIO | None = None) -> int:
    """``herald retract``: the client from the environment, one retraction, its exit status."""
    shown = out if out is not None else sys.stdout
    try:
        client = ApiClient.from_environment(environ)
        canonical = parse_version(version)
    except HeraldError as error:
        print(f"herald: {error}", file=sys.stderr if out is None else out)
        return EXIT_REFUSED
    return asyncio.run(retract(client, canonical, " ".join(reason), out=shown))


async def retract(client: ApiClient, version: str, reason: str, *, out: TextIO) -> int:
    """Retract ``version`` for ``reason``; print Herald's sentence (and where a waiting one is approved)."""
    headers = {"Authorization": f"Bearer {client.token}", "Accept": "application/json"}
    url = f"{client.url}/api/releases/{quote(version, safe='')}/retract"
    async with aiohttp.ClientSession(headers=headers, timeout=_REQUEST_TIMEOUT) as http:
        try:
            answer = await _call(http, "POST", url, {"reason": reason})
        except _Refused as error:
            print(f"herald: {error}", file=out)
            return EXIT_REFUSED
    print(answer.get("message") or f"Release {answer['version']} is {answer['state']}.", file=out)
    return EXIT_RECORDED
