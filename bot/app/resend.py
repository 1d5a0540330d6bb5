"""``herald resend VERSION [GROUP] WHICH``: a pipeline's client of the release API (``POST …/resend``).

Like ``herald retract`` it talks to a running Herald (``HERALD_API_URL``, else
``HERALD_PUBLIC_URL``) with the pipeline's token (``HERALD_API_TOKEN``), and prints
Herald's one sentence. ``WHICH`` is read by the server, as ``/release resend`` reads it in
chat (``missed``, ``failed``, ``unread``). Exit status: 0 the desk took it (sending again,
or nobody left to send to: the sentence says which), 1 refused or unreachable.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import TextIO
from urllib.parse import quote

import aiohttp

from bot.app.announce import EXIT_REFUSED, ApiClient, _call, _Refused
from bot.domain.errors import HeraldError
from bot.domain.versions import parse_version

EXIT_ACCEPTED = 0
_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)


def run_resend(
    version: str, which: str, *, group: str | None = None, environ: Mapping[str, str], out: TextIO | None = None
) -> int:
    """``herald resend``: the client from the environment, one resend, its exit status."""
    shown = out if out is not None else sys.stdout
    try:
        client = ApiClient.from_environment(environ)
        canonical = parse_version(version)
    except HeraldError as error:
        print(f"herald: {error}", file=sys.stderr if out is None else out)
        return EXIT_REFUSED
    return asyncio.run(resend(client, canonical, which, group=group, out=shown))


async def resend(client: ApiClient, version: str, which: str, *, group: str | None = None, out: TextIO) -> int:
    """Send ``version`` again to the ``which`` set (of ``group``, else every group); print Herald's sentence."""
    headers = {"Authorization": f"Bearer {client.token}", "Accept": "application/json"}
    url = f"{client.url}/api/releases/{quote(version, safe='')}/resend"
    body = {"which": which, **({"group": group} if group is not None else {})}
    async with aiohttp.ClientSession(headers=headers, timeout=_REQUEST_TIMEOUT) as http:
        try:
            answer = await _call(http, "POST", url, body)
        except _Refused as error:
            print(f"herald: {error}", file=out)
            return EXIT_REFUSED
    print(answer.get("message") or f"Release {answer['version']} is {answer['state']}.", file=out)
    return EXIT_ACCEPTED
