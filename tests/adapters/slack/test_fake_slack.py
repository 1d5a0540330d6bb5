"""The fake Slack answers slack_sdk and Bolt the way Slack does, for everything Herald relies on."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    FakeSlack,
    SignedRequest,
    block_action,
    event_callback,
    reaction_added,
    slash_command,
    view_submission,
)

SECRET = "signing-secret"
BUTTONS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Release 2.4* is out"}},
    {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "ack:42", "value": "42", "text": {"type": "plain_text", "text": "Got it"}}
        ],
    },
]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user("U0ALICE", "alice", email="alice@example.com")
        fake.add_user("U0BOB", "bob", email="bob@example.com", deleted=True)
        fake.add_channel("C0RELEASES", "releases", members=[BOT_USER_ID, "U0ALICE"])
        fake.add_channel("C0OLD", "old-releases", archived=True)
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)


def _payload(request: SignedRequest) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(parse_qs(request.body.decode())["payload"][0])
    return decoded


async def test_auth_test_names_the_team_and_the_bot(client: AsyncWebClient) -> None:
    """auth.test answers with the team, bot user and bot ids Bolt needs."""
    answer = await client.auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == (TEAM_ID, BOT_USER_ID, BOT_ID)


async def test_a_posted_message_is_stored_and_can_be_updated(slack: FakeSlack, client: AsyncWebClient) -> None:
    """chat.postMessage stores the blocks under a fresh ts; chat.update rewrites that message."""
    first = await client.chat_postMessage(channel="C0RELEASES", text="Release 2.4", blocks=BUTTONS)
    second = await client.chat_postMessage(channel="C0RELEASES", text="Reminder", thread_ts=first["ts"])
    await client.chat_update(channel="C0RELEASES", ts=first["ts"], text="Release 2.4 (3 acks)", blocks=BUTTONS)

    assert float(second["ts"]) > float(first["ts"])
    stored = slack.message("C0RELEASES", first["ts"])
    assert stored["text"] == "Release 2.4 (3 acks)"
    assert stored["blocks"][1]["elements"][0]["action_id"] == "ack:42"
    assert stored["blocks"][1]["block_id"]  # Slack fills in block ids
    assert slack.replies("C0RELEASES", first["ts"]) == [slack.message("C0RELEASES", second["ts"])]
    assert slack.calls_to("chat.postMessage")[0].params["blocks"] == BUTTONS


async def test_unknown_and_archived_channels_are_refused(client: AsyncWebClient) -> None:
    """Posting to a missing channel or an archived one fails with Slack's error codes."""
    for channel, error in [("C0NOPE", "channel_not_found"), ("C0OLD", "is_archived")]:
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel=channel, text="hello")
        assert raised.value.response["error"] == error


async def test_an_update_of_an_unknown_ts_is_message_not_found(client: AsyncWebClient) -> None:
    """chat.update on a ts that was never posted answers message_not_found."""
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C0RELEASES", ts="1700000000.999999", text="edited")
    assert raised.value.response["error"] == "message_not_found"


async def test_a_dm_opens_on_a_stable_channel_that_accepts_messages(slack: FakeSlack, client: AsyncWebClient) -> None:
    """conversations.open gives the same D… id each time, and that id can be posted to."""
    first = await client.conversations_open(users="U0ALICE")
    again = await client.conversations_open(users="U0ALICE")
    dm = first["channel"]["id"]

    await client.chat_postMessage(channel=dm, text="Release 2.4 is out")

    assert dm == slack.dm_channel("U0ALICE") == again["channel"]["id"]
    assert again["already_open"]
    assert [m["text"] for m in slack.messages(dm)] == ["Release 2.4 is out"]


