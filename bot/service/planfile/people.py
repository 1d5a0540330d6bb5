"""The plan's ``[people]`` table: one person's ids on each platform, and the name Herald shows for them.

``[people.alice]`` takes ``slack``, ``discord``, ``shell`` and ``email`` (each the id as that
platform reports it, in the form the access lists accept) and ``name``; every key is
optional, but a person needs at least one id. An id listed under two people is a rule
between tables, checked in ``rules.py`` with ``listed_twice``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainValidator, model_validator

from bot.domain.destinations import parse_destination
from bot.domain.errors import Problem
from bot.domain.people import Listed, People, parse_person

PLATFORMS = ("slack", "discord", "shell", "email")
"""The keys of a person's table that hold an id, in the order a person's ids are kept."""

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
_NAME_MAX = 80
_FORMS = {
    "slack": "a Slack user id such as U0123ABC",
    "discord": "a Discord user id such as 812345678901234567",
    "shell": "a shell name such as sam",
    "email": "an address such as alice@example.com",
}


def person_id(platform: str, value: object) -> str:
    """The person id that ``value``, written under ``platform`` in a person's table, stands for.

    Raises:
        ValueError: when ``value`` is not an id of that platform's form.
    """
    if isinstance(value, str) and platform == "email":
        try:
            person = parse_destination(f"email:{value}").person
        except ValueError:
            person = None
        if person is not None:
            return person
    elif isinstance(value, str):
        try:
            return parse_person(f"{platform}:{value}")
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not {_FORMS[platform]}")


def _key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError("is not a valid person key (letters, digits, - or _, at most 64)")
    return key


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or not value.isprintable() or len(value) > _NAME_MAX:
        raise ValueError(f"must be a name of 1 to {_NAME_MAX} characters on one line")
    return value


def _id_of(platform: str) -> PlainValidator:
    return PlainValidator(lambda value: person_id(platform, value))


PersonKey = Annotated[str, AfterValidator(_key)]
"""The key of one person: ``alice`` in ``[people.alice]``."""


class PersonTable(BaseModel):
    """``[people.KEY]``: one person's ids, and the name Herald shows for them."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    slack: Annotated[str, _id_of("slack")] | None = None
    discord: Annotated[str, _id_of("discord")] | None = None
    shell: Annotated[str, _id_of("shell")] | None = None
    email: Annotated[str, _id_of("email")] | None = None
    name: Annotated[str, PlainValidator(_name)] | None = None

    @model_validator(mode="after")
    def _some_id(self) -> PersonTable:
        if not self.ids:
            raise ValueError(f"names no id; give at least one of {', '.join(PLATFORMS)}")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        """This person's ids, ``platform:id``, in the order of ``PLATFORMS``."""
        return tuple(i for i in (self.slack, self.discord, self.shell, self.email) if i is not None)


def to_people(tables: Mapping[str, PersonTable]) -> People:
    """The domain's directory of the people ``tables`` list, in file order."""
    return People.of(Listed(key=key, ids=table.ids, name=table.name) for key, table in tables.items())


def listed_twice(people: object) -> list[Problem]:
    """Each id that a second person lists too, naming both; read leniently (the schema reports bad values)."""
    if not isinstance(people, dict):
        return []
    first: dict[str, str] = {}
    problems: list[Problem] = []
    for key, table in people.items():
        for platform in PLATFORMS if isinstance(table, dict) else ():
            person = _read_id(platform, table.get(platform))
            if person is None:
                continue
            if person in first and first[person] != key:
                message = f"{person!r} is listed under {first[person]!r} and {key!r}; an id belongs to one person"
                problems.append(Problem(f"[people.{key}]", platform, message))
            first.setdefault(person, key)
    return problems


def owners(people: object) -> dict[str, str]:
    """Each id the ``[people]`` table lists, and the key of the person it belongs to; read leniently."""
    found: dict[str, str] = {}
    for key, table in people.items() if isinstance(people, dict) else ():
        for platform in PLATFORMS if isinstance(table, dict) else ():
            person = _read_id(platform, table.get(platform))
            if person is not None:
                found.setdefault(person, str(key))
    return found


def _read_id(platform: str, value: Any) -> str | None:
    try:
        return person_id(platform, value)
    except ValueError:
        return None
