"""Discord identifiers to and from Herald's: people, message references, component ids, a webhook's URL.

Every button Herald puts in Discord names its action and release in ``custom_id``
(at most 100 characters), and so does each modal; which communiqué a button or a
modal is about is read from the message it was opened from, so a click or a submit still
works after a restart: nothing is kept in memory.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.service.actions import Act

ACK = "herald:ack"  # on every delivered copy: the message itself says which delivery it is
# The Acknowledge button of a copy marks it with its delivery: ``herald:ack:<16 hex>``. Discord
# keeps no nonce, so the mark is how a copy in doubt is found again in the channel's history.
# Copies sent before the mark have a bare ``herald:ack``; both work.
ACK_TEMPLATE = r"herald:ack(?::(?P<mark>[0-9a-f]{16}))?"
UNSUBSCRIBE = "herald:unsubscribe"  # on a subscriber's copy: ``herald:unsubscribe:<component or *>``
UNSUBSCRIBE_TEMPLATE = r"herald:unsubscribe:(?P<component>\*|[a-z0-9][a-z0-9_.-]{0,39})"
ACTIONS = tuple(act.value for act in Act)  # the walkthrough's buttons, the same on every platform
WALKTHROUGH = re.compile(rf"herald:(?P<action>{'|'.join(ACTIONS)}):(?P<version>[0-9A-Za-z.+\-]{{1,80}})")
MODALS = ("edit", "back", "retract")  # back: send back, with a reason; retract: the release, with why
MODAL = re.compile(rf"herald:(?P<kind>{'|'.join(MODALS)})-modal:(?P<version>[0-9A-Za-z.+\-]{{1,80}})")
EDIT_INPUT = "herald:edit-text"
SEND_BACK_INPUT = "herald:send-back-reason"
RETRACT_INPUT = "herald:retract-reason"
_CUSTOM_ID_LIMIT = 100
_NONCE_DIGITS = 19  # Discord takes a nonce of at most 25 characters


_PERSON = re.compile(r"\bdiscord:(\d{5,25})\b(?!:\d)")


def mention_people(text: str) -> str:
    """Herald's ids of Discord people in ``text`` (``discord:…``) as Discord mentions, which show their names."""
    return _PERSON.sub(r"<@\1>", text)


def person(user_id: int | str) -> str:
    """Herald's id for a Discord user."""
    return f"discord:{user_id}"


def user_id(person_id: str) -> int | None:
    """The Discord user id of a Herald person id, if it is one."""
    platform, _, rest = person_id.partition(":")
    return int(rest) if platform == "discord" and rest.isdigit() else None


def message_ref(channel_id: int | str, message_id: int | str) -> str:
    """Herald's reference to a Discord message: its channel and id."""
    return f"discord:{channel_id}:{message_id}"


def parse_message_ref(ref: str) -> tuple[int, int] | None:
    """The channel and message ids of a reference made by ``message_ref``."""
    platform, _, rest = ref.partition(":")
    channel, _, message = rest.partition(":")
    if platform != "discord" or not channel.isdigit() or not message.isdigit():
        return None
    return int(channel), int(message)


@dataclass(frozen=True, slots=True)
class Action:
    """What a walkthrough button asks for."""

    action: str
    version: str


def custom_id(action: str, version: str) -> str:
    """The ``custom_id`` of a walkthrough button.

    Raises:
        ValueError: for an unknown action, or a version too long for Discord's 100 characters.
    """
    text = f"herald:{action}:{version}"
    if action not in ACTIONS or len(text) > _CUSTOM_ID_LIMIT or not WALKTHROUGH.fullmatch(text):
        raise ValueError(f"cannot make a Discord button for {action!r} on release {version!r}")
    return text


def parse_custom_id(text: str) -> Action | None:
    """Read a walkthrough button's ``custom_id``."""
    found = WALKTHROUGH.fullmatch(text)
    return Action(found["action"], found["version"]) if found else None


def modal_id(kind: str, version: str) -> str:
    """The ``custom_id`` of a modal opened about ``version``: ``edit`` or ``back`` (send back) for one of its
    communiqués, ``retract`` for the release itself.

    Raises:
        ValueError: for an unknown kind, or a version too long for Discord's 100 characters.
    """
    text = f"herald:{kind}-modal:{version}"
    if kind not in MODALS or len(text) > _CUSTOM_ID_LIMIT or not MODAL.fullmatch(text):
        raise ValueError(f"cannot make a Discord {kind} modal for release {version!r}")
    return text


def parse_modal_id(text: str) -> tuple[str, str] | None:
    """The kind and release a modal's ``custom_id`` names, or None if it is not one of Herald's."""
    found = MODAL.fullmatch(text)
    return (found["kind"], found["version"]) if found else None


def submitted_value(components: object, input_id: str) -> str | None:
    """The value of text input ``input_id`` in a modal submission's raw components.

    Inputs come inside action rows or, in newer modals, inside labels (``component``);
    any nesting is searched.
    """
    if isinstance(components, list):
        for item in components:
            found = submitted_value(item, input_id)
            if found is not None:
                return found
        return None
    if not isinstance(components, dict):
        return None
    if components.get("custom_id") == input_id and "value" in components:
        return str(components["value"] or "")
    for key in ("components", "component"):
        found = submitted_value(components.get(key), input_id)
        if found is not None:
            return found
    return None


def ack_id(delivery_key: str) -> str:
    """The Acknowledge button's ``custom_id`` on the copy of one delivery."""
    return f"{ACK}:{hashlib.sha256(delivery_key.encode()).hexdigest()[:16]}"


def nonce(delivery_key: str) -> str:
    """A nonce stable across retries of one delivery, so Discord keeps only the first message."""
    digest = int.from_bytes(hashlib.sha256(delivery_key.encode()).digest()[:8], "big")
    return str(digest % 10**_NONCE_DIGITS)


_WEBHOOK_PATH = re.compile(r"/webhooks/(?P<id>[0-9]{15,21})/(?P<token>[A-Za-z0-9_-]+)/?")


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook as its URL names it: its id, and the token that lets anyone holding it post (a secret)."""

    id: int
    token: str = field(repr=False)


def webhook(url: str) -> Webhook | None:
    """The webhook a URL such as ``https://discord.com/api/webhooks/ID/TOKEN`` names (None: it names none).

    Only the path is read: Herald calls the Discord API it is configured for (``DISCORD_API_URL``).
    """
    path = urlsplit(url).path
    found = _WEBHOOK_PATH.search(path)
    if found is None or found.end() != len(path):
        return None
    return Webhook(int(found["id"]), found["token"])
