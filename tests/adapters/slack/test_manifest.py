"""manifest.json: a valid Slack app manifest that asks for exactly what Herald's code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
SLACK_CODE = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "adapters" / "slack").glob("*.py"))

# The bot scopes each Web API method needs (from each method's page on api.slack.com).
SCOPES_BY_METHOD = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.open": {"im:write"},
    "conversations.history": {"channels:history", "groups:history", "im:history"},
    "conversations.list": {"channels:read", "groups:read"},
    "conversations.members": {"channels:read", "groups:read"},
    "users.lookupByEmail": {"users:read", "users:read.email"},
    "users.list": {"users:read"},
    "usergroups.users.list": {"usergroups:read"},
    "views.open": set(),
}
# Scopes that come with features rather than method calls.
SCOPES_BY_FEATURE = {
    "commands": "a slash command",
    "reactions:read": "reaction_added / reaction_removed events",
    "chat:write.customize": "a group's own name and icon on its posts (chat.postMessage username, icon_*)",
}
SDK_METHODS = {
    "chat_postMessage": "chat.postMessage",
    "chat_postEphemeral": "chat.postEphemeral",
    "views_open": "views.open",
}


def _methods_in_code() -> set[str]:
    called = set(re.findall(r'\.call\(\s*"([a-zA-Z.]+)"', SLACK_CODE))
    called |= {"chat.postMessage"} if re.search(r"gateway\.post\(", SLACK_CODE) else set()
    called |= {SDK_METHODS[name] for name in re.findall(r"client\.(\w+)\(", SLACK_CODE) if name in SDK_METHODS}
    return called


def test_the_manifest_has_the_parts_slack_requires() -> None:
    """Metadata, display information, a bot user, the /release command, interactivity and Socket Mode."""
    assert MANIFEST["_metadata"]["major_version"] == 1
    display = MANIFEST["display_information"]
    assert len(display["name"]) in range(1, 36)
    assert len(display["description"]) <= 140
    assert 174 <= len(display["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", display["background_color"])
    assert len(MANIFEST["features"]["bot_user"]["display_name"]) in range(1, 81)
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/release"
    assert len(command["description"]) <= 2000
    assert "announce" in command["usage_hint"]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert "url" not in command  # Socket Mode: no request URLs


def test_every_method_the_code_calls_is_known() -> None:
    """Each Web API method the Slack adapter calls has its scopes listed in this test."""
    assert _methods_in_code() <= set(SCOPES_BY_METHOD)
    assert {"chat.postMessage", "users.lookupByEmail", "chat.update", "views.open"} <= _methods_in_code()


def test_every_method_the_code_calls_has_its_documented_budget() -> None:
    """Herald paces each method it calls by that method's tier; chat.postMessage by channel and workspace."""
    from adapters.slack.tiers import METHOD_BUDGETS, POST_MESSAGE

    assert _methods_in_code() - {POST_MESSAGE} <= set(METHOD_BUDGETS)
    assert set(METHOD_BUDGETS) <= _methods_in_code(), "a budget for a method Herald no longer calls"


def test_the_scopes_are_exactly_those_the_code_needs() -> None:
    """No scope missing, none to spare: least privilege."""
    needed = set().union(*(SCOPES_BY_METHOD[m] for m in _methods_in_code())) | set(SCOPES_BY_FEATURE)
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_the_customize_scope_is_there_because_posts_carry_a_groups_name_and_icon() -> None:
    """chat:write.customize is asked for because the messenger sets chat.postMessage's username and icons."""
    for parameter in ("username=", "icon_emoji=", "icon_url="):
        assert parameter in SLACK_CODE
    assert "chat:write.customize" in MANIFEST["oauth_config"]["scopes"]["bot"]


def test_the_events_are_exactly_those_the_app_listens_to() -> None:
    """The manifest subscribes to the events the Bolt app handles, and to nothing that eats the event budget."""
    listened = set(re.findall(r'app\.event\("([a-z_]+)"\)', SLACK_CODE))
    assert (
        set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
        == listened
        == {
            "reaction_added",
            "reaction_removed",
        }
    )
