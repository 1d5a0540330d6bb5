"""Slack's endpoint under fuzzing: whatever body and headers arrive, signed or not, Herald never answers 5xx.

Herald serves over real HTTP from its own thread (its own event loop, the fake Slack
beside it); hypothesis posts 2,000 requests: random bytes, JSON of any shape and depth,
form bodies with any ``payload``, any content type, signed correctly or not at all, with
junk or far-off timestamps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack.server import HttpServer
from tests.adapters.slack.conftest import SECRET, herald_on, seed
from tests.fakes.slack import FakeSlack


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, int]]:
    """Herald's /slack/events on 127.0.0.1, served from a thread of its own."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        async with FakeSlack() as slack:
            seed(slack)
            _herald, front, _store, _clock = herald_on(slack, {"SLACK_SIGNING_SECRET": SECRET})
            server = HttpServer(front.app, "127.0.0.1", 0, signing_secret=front.signing_secret)
            await server.start()
            box.update(port=server.port, stop=asyncio.Event(), loop=asyncio.get_running_loop())
            ready.set()
            await box["stop"].wait()
            await server.close()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(30), "Herald did not start"
    yield "127.0.0.1", box["port"]
    box["loop"].call_soon_threadsafe(box["stop"].set)
    thread.join(30)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_deep = st.integers(min_value=1, max_value=200_000).map(lambda n: "[" * n + "]" * n)
_bodies = st.one_of(
    st.binary(max_size=500),
    _json.map(lambda value: json.dumps(value).encode()),
    _deep.map(str.encode),
    _json.map(lambda value: ("payload=" + quote(json.dumps(value))).encode()),
    st.text(max_size=200).map(lambda text: ("payload=" + quote(text)).encode()),
    st.dictionaries(st.sampled_from(["command", "text", "user_id", "type", "token"]), st.text(max_size=30)).map(
        lambda fields: "&".join(f"{k}={quote(v)}" for k, v in fields.items()).encode()
    ),
)
_types = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data; boundary=x"]
)
_stamps = st.one_of(
    st.just("now"),
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12),
    st.sampled_from(["²", "١٢٣", "1" * 5000, "-1", "0", "99999999999999999999"]),
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies, content_type=_types, stamp=_stamps, signed=st.booleans())
def test_no_request_makes_the_endpoint_answer_5xx(
    endpoint: tuple[str, int], body: bytes, content_type: str, stamp: str, signed: bool
) -> None:
    """Any body, content type and timestamp, correctly signed or not: 2xx or 4xx, never 5xx."""
    timestamp = str(int(time.time())) if stamp == "now" else stamp
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp}
    if signed:
        base = b"v0:" + timestamp.encode("utf-8", "replace") + b":" + body
        headers["X-Slack-Signature"] = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    host, port = endpoint
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        encoded = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}
        connection.request("POST", urlsplit("/slack/events").path, body=body, headers=encoded)
        status = connection.getresponse().status
    finally:
        connection.close()
    assert status < 500
