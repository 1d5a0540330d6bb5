"""``herald announce VERSION``: a release pipeline's client of the release API (``POST /api/releases``).

It announces the release on a running Herald (``HERALD_API_URL``, else ``HERALD_PUBLIC_URL``)
with the pipeline's token (``HERALD_API_TOKEN``, from the environment only: a flag would
show in the pipeline's log and the process list), prints where to follow it, and with
``--wait`` asks again until people have approved and Herald has sent it in chat.
Exit status: 0 announced (with ``--wait``: sent), 1 refused, unreachable, cancelled or retracted,
2 still not sent when the timeout passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import aiohttp

from bot.domain.commands import AnnounceRelease, parse_release_command
from bot.domain.durations import parse_duration
from bot.domain.errors import CommandError, ConfigError, HeraldError
from bot.domain.notes import MAX_NOTES

EXIT_SENT = 0
EXIT_REFUSED = 1
EXIT_TIMED_OUT = 2
POLL_EVERY = 10.0  # seconds between two questions while waiting
_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass(frozen=True, slots=True)
class ApiClient:
    """Where Herald's release API is, and the pipeline's token (never printed)."""

    url: str
    token: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ApiClient:
        """``HERALD_API_URL`` (else ``HERALD_PUBLIC_URL``) and ``HERALD_API_TOKEN``.

        Raises:
            ConfigError: when either is missing.
        """
        url = (environ.get("HERALD_API_URL") or environ.get("HERALD_PUBLIC_URL") or "").strip().rstrip("/")
        token = environ.get("HERALD_API_TOKEN", "").strip()
        if not url.startswith(("http://", "https://")):
            raise ConfigError("Set HERALD_API_URL to Herald's address, e.g. https://herald.example.com")
        if not token:
            raise ConfigError("Set HERALD_API_TOKEN to this pipeline's token (one of the server's HERALD_API_TOKENS)")
        return cls(url, token)


class _Refused(Exception):
    """The API answered with an error: the sentence to print."""


class _Unreachable(_Refused):
    """No answer from Herald (refused connection, time-out, a proxy's 5xx)."""


def run_announce(
    version: str,
    *,
    channel: str | None,
    wait: bool,
    timeout: timedelta,
    environ: Mapping[str, str],
    out: TextIO | None = None,
    notes: str | None = None,
    components: Sequence[str] = (),
) -> int:
    """``herald announce``: the client from the environment, one announcement, its exit status.

    ``notes`` names a file of the release's notes (``-``: standard input), sent instead of the plan's source;
    ``components`` what the release is of (a monorepo's tag, ``api-v2.4.0``, names its own).
    """
    shown = out if out is not None else sys.stdout
    try:
        client = ApiClient.from_environment(environ)
        named = parse_release_command(f"announce {version} {','.join(components)}".strip(), "api:herald")
        if not isinstance(named, AnnounceRelease):
            raise CommandError(f"“{version}” is not a release version")
        text = read_notes_file(notes) if notes is not None else None
    except HeraldError as error:
        print(f"herald: {error}", file=sys.stderr if out is None else out)
        return EXIT_REFUSED
    return asyncio.run(
        announce(
            client,
            named.version,
            channel=channel,
            wait=wait,
            within=timeout,
            notes=text,
            components=named.components,
            out=shown,
        )
    )


def read_notes_file(name: str) -> str:
    """The release notes in file ``name`` (``-``: standard input), checked before anything is sent.

    Raises:
        ConfigError: the file cannot be read, is not UTF-8 text, or is longer than Herald takes.
    """
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"the notes file {name} is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"cannot read the notes file {name}: {error.strerror or error}") from None
    if len(text) > MAX_NOTES:
        raise ConfigError(f"the notes file {name} is {len(text):,} characters long; Herald takes at most {MAX_NOTES:,}")
    if not text.strip():
        raise ConfigError(f"the notes file {name} is empty")
    return text


def duration_argument(text: str) -> timedelta:
    """``--timeout``'s value (``30m``, ``1h``, ``2d``), for argparse."""
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


async def announce(
    client: ApiClient,
    version: str,
    *,
    channel: str | None = None,
    wait: bool = False,
    within: timedelta = timedelta(hours=1),
    every: float = POLL_EVERY,
    notes: str | None = None,
    components: Sequence[str] = (),
    out: TextIO,
) -> int:
    """Announce ``version`` (with its ``notes``), print where to follow it; with ``wait``, follow it until sent,
    cancelled or ``within``."""
    headers = {"Authorization": f"Bearer {client.token}", "Accept": "application/json"}
    body: dict[str, Any] = {"version": version, **({"channel": channel} if channel else {})}
    if notes is not None:
        body["notes"] = notes
    if components:
        body["components"] = list(components)
    async with aiohttp.ClientSession(headers=headers, timeout=_REQUEST_TIMEOUT) as http:
        try:
            answer = await _call(http, "POST", f"{client.url}/api/releases", body)
        except _Refused as error:
            print(f"herald: {error}", file=out)
            return EXIT_REFUSED
        print(answer.get("message") or f"Release {answer['version']} is {answer['state']}.", file=out)
        print(f"Status: {answer['status_url']}", file=out)
        print(f"Thread: {answer.get('thread') or 'not posted'}", file=out)
        if not wait:
            return EXIT_SENT
        return await _follow(http, client, str(answer["version"]), within, every, out)


async def _follow(
    http: aiohttp.ClientSession, client: ApiClient, version: str, within: timedelta, every: float, out: TextIO
) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within.total_seconds()
    url = f"{client.url}/api/releases/{quote(version, safe='')}"
    said = ""
    while True:
        try:
            answer = await _call(http, "GET", url)
        except _Refused as error:
            print(f"herald: {error}", file=out)
            return EXIT_REFUSED
        except _Unreachable as error:  # Herald restarting: the release is in its ledger; ask again
            answer = {"state": "", "message": f"{error}; asking again"}
        if answer.get("message") and answer["message"] != said:
            said = answer["message"]
            print(said, file=out)
        if answer["state"] == "sent":
            return EXIT_SENT
        if answer["state"] in ("cancelled", "retracted"):  # it will never be sent
            return EXIT_REFUSED
        if loop.time() + every > deadline:
            print(f"herald: release {version} was not sent within {_span(within)}; see its status page.", file=out)
            return EXIT_TIMED_OUT
        await asyncio.sleep(every)


async def _call(http: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> dict[str, Any]:
    """One call; its JSON answer, or ``_Refused`` with a sentence."""
    try:
        async with http.request(method, url, json=body) as response:
            text = await response.text()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        raise _Unreachable(f"cannot reach Herald at {url}: {type(error).__name__} {error}".rstrip()) from None
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if not isinstance(found, dict):
        if status >= 500:
            raise _Unreachable(f"Herald at {url} answered HTTP {status}")
        raise _Refused(
            f"{url} answered HTTP {status}, not Herald's release API: check HERALD_API_URL, and that the server "
            "has HERALD_API_TOKENS set"
        )
    if status == 401:
        raise _Refused(f"Herald refused the token (HTTP 401): check HERALD_API_TOKEN. {found.get('error', '')}")
    if status >= 400:
        raise _Refused(f"Herald refused (HTTP {status}): {found.get('error', 'no reason given')}")
    return found


def _span(within: timedelta) -> str:
    seconds = int(within.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
