"""Herald's Slack endpoint refuses anything not signed by Slack, with 401 and never 500."""

from __future__ import annotations

import time

import pytest

from tests.adapters.slack.conftest import SECRET, SlackWorld
from tests.fakes_slack import SignedRequest, sign, slash_command


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
    ["no signature", "no timestamp", "wrong secret", "stale", "future", "not a number", "not utf-8", "body changed"],
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
    elif tamper == "not utf-8":
        body = b"text=\xff\xfe&command=%2Frelease"
        headers["X-Slack-Signature"] = sign(SECRET, body, now)
        headers["X-Slack-Request-Timestamp"] = str(now)
    else:
        body = body.replace(b"help", b"cancel+2.4")
    response = await slack_world.post(SignedRequest(body, headers))
    assert response.status == 401
    assert slack_world.slack.responses == []
