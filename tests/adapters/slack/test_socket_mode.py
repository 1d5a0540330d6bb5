"""Socket Mode: the same front door over Slack's WebSocket, acknowledged on the socket."""

from __future__ import annotations

import json

from adapters.slack import translate
from adapters.slack.server import SocketModeServer
from tests.adapters.slack.conftest import herald_on, seed
from tests.eventually import eventually
from tests.fakes.slack import APP_TOKEN, FakeSlack


async def test_a_command_and_a_click_over_socket_mode() -> None:
    """/release announce and an Approve click arrive over the socket, are acked there, and do their work."""
    async with FakeSlack() as slack:
        seed(slack)
        _herald, front, store, _clock = herald_on(slack, {"SLACK_APP_TOKEN": APP_TOKEN})
        server = SocketModeServer(front.app, APP_TOKEN)
        await server.start()
        try:
            ack = await slack.socket_deliver(
                "slash_commands",
                {
                    "command": "/release",
                    "text": "announce 2.4",
                    "user_id": "U0ANNOUNCE1",
                    "channel_id": "C0RELEASE",
                    "team_id": "T0HERALD",
                    "response_url": slack.response_url("socket"),
                    "trigger_id": "1.2.socket",
                },
            )
            assert ack["envelope_id"].startswith("env-")
            await eventually(lambda: "2.4" in store.releases and store.releases["2.4"].thread is not None)
            ref = store.releases["2.4"].communiques["engineering"].message_ref or ""
            channel, ts = translate.parse_message_ref(ref) or ("", "")
            click = {
                "type": "block_actions",
                "user": {"id": "U0ANNOUNCE1", "username": "dana", "team_id": "T0HERALD"},
                "team": {"id": "T0HERALD", "domain": "herald-test"},
                "channel": {"id": channel, "name": "releases"},
                "container": {"type": "message", "channel_id": channel, "message_ts": ts, "is_ephemeral": False},
                "trigger_id": "1.3.socket",
                "response_url": slack.response_url("click"),
                "actions": [
                    {
                        "action_id": translate.APPROVE,
                        "block_id": "herald:engineering",
                        "value": translate.subject_value("2.4", "engineering"),
                        "type": "button",
                        "action_ts": "1700000000.1",
                    }
                ],
            }
            ack = await slack.socket_deliver("interactive", json.loads(json.dumps(click)))
            assert "envelope_id" in ack
            await eventually(lambda: store.releases["2.4"].communiques["engineering"].approved)
        finally:
            await server.close()
            await front.flush()
