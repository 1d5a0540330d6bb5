"""What Slack sends an app when someone acts: a slash command, a button clicked, a modal submitted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tests.fakes.slack._constants import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, VERIFICATION_TOKEN, Json
from tests.fakes.slack._signing import (
    SignedRequest,
    channel_name_of,
    form_request,
    interaction_request,
    new_event_ts,
    new_trigger_id,
    user_json,
)


def slash_command(
    secret: str,
    *,
    text: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str | None = None,
    command: str = "/release",
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    channel_name: str | None = None,
    timestamp: int | None = None,
) -> SignedRequest:
    """A slash command: the form-encoded body with every field Slack sends, signed."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name_of(channel_id, channel_name),
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return form_request(secret, fields, timestamp)


def find_button(message: Mapping[str, Any], action_id: str) -> tuple[str, Json] | None:
    for block in message.get("blocks") or ():
        elements = list(block.get("elements") or ())
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None


def block_action(
    secret: str,
    *,
    user_id: str,
    action_id: str,
    channel_id: str,
    message_ts: str,
    response_url: str,
    value: str | None = None,
    message: Mapping[str, Any] | None = None,
    block_id: str | None = None,
    thread_ts: str | None = None,
    is_ephemeral: bool = False,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    channel_name: str | None = None,
    timestamp: int | None = None,
) -> SignedRequest:
    """A click on a message button: form field ``payload=`` holding a ``block_actions`` JSON, signed.

    Pass the stored ``message`` (``slack.message(channel, ts)``) to click a button that was really
    posted: its ``block_id``, label and ``value`` are taken from the message, and ``thread_ts`` from
    the message if it is a reply. Without it, ``value`` is required and the message is minimal.
    Ephemeral messages carry no ``message`` object, as in Slack.
    """
    found = find_button(message, action_id) if message is not None else None
    if message is not None and found is None:
        raise ValueError(f"no element with action_id {action_id!r} in the message")
    element: Json = found[1] if found else {}
    resolved_value = value if value is not None else element.get("value")
    if resolved_value is None:
        raise ValueError("value is required when the message does not supply it")
    if thread_ts is None and message is not None and message.get("thread_ts") not in (None, message_ts):
        thread_ts = str(message["thread_ts"])
    container: Json = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    action: Json = {
        "action_id": action_id,
        "block_id": block_id or (found[0] if found else "actions"),
        "text": element.get("text", {"type": "plain_text", "text": "Button", "emoji": True}),
        "value": resolved_value,
        "type": element.get("type", "button"),
        "action_ts": new_event_ts(),
    }
    payload: Json = {
        "type": "block_actions",
        "user": user_json(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name_of(channel_id, channel_name)},
    }
    if not is_ephemeral:
        shown: Json = dict(message) if message is not None else {"type": "message", "ts": message_ts, "text": ""}
        if message is None:
            shown.update(user=BOT_USER_ID, bot_id=BOT_ID, app_id=APP_ID, team=TEAM_ID)
            if thread_ts is not None:
                shown["thread_ts"] = thread_ts
        payload["message"] = shown
    payload.update(state={"values": {}}, response_url=response_url, actions=[action])
    return interaction_request(secret, payload, timestamp)


def view_submission(
    secret: str,
    *,
    user_id: str,
    callback_id: str,
    values: Mapping[str, Mapping[str, Any]],
    private_metadata: str = "",
    view: Mapping[str, Any] | None = None,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    user_name: str | None = None,
    response_urls: Sequence[Mapping[str, str]] = (),
    timestamp: int | None = None,
) -> SignedRequest:
    """A modal submitted: form field ``payload=`` holding a ``view_submission`` JSON, signed.

    ``values`` is Slack's ``view.state.values`` (``{block_id: {action_id: {"type": ..., "value": ...}}}``);
    a plain string in place of the innermost object is shorthand for a ``plain_text_input``. Pass the
    ``view`` that ``views.open`` returned (``slack.views[-1].view``) to submit that very modal.
    """
    state = {
        block_id: {
            action_id: {"type": "plain_text_input", "value": entry} if isinstance(entry, str) else dict(entry)
            for action_id, entry in actions.items()
        }
        for block_id, actions in values.items()
    }
    submitted: Json = {
        "id": "V0HERALD0000",
        "team_id": team_id,
        "type": "modal",
        "blocks": [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "hash": "1700000000.00000000",
        "title": {"type": "plain_text", "text": "Herald"},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "previous_view_id": None,
        "root_view_id": "V0HERALD0000",
        "app_id": APP_ID,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }
    if view is not None:
        submitted.update(view)
        submitted.update(callback_id=callback_id, private_metadata=private_metadata or view.get("private_metadata", ""))
    submitted["state"] = {"values": state}
    payload: Json = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": user_json(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": submitted,
        "response_urls": [dict(url) for url in response_urls],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return interaction_request(secret, payload, timestamp)