async def test_a_deactivated_person_cannot_be_reached(client: AsyncWebClient) -> None:
    """A deactivated user gives user_disabled on open and users_not_found on lookup by email."""
    with pytest.raises(SlackApiError) as opened:
        await client.conversations_open(users="U0BOB")
    with pytest.raises(SlackApiError) as looked_up:
        await client.users_lookupByEmail(email="bob@example.com")
    assert (opened.value.response["error"], looked_up.value.response["error"]) == ("user_disabled", "users_not_found")


async def test_channel_members_come_back_page_by_page(slack: FakeSlack, client: AsyncWebClient) -> None:
    """conversations.members pages with limit and next_cursor, which slack_sdk follows."""
    people = [f"U0P{i:03d}" for i in range(7)]
    slack.add_channel("C0BIG", "big", members=people)

    pages = [page["members"] async for page in await client.conversations_members(channel="C0BIG", limit=3)]

    assert pages == [people[0:3], people[3:6], people[6:7]]
    assert [call.params.get("cursor") is None for call in slack.calls_to("conversations.members")] == [
        True,
        False,
        False,
    ]


async def test_a_queued_429_carries_retry_after(slack: FakeSlack, client: AsyncWebClient) -> None:
    """fail_next gives one 429 ratelimited with Retry-After; the call after it succeeds."""
    slack.fail_next("chat.update", retry_after=7)
    posted = await client.chat_postMessage(channel="C0RELEASES", text="Release 2.4")

    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C0RELEASES", ts=posted["ts"], text="edited")
    await client.chat_update(channel="C0RELEASES", ts=posted["ts"], text="edited")

    response = raised.value.response
    assert (response.status_code, response["error"], response.headers["Retry-After"]) == (429, "ratelimited", "7")
    assert [call.error for call in slack.calls_to("chat.update")] == ["ratelimited", None]


async def test_a_queued_500_is_a_server_error(slack: FakeSlack, client: AsyncWebClient) -> None:
    """fail_next with status 500 answers a 5xx internal_error once."""
    slack.fail_next("users.info", status=500)
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U0ALICE")
    assert (raised.value.response.status_code, raised.value.response["error"]) == (500, "internal_error")
    assert (await client.users_info(user="U0ALICE"))["user"]["profile"]["email"] == "alice@example.com"


async def test_a_permanent_failure_is_limited_to_its_channel(slack: FakeSlack, client: AsyncWebClient) -> None:
    """fail_always on one channel refuses every post there and nowhere else."""
    slack.add_channel("C0OTHER", "other")
    slack.fail_always("chat.postMessage", "not_in_channel", channel="C0RELEASES")
    for _ in range(2):
        with pytest.raises(SlackApiError, match="not_in_channel"):
            await client.chat_postMessage(channel="C0RELEASES", text="hello")
    await client.chat_postMessage(channel="C0OTHER", text="hello")


async def test_a_wrong_token_is_invalid_auth(slack: FakeSlack) -> None:
    """A token other than the bot's answers invalid_auth."""
    with pytest.raises(SlackApiError) as raised:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert raised.value.response["error"] == "invalid_auth"


async def test_an_unknown_method_is_unknown_method(client: AsyncWebClient) -> None:
    """A method the fake does not know answers unknown_method."""
    with pytest.raises(SlackApiError, match="unknown_method"):
        await client.api_call("chat.scheduleMessage", json={"channel": "C0RELEASES", "text": "later"})


async def test_a_trigger_opens_one_view_and_then_is_spent(slack: FakeSlack, client: AsyncWebClient) -> None:
    """views.open accepts a trigger once, then answers exchanged_trigger_id; an expired one is refused."""
    view = {"type": "modal", "callback_id": "edit", "title": {"type": "plain_text", "text": "Edit"}, "blocks": []}
    slack.expire_trigger("111.222.old")

    opened = await client.views_open(trigger_id="111.222.new", view=view)
    errors = []
    for trigger in ("111.222.new", "111.222.old"):
        with pytest.raises(SlackApiError) as raised:
            await client.views_open(trigger_id=trigger, view=view)
        errors.append(raised.value.response["error"])

    assert (opened["view"]["callback_id"], slack.views[0].trigger_id) == ("edit", "111.222.new")
    assert errors == ["exchanged_trigger_id", "expired_trigger_id"]


