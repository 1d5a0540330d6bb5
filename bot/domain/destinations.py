"""Where a communiqué goes: the destination forms a plan may name.

``slack:#name`` or ``slack:C…``/``slack:G…`` (channel), ``slack:@U…`` (DM),
``slack:usergroup:S…`` (DM each member), ``slack:email:ADDR`` (DM the user with
that address), ``discord:channel:ID``, ``discord:user:ID`` (DM),
``discord:role:GUILD_ID/ROLE_ID`` (DM each member), ``email:ADDR``,
``webhook:URL`` or ``webhook:env:NAME``, ``shell:#name`` / ``shell:@name``, ``apprise:URL`` (a pager or other
service Apprise can notify, e.g. ``apprise:pagerduty://…``) or ``apprise:env:NAME`` (the
Apprise URL read from the environment variable NAME, so its key stays out of the plan),
``web:NAME`` (a posting on Herald's own release page, ``HERALD_PUBLIC_URL/releases/``; NAME
names the page, e.g. ``web:releases``), ``subscribers:COMPONENT`` or ``subscribers:all`` (the people who
subscribed to that component's releases, or to any this release is of, each where they chose; expanded
when the release is sent, by its level and components).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    """A system Herald can deliver through."""

    SLACK = "slack"
    DISCORD = "discord"
    EMAIL = "email"
    WEBHOOK = "webhook"
    SHELL = "shell"
    APPRISE = "apprise"
    WEB = "web"  # Herald's own release pages (HERALD_PUBLIC_URL/releases/)
    SUBSCRIBERS = "subscribers"  # whoever subscribed: expands, at send time, into their DMs and mailboxes


class Kind(StrEnum):
    """What sort of place a destination is."""

    CHANNEL = "channel"  # one post, read by the channel's members
    DM = "dm"  # one person, privately
    GROUP = "group"  # a user group or role: expands into one DM per member
    EMAIL = "email"  # one mailbox
    WEBHOOK = "webhook"  # a web page or service; no person acknowledges


_SLACK_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}\Z")
_SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,20}\Z")
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}\Z")
_SLACK_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}\Z")
_SNOWFLAKE = re.compile(r"^[0-9]{15,21}\Z")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\Z"
)
_COMPONENT = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}\Z")
_SHELL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}\Z")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*\Z")
_SERVICE_URL = re.compile(r"^[a-z][a-z0-9+.-]{1,31}://\S+\Z")
_ENV_NAME = re.compile(r"^env:[A-Z_][A-Z0-9_]{0,63}\Z")


@dataclass(frozen=True, slots=True, order=True)
class Destination:
    """A parsed destination; ``str()`` gives back its canonical written form."""

    platform: Platform
    kind: Kind
    address: str
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def person(self) -> str | None:
        """The person this destination reaches directly (DMs and mailboxes), if any."""
        if self.kind is Kind.DM:
            return person_id(self.platform, self.address)
        if self.kind is Kind.EMAIL:
            return f"email:{self.address.lower()}"
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """A concrete place one message goes: a channel, a person's DM, a mailbox, a web hook.

    ``id`` is the place as written after its platform (``#releases``, ``@U0123``,
    ``user:81234…``, ``ops@example.com``, ``env:STATUS_PAGE``); ``str()`` gives back the
    written form a delivery is keyed and stored by (``slack:#releases``).
    """

    platform: Platform
    kind: Kind
    id: str

    def __str__(self) -> str:
        return f"{self.platform.value}:{self.id}"

    @classmethod
    def written(cls, text: str, kind: Kind) -> Target:
        """The target a delivery records as ``text`` (``platform:id``), of sort ``kind``.

        Raises:
            ValueError: ``text`` names no platform Herald knows.
        """
        platform, _, rest = text.partition(":")
        return cls(Platform(platform), kind, rest)


def person_id(platform: Platform | str, user: str) -> str:
    """The platform-qualified id of a person, as the plan's access lists write it."""
    return f"{platform}:{user}"


def parse_destination(text: str) -> Destination:
    """Parse one destination as written in a plan.

    Raises:
        ValueError: with a sentence saying which forms are accepted.
    """
    if not isinstance(text, str) or ":" not in text:
        raise ValueError(f"{text!r} is not a destination; it must start with a platform, e.g. slack:#releases")
    platform_text, rest = text.split(":", 1)
    try:
        platform = Platform(platform_text)
    except ValueError:
        known = ", ".join(p.value for p in Platform)
        raise ValueError(f"{text!r} names an unknown platform {platform_text!r}; use one of {known}") from None
    parser = _PARSERS[platform]
    kind, address = parser(text, rest)
    if platform is Platform.EMAIL or address.startswith("email:"):
        text = text.split(":", 1)[0] + ":" + rest.lower()  # mailboxes compare case-insensitively
    if platform is Platform.SUBSCRIBERS:
        text = f"subscribers:{'all' if address == '*' else address}"
    return Destination(platform=platform, kind=kind, address=address, text=text)


def _bad(text: str, forms: str) -> ValueError:
    return ValueError(f"{text!r} is not a valid destination; expected {forms}")


def _slack(text: str, rest: str) -> tuple[Kind, str]:
    forms = "slack:#name, slack:C…, slack:@U…, slack:usergroup:S… or slack:email:ADDR"
    if rest.startswith("#") and _SLACK_CHANNEL_NAME.match(rest[1:]):
        return Kind.CHANNEL, rest
    if _SLACK_CHANNEL_ID.match(rest):
        return Kind.CHANNEL, rest
    if rest.startswith("@") and _SLACK_USER_ID.match(rest[1:]):
        return Kind.DM, rest[1:]
    if rest.startswith("usergroup:") and _SLACK_USERGROUP_ID.match(rest[len("usergroup:") :]):
        return Kind.GROUP, rest[len("usergroup:") :]
    if rest.startswith("email:") and _EMAIL.match(rest[len("email:") :]):
        return Kind.DM, "email:" + rest[len("email:") :].lower()
    raise _bad(text, forms)


def _discord(text: str, rest: str) -> tuple[Kind, str]:
    forms = "discord:channel:ID, discord:user:ID or discord:role:GUILD_ID/ROLE_ID"
    kind_text, _, value = rest.partition(":")
    if kind_text == "channel" and _SNOWFLAKE.match(value):
        return Kind.CHANNEL, value
    if kind_text == "user" and _SNOWFLAKE.match(value):
        return Kind.DM, value
    if kind_text == "role":
        guild, _, role = value.partition("/")
        if _SNOWFLAKE.match(guild) and _SNOWFLAKE.match(role):
            return Kind.GROUP, value
    raise _bad(text, forms)


def _email(text: str, rest: str) -> tuple[Kind, str]:
    if _EMAIL.match(rest) and len(rest) <= 254:
        return Kind.EMAIL, rest.lower()
    raise _bad(text, "email:someone@example.com")


def _webhook(text: str, rest: str) -> tuple[Kind, str]:
    if _URL.match(rest) or _ENV_NAME.match(rest):
        return Kind.WEBHOOK, rest
    raise _bad(text, "webhook:https://host/path or webhook:env:NAME (the URL in an environment variable)")


def _apprise(text: str, rest: str) -> tuple[Kind, str]:
    if _SERVICE_URL.match(rest) or _ENV_NAME.match(rest):
        return Kind.WEBHOOK, rest
    raise _bad(text, "apprise:SERVICE://… (an Apprise URL, e.g. apprise:pagerduty://…) or apprise:env:NAME")


def _web(text: str, rest: str) -> tuple[Kind, str]:
    if _SHELL_NAME.match(rest):
        return Kind.CHANNEL, rest  # one posting, read by whoever opens the page
    raise _bad(text, "web:NAME (a page of Herald's release site, e.g. web:releases)")


def _subscribers(text: str, rest: str) -> tuple[Kind, str]:
    name = rest.lower()
    if name == "all":
        return Kind.GROUP, "*"
    if _COMPONENT.match(name):
        return Kind.GROUP, name
    raise _bad(text, "subscribers:COMPONENT (e.g. subscribers:api) or subscribers:all")


def _shell(text: str, rest: str) -> tuple[Kind, str]:
    if rest.startswith("#") and _SHELL_NAME.match(rest[1:]):
        return Kind.CHANNEL, rest[1:]
    if rest.startswith("@") and _SHELL_NAME.match(rest[1:]):
        return Kind.DM, rest[1:]
    raise _bad(text, "shell:#channel or shell:@name")


_PARSERS = {
    Platform.SLACK: _slack,
    Platform.DISCORD: _discord,
    Platform.EMAIL: _email,
    Platform.WEBHOOK: _webhook,
    Platform.SHELL: _shell,
    Platform.APPRISE: _apprise,
    Platform.WEB: _web,
    Platform.SUBSCRIBERS: _subscribers,
}
