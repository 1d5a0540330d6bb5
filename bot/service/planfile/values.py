"""The values a plan file holds, as pydantic field types: each checks its TOML value and parses it.

A rule that is Herald's own (a destination, a duration, a template that must parse)
raises ``ValueError`` with the sentence a person reads; ``errors.py`` keeps that sentence
and words pydantic's own complaints. Most types take any TOML value and check its type
themselves (``PlainValidator``), so ``3600`` is reported as "3600 is not a duration"
rather than as a wrong type.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, PlainValidator, ValidationInfo

from bot.domain.destinations import Destination, Platform, parse_destination
from bot.domain.durations import parse_duration
from bot.domain.order import OnTimeout, Threshold
from bot.domain.people import parse_announcer, parse_person
from bot.domain.plan import AckPolicy, ReceiptLevel, ReleaseLevel, Versioning
from bot.service.planfile.release_vars import RESERVED_VARS
from bot.service.templating import syntax_problem

AFTER_ITEMS = 'must be a list of group ids or tables such as { group = "support", acknowledged = "80%" }'
"""What an ``after`` entry that is neither a group id nor a table is told."""
LIST_OF_STRINGS = "must be a list of strings"
"""What a list of strings holding something else is told (the list as a whole, once)."""

_GROUP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
T = TypeVar("T")


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _template(value: object) -> str:
    source = _text(value)
    problem = syntax_problem(source, "<plan>")
    if problem:
        raise ValueError(problem)
    return source


def _subject(value: object) -> str:
    source = _text(value)
    if "\r" in source or "\n" in source:
        # A line break in a header would start a new header: refuse it, never fold it.
        raise ValueError("must be one line (a line break would inject an e-mail header)")
    return _template(source)


_FROM_FORM = 'an address such as "Release Team <releases@example.com>"'
_EMOJI = re.compile(r"^:[a-z0-9_+'-]{1,100}:\Z")
SLACK_USERNAME_MAX = 80
"""The longest name Slack shows on a post."""


def _email_from(value: object) -> str:
    """One mailbox, with or without a display name, in the form the From header will carry it."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be {_FROM_FORM}")
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be one line (a line break would inject an e-mail header)")
    header = policy.default.header_factory("From", value)
    groups = header.groups
    one = len(groups) == 1 and groups[0].display_name is None and len(groups[0].addresses) == 1
    if header.defects or not one:
        raise ValueError(f"{value!r} is not {_FROM_FORM}")
    mailbox = groups[0].addresses[0]
    if not mailbox.username or "." not in mailbox.domain or not mailbox.addr_spec.isascii():
        raise ValueError(f"{value!r} is not {_FROM_FORM}")  # an address the SMTP policy could not write
    return str(Address(mailbox.display_name, mailbox.username, mailbox.domain))