async def test_a_response_url_records_what_is_posted(slack: FakeSlack) -> None:
    """JSON POSTed to a response_url from the fake lands in slack.responses."""
    async with aiohttp.ClientSession() as session, session.post(slack.response_url("cmd-1"), json={"text": "on it"}):
        pass
    assert slack.responses_to("cmd-1") == [{"text": "on it"}]


def _builders(slack_url: str) -> list[SignedRequest]:
    return [
        slash_command(SECRET, text="announce 2.4", user_id="U0ALICE", channel_id="C0RELEASES", response_url=slack_url),
        block_action(
            SECRET,
            user_id="U0ALICE",
            action_id="ack:42",
            value="42",
            channel_id="C0RELEASES",
            message_ts="1700000000.000100",
            response_url=slack_url,
        ),
        view_submission(SECRET, user_id="U0ALICE", callback_id="edit", values={"body": {"text": "new text"}}),
        event_callback(
            SECRET,
            event=reaction_added(user="U0ALICE", reaction="+1", channel="C0RELEASES", ts="1700000000.000100"),
            retry_num=1,
            retry_reason="http_timeout",
        ),
    ]


@pytest.mark.parametrize("kind", range(4), ids=["slash_command", "block_action", "view_submission", "event"])
def test_slack_sdk_accepts_the_signature_and_rejects_a_tampered_body(kind: int) -> None:
    """SignatureVerifier accepts each signed body as built and refuses it once a byte changes."""
    body, headers = _builders("https://hooks.example/response")[kind]
    verifier = SignatureVerifier(SECRET)

    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace(b"U0ALICE", b"U0MALLORY"), headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)


def test_a_stale_timestamp_is_rejected() -> None:
    """A request signed six minutes ago fails verification, as Slack's replay window demands."""
    body, headers = slash_command(
        SECRET,
        text="status",
        user_id="U0ALICE",
        channel_id="C0RELEASES",
        response_url="https://hooks.example/response",
        timestamp=int(time.time()) - 360,
    )
    assert not SignatureVerifier(SECRET).is_valid_request(body, headers)


async def test_a_click_on_a_posted_button_carries_that_button(slack: FakeSlack, client: AsyncWebClient) -> None:
    """block_action built from a stored thread reply takes its block id, value and thread."""
    parent = await client.chat_postMessage(channel="C0RELEASES", text="Release 2.4")
    reply = await client.chat_postMessage(channel="C0RELEASES", text="ack", blocks=BUTTONS, thread_ts=parent["ts"])
    stored = slack.message("C0RELEASES", reply["ts"])

    payload = _payload(
        block_action(
            SECRET,
            user_id="U0ALICE",
            action_id="ack:42",
            channel_id="C0RELEASES",
            message_ts=reply["ts"],
            message=stored,
            response_url=slack.response_url("click"),
        )
    )

    assert payload["actions"][0] | {"action_ts": None} == {
        "action_id": "ack:42",
        "block_id": stored["blocks"][1]["block_id"],
        "text": {"type": "plain_text", "text": "Got it"},
        "value": "42",
        "type": "button",
        "action_ts": None,
    }
    assert payload["container"]["thread_ts"] == parent["ts"]
    assert payload["message"]["ts"] == reply["ts"]


