"""People, named the way the plan's access lists name them: ``platform:id``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.domain.destinations import Kind, Platform

_PERSON = re.compile(r"^(slack|discord|shell|email):[A-Za-z0-9@._+\-:]{1,120}\Z")
_API_CALLER = re.compile(r"^api:[a-z0-9][a-z0-9._-]{0,39}\Z")  # a release pipeline, named in HERALD_API_TOKENS
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


def parse_announcer(text: str) -> str:
    """Validate an announcer: a person id, or a pipeline's ``api:NAME`` (its token's name in ``HERALD_API_TOKENS``).

    A pipeline only announces: it never approves, so four-eyes stays with people.

    Raises:
        ValueError: when the text is neither.
    """
    if isinstance(text, str) and text.startswith("api:"):
        if not _API_CALLER.match(text):
            raise ValueError(
                f"{text!r}: write api:NAME, NAME as in HERALD_API_TOKENS (lower-case letters, digits, .-_)"
            )
        return text
    return parse_person(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Listed:
    """One person of the plan's ``[people]`` table: their key, their ids on each platform, their name."""

    key: str  # as the plan writes it: ``alice`` in ``[people.alice]``
    ids: tuple[str, ...]  # person ids, ``platform:id``, e-mail addresses lower-cased
    name: str | None = None  # how Herald shows them (None: by their id)


@dataclass(frozen=True, slots=True)
class People:
    """The plan's directory of people: which ids are one person, and the name Herald shows for each.

    An id nobody lists is a person of its own; the loader sees to it that no id is listed twice.
    """

    listed: tuple[Listed, ...] = ()
    _by_id: Mapping[str, Listed] = field(init=False, repr=False, compare=False)
    _by_key: Mapping[str, Listed] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {person.key: person for person in self.listed})
        object.__setattr__(self, "_by_id", {i: person for person in self.listed for i in person.ids})

    @classmethod
    def of(cls, listed: Iterable[Listed]) -> People:
        """The directory of ``listed``."""
        return cls(tuple(listed))

    def person_of(self, person_id: str) -> str | None:
        """The key of the person ``person_id`` belongs to (None: nobody listed has it)."""
        person = self._find(person_id)
        return person.key if person else None

    def canonical(self, person_id: str) -> str:
        """The one id Herald counts ``person_id``'s person by: their first listed id, ``person_id`` if unlisted.

        Ids are listed slack, discord, shell, email: a person on Slack and e-mail counts, and is
        reminded, as their Slack id. Receipts and audiences hold this id, so that a person
        reached on two platforms is expected once and acknowledges once for both.
        """
        person = self._find(person_id)
        return person.ids[0] if person else person_id

    def ids_of(self, key: str) -> tuple[str, ...]:
        """Every id of the person ``key`` (empty: no such person)."""
        person = self._by_key.get(key)
        return person.ids if person else ()

    def name_of(self, person_id: str) -> str | None:
        """The name of whoever has ``person_id`` (None: not listed, or listed without a name)."""
        person = self._find(person_id)
        return person.name if person else None

    @property
    def names(self) -> dict[str, str]:
        """Each listed id that has a name, and that name: the mapping ``display_name`` takes."""
        return {i: person.name for i, person in self._by_id.items() if person.name}

    def __len__(self) -> int:
        return len(self.listed)

    def _find(self, person_id: str) -> Listed | None:
        person = self._by_id.get(person_id)
        if person is None and person_id.startswith("email:"):  # mailboxes compare case-insensitively
            person = self._by_id.get(person_id.lower())
        return person


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
