"""People, named the way the plan's access lists name them: ``platform:id``."""

from __future__ import annotations

import re

from bot.domain.destinations import Kind, Platform

_PERSON = re.compile(r"^(slack|discord|shell|email):[A-Za-z0-9@._+\-:]{1,120}\Z")
_CHAT = {Platform.SLACK.value, Platform.DISCORD.value, Platform.SHELL.value}


def parse_person(text: str) -> str:
    """Validate a person id such as ``slack:U0ANNOUNCE1`` or ``shell:deployer``.

    Raises:
        ValueError: when the text is not ``platform:id``.
    """
    if not isinstance(text, str) or not _PERSON.match(text):
        raise ValueError(f"{text!r} is not a person; write platform:id, e.g. slack:U0ABC123 or shell:deployer")
    platform = text.split(":", 1)[0]
    if platform not in _CHAT:
        raise ValueError(f"{text!r}: only slack, discord and shell people can announce or approve")
    return text


def display_name(person: str) -> str:
    """A short name for copy shown to people: ``shell:sam`` -> ``sam``."""
    platform, _, rest = person.partition(":")
    return rest if platform == Platform.SHELL.value else person


def direct_target(person: str) -> tuple[str, Kind] | None:
    """The destination that reaches ``person`` privately (a DM or their mailbox), if Herald knows one."""
    platform, _, user = person.partition(":")
    if not user:
        return None
    if platform == "shell":
        return f"shell:@{user}", Kind.DM
    if platform == "slack":
        return (f"slack:{user}" if user.startswith("email:") else f"slack:@{user}"), Kind.DM
    if platform == "discord":
        return f"discord:user:{user}", Kind.DM
    if platform == "email":
        return person, Kind.EMAIL
    return None