def _slack_username(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a name of 1 to {SLACK_USERNAME_MAX} characters")
    if len(value) > SLACK_USERNAME_MAX:
        raise ValueError(f"is {len(value)} characters long; Slack shows at most {SLACK_USERNAME_MAX}")
    if not value.isprintable():
        raise ValueError("must be one line of printable characters")
    return value


DISCORD_NAME_MAX = 80
"""The longest name a Discord webhook's post shows."""
DISCORD_WEBHOOK_FORM = "https://discord.com/api/webhooks/ID/TOKEN"
"""The form of a Discord webhook's URL, as its channel's settings give it."""
_DISCORD_HOSTS = frozenset({"discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com"})
_DISCORD_WEBHOOK_PATH = re.compile(r"^/api(?:/v[0-9]{1,2})?/webhooks/[0-9]{15,21}/[A-Za-z0-9_-]{1,200}/?\Z")
_ENV_NAME = re.compile(r"^env:(?P<name>[A-Z_][A-Z0-9_]{0,63})\Z")
_NOT_SHOWN = "(the value is not shown: it holds the webhook's token)"


def _https_url(value: object) -> str | None:
    """``value`` when it is one https URL with a host name, else None."""
    if isinstance(value, str) and value.isprintable() and " " not in value:
        url = urlsplit(value)
        if url.scheme == "https" and url.hostname and "." in url.hostname:
            return value
    return None


def _slack_icon(value: object) -> str:
    if isinstance(value, str) and _EMOJI.match(value):
        return value
    if (url := _https_url(value)) is not None:
        return url
    raise ValueError(f"{value!r} is not an emoji code such as :rocket: or an https:// URL of an image")


def _discord_webhook(value: object) -> str:
    """A Discord webhook's URL, written in the plan or read now from ``env:NAME``; the URL is never echoed."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a Discord webhook URL ({DISCORD_WEBHOOK_FORM}) or env:NAME")
    if not value.startswith("env:"):
        why = _not_a_webhook(value)
        if why:
            raise ValueError(f"is not a Discord webhook URL such as {DISCORD_WEBHOOK_FORM}: {why} {_NOT_SHOWN}")
        return value
    named = _ENV_NAME.match(value)
    if named is None:
        raise ValueError(f"{value!r} is not env:NAME (NAME in upper-case letters, digits and _)")
    name = named["name"]
    url = os.environ.get(name, "").strip()
    if not url:
        raise ValueError(f"the environment variable {name} is not set; it must hold the webhook's URL")
    why = _not_a_webhook(url)
    if why:
        raise ValueError(f"the environment variable {name} does not hold a Discord webhook URL: {why} {_NOT_SHOWN}")
    return url


def _not_a_webhook(text: str) -> str | None:
    """Why ``text`` is not a Discord webhook's URL, in words that repeat none of it but its host (None: it is)."""
    try:
        url = urlsplit(text)
        host, port = url.hostname, url.port
    except ValueError:  # a bracket left open, a port that is no number
        return "it does not read as a URL"
    if url.scheme != "https":
        return "it must start with https://"
    if host not in _DISCORD_HOSTS:
        return f"its host is {host or 'missing'}, not discord.com"
    if port is not None or url.username is not None:
        return "it must name no user and no port"
    if url.query or url.fragment or not _DISCORD_WEBHOOK_PATH.match(url.path):
        return "it must end in /api/webhooks/ID/TOKEN, as the channel's Integrations → Webhooks gives it"
    return None


def _discord_username(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a name of 1 to {DISCORD_NAME_MAX} characters")
    if len(value) > DISCORD_NAME_MAX:
        raise ValueError(f"is {len(value)} characters long; Discord shows at most {DISCORD_NAME_MAX}")
    if not value.isprintable():
        raise ValueError("must be one line of printable characters")
    reserved = next((word for word in ("clyde", "discord") if word in value.lower()), None)
    if reserved:
        raise ValueError(f"{value!r} contains “{reserved}”, which Discord refuses in a webhook's name")
    return value


def _discord_avatar(value: object) -> str:
    if (url := _https_url(value)) is not None:
        return url
    raise ValueError(f"{value!r} is not an https:// URL of an image")


def _group_id(value: object) -> str:
    text = _text(value)
    if not _GROUP_ID.match(text):
        raise ValueError("must be lower-case letters, digits, - or _ (at most 40)")
    if text == "all":
        raise ValueError("“all” is reserved (/release approve VERSION all approves every group)")
    return text


def _ack(value: object) -> AckPolicy:
    if isinstance(value, str) and value in set(AckPolicy):
        return AckPolicy(value)
    raise ValueError(f'{value!r} is not one of "required", "optional", "none"')


def _announce_for(value: object) -> ReleaseLevel:
    if isinstance(value, str) and value in set(ReleaseLevel):
        return ReleaseLevel(value)
    raise ValueError(f'{value!r} is not one of "major", "minor", "patch"')


def _versioning(value: object) -> Versioning:
    if isinstance(value, str) and value in set(Versioning):
        return Versioning(value)
    raise ValueError(f'{value!r} is not one of "semver", "pep440"')


def _require(value: object) -> ReceiptLevel:
    if isinstance(value, str) and value in set(ReceiptLevel):
        return ReceiptLevel(value)
    raise ValueError(f'{value!r} is not one of "delivered", "read", "acknowledged"')


_SHARE = re.compile(r"^\s*([0-9]{1,6})\s*%\s*\Z")
_THRESHOLD_FORMS = 'write a share such as "80%", "all", or a count such as 3'


def _threshold(value: object) -> Threshold:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"{value} is not a count of people; {_THRESHOLD_FORMS}")
        return Threshold(count=value)
    if value == "all":
        return Threshold(percent=100)
    share = _SHARE.match(value) if isinstance(value, str) else None
    if share is None:
        raise ValueError(f"{value!r} is not a threshold; {_THRESHOLD_FORMS}")
    percent = int(share.group(1))
    if percent > 100:
        raise ValueError(f'{value!r} is over 100%; a share is at most 100% ("all")')
    if percent == 0:
        raise ValueError(f"{value!r} is zero; to wait only for the sending, write the group's id alone")
    return Threshold(percent=percent)


def _on_timeout(value: object) -> OnTimeout:
    if isinstance(value, str) and value in set(OnTimeout):
        return OnTimeout(value)
    raise ValueError(f'{value!r} is not one of "send", "escalate"')


def _after_name(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(AFTER_ITEMS)
    return value


def _moment(value: object) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time; write e.g. 2026-12-01T09:00:00Z") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError("must be a date and time with a UTC offset, e.g. 2026-12-01T09:00:00Z")
    return value.astimezone(UTC)


def _once_each(destinations: list[Destination]) -> list[Destination]:
    seen: set[Destination] = set()
    twice: list[str] = []
    for destination in destinations:
        if destination in seen and str(destination) not in twice:
            twice.append(str(destination))
        seen.add(destination)
    if twice:
        raise ValueError("; ".join(f"{text!r} is listed twice" for text in twice))
    return destinations


def _var_name(name: str) -> str:
    if not _VAR_NAME.match(name):
        raise ValueError("is not a valid variable name (letters, digits, _)")
    if name in RESERVED_VARS:
        raise ValueError("is set by Herald itself and cannot be redefined")
    return name


def _var_value(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    problem = syntax_problem(value, "<vars>")
    if problem:
        raise ValueError(problem)
    return value


def _vars_file(value: object) -> str:
    text = _text(value)
    if "{version}" not in text:
        raise ValueError("must contain {version}, e.g. releases/{version}.toml")
    return text


def _listed(parse: Callable[[str], T]) -> PlainValidator:
    """An item of a list of strings, parsed; an item that is no string is the list's mistake."""

    def check(value: object) -> T:
        if not isinstance(value, str):
            raise ValueError(LIST_OF_STRINGS)
        return parse(value)

    return PlainValidator(check)


def filled(missing: str, empty: str | None = None) -> BeforeValidator:
    """A list that must be given and hold something, each case said in its own words.

    Such a field defaults to None, which TOML cannot write: None means "left out".
    """

    def check(value: object) -> object:
        if value is None or value == []:
            raise ValueError(missing if value is None else empty or missing)
        return value

    return BeforeValidator(check)


@dataclass(frozen=True, slots=True)
class TemplateFile:
    """A ``message_file``: its path as written (relative to the plan) and its text."""

    path: str
    text: str


def _template_file(value: object, info: ValidationInfo) -> TemplateFile:
    relative = _text(value)
    folder = Path(info.context["base_dir"]) if info.context else Path(".")
    try:
        source = (folder / relative).read_text(encoding="utf-8")
    except (OSError, ValueError) as error:  # ValueError: bytes that are not UTF-8, or a NUL in the path
        reason = "file not found" if isinstance(error, FileNotFoundError) else str(error)
        raise ValueError(f"{relative}: {reason}") from None
    if not source.strip():
        raise ValueError(f"{relative} is empty")
    return TemplateFile(relative, _template(source))


Text = Annotated[str, PlainValidator(_text)]
"""A string with something in it."""
Template = Annotated[str, PlainValidator(_template)]
"""A Jinja2 template that parses."""
Subject = Annotated[str, PlainValidator(_subject)]
"""A one-line template: an e-mail subject."""
EmailFrom = Annotated[str, PlainValidator(_email_from)]
"""One mailbox for a From header, in its canonical form: ``Release Team <releases@example.com>``."""
SlackUsername = Annotated[str, PlainValidator(_slack_username)]
"""The name a group's Slack posts show (chat.postMessage ``username``)."""
SlackIcon = Annotated[str, PlainValidator(_slack_icon)]
"""The icon of a group's Slack posts: an emoji code such as ``:rocket:`` or an https URL of an image."""
DiscordWebhook = Annotated[str, PlainValidator(_discord_webhook)]
"""A Discord webhook's URL (a secret), as written or read at load time from ``env:NAME``."""
DiscordUsername = Annotated[str, PlainValidator(_discord_username)]
"""The name a group's Discord webhook posts show (Execute Webhook's ``username``)."""
DiscordAvatar = Annotated[str, PlainValidator(_discord_avatar)]
"""The image a group's Discord webhook posts show: an https URL (Execute Webhook's ``avatar_url``)."""
MessageFile = Annotated[TemplateFile, PlainValidator(_template_file)]
"""A template file's path, read (relative to the validation context's ``base_dir``) into a ``TemplateFile``."""
GroupId = Annotated[str, PlainValidator(_group_id)]
Person = Annotated[str, _listed(parse_person)]
"""One entry of an access list."""
Announcer = Annotated[str, _listed(parse_announcer)]
"""One entry of ``announcers``: a person, or a release pipeline (``api:NAME``)."""
Duration = Annotated[timedelta, PlainValidator(parse_duration)]
Moment = Annotated[datetime, PlainValidator(_moment)]
"""A date and time with a UTC offset (a TOML date-time or an ISO 8601 string), in UTC."""
Ack = Annotated[AckPolicy, PlainValidator(_ack)]
Require = Annotated[ReceiptLevel, PlainValidator(_require)]
AnnounceFor = Annotated[ReleaseLevel, PlainValidator(_announce_for)]
VersioningScheme = Annotated[Versioning, PlainValidator(_versioning)]
Acknowledged = Annotated[Threshold, PlainValidator(_threshold)]
"""How many of a group's readers must acknowledge: ``"80%"``, ``"all"`` or a count."""
AfterName = PlainValidator(_after_name)
"""An ``after`` entry written as a group id (whether the group exists is a rule between groups)."""
WhenTimedOut = Annotated[OnTimeout, PlainValidator(_on_timeout)]
Destinations = Annotated[list[Annotated[Destination, _listed(parse_destination)]], AfterValidator(_once_each)]
"""A list of destinations, none written twice."""


def _told_directly(destinations: list[Destination]) -> list[Destination]:
    if any(d.platform is Platform.SUBSCRIBERS for d in destinations):
        raise ValueError("an escalation goes to people or channels named here, not to subscribers:…")
    return destinations


EscalateTo = Annotated[Destinations, AfterValidator(_told_directly)]
"""Who an escalation tells: destinations, never ``subscribers:…`` (whoever subscribed did not sign up for that)."""
VarName = Annotated[str, AfterValidator(_var_name)]
VarValue = Annotated[str, PlainValidator(_var_value)]
VarsFile = Annotated[str, PlainValidator(_vars_file)]
