"""Slack identifiers to and from Herald's: people, message references, button ids.

Every button Herald puts in Slack carries its meaning in ``action_id`` and the ids it
needs in ``value``, so a click still works after a restart: nothing is kept in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACTION_PREFIX = "herald:"
# A walkthrough button's action_id is herald:<act> (bot.service.actions.Act); its value is
# VERSION, or VERSION|GROUP on a communiqué's buttons.
APPROVE = "herald:approve"
EDIT = "herald:edit"
REJECT = "herald:reject"
CONFIRM = "herald:confirm"
SEND = "herald:send"
FINAL = "herald:final"
RETRACT = "herald:retract"  # on the release's message: opens the retraction modal
DROP = "herald:drop"  # drops the retraction waiting for approval
ACK = "herald:ack"  # value: the message's own reference is enough; value is the delivery key
UNSUBSCRIBE = "herald:unsubscribe"  # on a copy reached through a subscription; value: its component (``*``: any)
EDIT_VIEW = "herald:edit-view"  # callback_id of the edit modal; private_metadata: VERSION|GROUP|CHANNEL
EDIT_BLOCK, EDIT_INPUT = "herald:edit-text", "text"
SEND_BACK_VIEW = "herald:send-back-view"  # callback_id of the reason modal; private_metadata as the edit's
SEND_BACK_BLOCK, SEND_BACK_INPUT = "herald:send-back-reason", "reason"
RETRACT_VIEW = "herald:retract-view"  # callback_id of the retraction modal; private_metadata: VERSION||CHANNEL
RETRACT_BLOCK, RETRACT_INPUT = "herald:retract-reason", "reason"


_PERSON = re.compile(r"\bslack:([UW][A-Z0-9]{2,})\b(?!:\d)")


def action_id(act: str) -> str:
    """The ``action_id`` of a walkthrough button for the act ``act``."""
    return ACTION_PREFIX + act


def mention_people(text: str) -> str:
    """Herald's ids of Slack people in ``text`` (``slack:…``) as Slack mentions, which show their names."""
    return _PERSON.sub(r"<@\1>", text)


def person(user_id: str) -> str:
    """Herald's id for a Slack user."""
    return f"slack:{user_id}"


def message_ref(channel: str, ts: str) -> str:
    """Herald's reference to a Slack message: channel and timestamp (a ts is unique only within its channel)."""
    return f"slack:{channel}:{ts}"


def parse_message_ref(ref: str) -> tuple[str, str] | None:
    """The channel and ts of a reference made by ``message_ref``."""
    platform, _, rest = ref.partition(":")
    channel, _, ts = rest.partition(":")
    return (channel, ts) if platform == "slack" and channel and ts else None


@dataclass(frozen=True, slots=True)
class Subject:
    """What a walkthrough button is about."""

    version: str
    group_id: str | None = None


def subject_value(version: str, group_id: str | None = None) -> str:
    """The ``value`` of a walkthrough button."""
    return version if group_id is None else f"{version}|{group_id}"


def parse_subject(value: str) -> Subject:
    """Read a walkthrough button's ``value``."""
    version, _, group = value.partition("|")
    return Subject(version, group or None)


def escape(text: str) -> str:
    """Slack's own escaping: ``&``, ``<`` and ``>`` become entities, so no mention or link can be forged."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
