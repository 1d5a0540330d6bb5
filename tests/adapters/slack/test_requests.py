"""Herald's Slack endpoint refuses anything not signed by Slack, with 401 and never 500."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from tests.adapters.slack.conftest import SECRET, SlackWorld
from tests.fakes.slack import SignedRequest, sign, slash_command


def _command(world: SlackWorld, *, secret: str = SECRET, timestamp: int | None = None) -> SignedRequest:
    return slash_command(
        secret,
        text="help",
        user_id="U0ANNOUNCE1",
        channel_id="C0RELEASE",
        response_url=world.slack.response_url("help"),
        timestamp=timestamp,
    )


async def test_a_signed_command_is_acknowledged(slack_world: SlackWorld) -> None:
    """A correctly signed slash command gets its 200 at once, and the help arrives by response_url."""
    started = time.monotonic()
    response = await slack_world.post(_command(slack_world))
    assert response.status == 200
    assert time.monotonic() - started < 3.0
    await slack_world.until(lambda: slack_world.slack.responses_to("help"))
    assert "/release announce VERSION" in slack_world.slack.responses_to("help")[0]["text"]


async def test_healthz_answers(slack_world: SlackWorld) -> None:
    """GET /healthz says the app is up."""
    async with slack_world.http.get(slack_world.url.replace("/slack/events", "/healthz")) as response:
        assert (response.status, await response.json()) == (200, {"ok": True})


@pytest.mark.parametrize(
    "tamper",
    [
        "no signature",
        "no timestamp",
        "wrong secret",
        "stale",
        "future",
        "not a number",
        "superscript digit",
        "5,000 digits",
        "body changed",
    ],
)
async def test_anything_not_signed_by_slack_gets_401(slack_world: SlackWorld, tamper: str) -> None:
    """Missing headers, a wrong secret, old or future timestamps, junk timestamps and bodies: all 401."""
    now = int(time.time())
    request = _command(slack_world)
    body, headers = request.body, dict(request.headers)
    if tamper == "no signature":
        del headers["X-Slack-Signature"]
    elif tamper == "no timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif tamper == "wrong secret":
        body, headers = _command(slack_world, secret="not-the-secret")
    elif tamper == "stale":
        body, headers = _command(slack_world, timestamp=now - 301)
    elif tamper == "future":
        body, headers = _command(slack_world, timestamp=now + 301)
    elif tamper == "not a number":
        headers["X-Slack-Request-Timestamp"] = "12:00"
    elif tamper in ("superscript digit", "5,000 digits"):  # both pass str.isdigit()
        stamp = "²" if tamper == "superscript digit" else "1" * 5000
        headers["X-Slack-Request-Timestamp"] = stamp
        headers["X-Slack-Signature"] = (
            "v0=" + hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        )
    else:
        body = body.replace(b"help", b"cancel+2.4")
    response = await slack_world.post(SignedRequest(body, headers))
    assert response.status == 401
    assert slack_world.slack.responses == []


async def test_a_replayed_request_runs_once(slack_world: SlackWorld) -> None:
    """The same signed request sent again within Slack's five minutes is answered but not run: the command runs once."""
    request = _command(slack_world)
    assert (await slack_world.post(request)).status == 200
    assert (await slack_world.post(request)).status == 200
    await slack_world.until(lambda: slack_world.slack.responses_to("help"))
    await slack_world.front.flush()
    assert len(slack_world.slack.responses_to("help")) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{bad", "application/json"),
        (b"[1]", "application/json"),
        (b"null", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b"payload=notjson", "application/x-www-form-urlencoded"),
        (b"text=\xff\xfe&command=%2Frelease", "application/x-www-form-urlencoded"),
        (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
        (b"payload=" + b"%5B" * 50_000, "application/x-www-form-urlencoded"),
    ],
)
async def test_a_signed_request_that_cannot_be_read_is_400_never_500(
    slack_world: SlackWorld, body: bytes, content_type: str
) -> None:
    """Correctly signed junk gets 400: nothing a caller sends makes Herald answer 500."""
    now = int(time.time())
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": sign(SECRET, body, now),
    }
    response = await slack_world.post(SignedRequest(body, headers))
    assert response.status in (200, 400)
    assert slack_world.slack.responses == []