async def test_bolt_routes_the_signed_requests_to_its_listeners(slack: FakeSlack) -> None:
    """AsyncApp verifies each built request and hands it to the matching listener."""
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url),
        signing_secret=SECRET,
        process_before_response=True,  # listeners finish before dispatch returns, so the test need not wait
    )
    seen: list[str] = []

    @app.command("/release")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        seen.append(f"command {command['text']}")

    @app.action("ack:42")
    async def action(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(f"action {body['actions'][0]['value']}")

    @app.view("edit")
    async def view(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen.append(f"view {view['state']['values']['body']['text']['value']}")

    @app.event("reaction_added")
    async def reaction(event: dict[str, Any]) -> None:
        seen.append(f"reaction {event['reaction']}")

    for body, headers in _builders(slack.response_url("any")):
        as_bolt_takes: dict[str, str | Sequence[str]] = dict(headers)
        response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=as_bolt_takes))
        assert response.status == 200, response.body

    assert sorted(seen) == sorted(["command announce 2.4", "action 42", "view new text", "reaction +1"])
    assert [call.method for call in slack.calls] == ["auth.test"]


async def test_form_encoded_blocks_are_read_like_json_ones(slack: FakeSlack, client: AsyncWebClient) -> None:
    """A form-encoded call with blocks as a JSON string is stored and recorded with the blocks decoded."""
    await client.api_call(
        "chat.postMessage", data={"channel": "C0RELEASES", "text": "hi", "blocks": json.dumps(BUTTONS)}
    )
    assert slack.calls_to("chat.postMessage")[0].params["blocks"] == BUTTONS
    assert slack.messages("C0RELEASES")[0]["blocks"][0]["type"] == "section"


# -- conversations.history and message metadata --


async def _post_marked(client: AsyncWebClient, n: int) -> str:
    posted = await client.chat_postMessage(
        channel="C0RELEASES", text=f"copy {n}", metadata={"event_type": "herald_delivery", "event_payload": {"n": n}}
    )
    return str(posted["ts"])


async def test_history_shows_metadata_only_when_asked_for(client: AsyncWebClient) -> None:
    """Metadata posted with a message comes back from history with include_all_metadata, and not without it."""
    await _post_marked(client, 1)

    plain = await client.conversations_history(channel="C0RELEASES")
    marked = await client.conversations_history(channel="C0RELEASES", include_all_metadata=True)

    assert "metadata" not in plain["messages"][0]
    assert marked["messages"][0]["metadata"] == {"event_type": "herald_delivery", "event_payload": {"n": 1}}


async def test_history_is_newest_first_between_exclusive_bounds_and_paginates(client: AsyncWebClient) -> None:
    """oldest/latest exclude their own ts unless inclusive; pages follow next_cursor with has_more."""
    stamps = [await _post_marked(client, n) for n in range(5)]

    between = await client.conversations_history(channel="C0RELEASES", oldest=stamps[0], latest=stamps[4])
    inclusive = await client.conversations_history(channel="C0RELEASES", oldest=stamps[0], inclusive=True)
    first = await client.conversations_history(channel="C0RELEASES", limit=2)
    second = await client.conversations_history(
        channel="C0RELEASES", limit=2, cursor=first["response_metadata"]["next_cursor"]
    )

    assert [m["ts"] for m in between["messages"]] == stamps[3:0:-1]
    assert [m["ts"] for m in inclusive["messages"]] == stamps[::-1]
    assert ([m["ts"] for m in first["messages"]], first["has_more"]) == (stamps[:2:-1], True)
    assert [m["ts"] for m in second["messages"]] == stamps[2:0:-1]
    assert float(stamps[0]) == pytest.approx(time.time(), abs=60)  # a ts is the Unix time of the post


async def test_history_needs_the_bot_in_the_channel_and_refuses_bad_metadata(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    """A channel the bot is not in answers not_in_channel; metadata without an event_type is refused."""
    slack.add_channel("C0ELSEWHERE", "elsewhere", members=["U0ALICE"])

    with pytest.raises(SlackApiError) as not_in:
        await client.conversations_history(channel="C0ELSEWHERE")
    with pytest.raises(SlackApiError) as bad:
        await client.chat_postMessage(channel="C0RELEASES", text="x", metadata={"event_payload": {}})

    assert not_in.value.response["error"] == "not_in_channel"
    assert bad.value.response["error"] == "invalid_metadata_format"
