"""E-mail's section of the settings: the SMTP server, the report mailbox, the bounce address.

``SMTP_URL`` and ``HERALD_IMAP_URL`` each set several fields (host, port, TLS, login,
mailbox); a URL that does not parse is one sentence, and then nothing else of its section
is checked.

The relay's pace has two settings, because relays state it two ways: ``HERALD_SMTP_RATE``
in messages a second (Amazon SES's "maximum send rate"), ``SMTP_MAX_PER_MINUTE`` in
messages a minute (Exchange Online, Postfix's anvil, and how SES's quota is often quoted:
840 for a default account). ``EmailSettings.pace`` says how they combine.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr
from typing import Annotated, Any, ClassVar, Literal, Protocol
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from adapters.config import CaFile, Secret, Section, Switch, WholeNumber, wrong

_SMTP_PORTS = {"smtp": 587, "smtps": 465}
_IMAP_PORTS = {"imap": 143, "imaps": 993}
_PER_MINUTE = "SMTP_MAX_PER_MINUTE"
_PER_MINUTE_TOO = "HERALD_SMTP_MAX_PER_MINUTE"
_MOST_PER_MINUTE = 600_000  # HERALD_SMTP_RATE's ceiling (10,000 a second), a minute's worth
UNLIMITED = "unlimited"


def _per_minute(value: object) -> object:
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text == UNLIMITED:
        return UNLIMITED
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= _MOST_PER_MINUTE:
        raise wrong()
    return int(text)


PerMinute = Annotated[int | Literal["unlimited"], BeforeValidator(_per_minute)]
"""Messages a minute (a whole number, no sign), or ``unlimited``."""


class EmailSettings(Section):
    """How to send e-mail: one SMTP server (``SMTP_URL``) and the sender (``HERALD_MAIL_FROM``)."""

    switched_on_by: ClassVar[tuple[str, ...]] = ("SMTP_URL",)
    reads_also: ClassVar[tuple[str, ...]] = (_PER_MINUTE_TOO,)

    host: str
    port: int
    tls: Literal["tls", "starttls", "optional"]  # smtps:// (implicit TLS), smtp:// with a login, smtp:// without
    username: str | None = None
    password: Secret | None = None
    sender: Address = Field(
        validation_alias="HERALD_MAIL_FROM",
        description="is required with SMTP_URL: the sender, e.g. Herald <herald@example.com>",
    )
    per_second: float = Field(
        5.0,
        validation_alias="HERALD_SMTP_RATE",
        gt=0,
        le=10_000,
        description="must be a positive number of messages per second",
    )
    max_per_minute: PerMinute | None = Field(
        None,
        validation_alias=_PER_MINUTE,
        description=f"(or {_PER_MINUTE_TOO}) must be a whole number of messages a minute "
        f"from 1 to {_MOST_PER_MINUTE:,}, such as 840, or unlimited",
    )
    # The CAs trusted for this server instead of the system's.
    ca_file: CaFile | None = Field(None, validation_alias="HERALD_SMTP_CA_FILE")
    connections: WholeNumber = Field(  # sessions held at once (Office 365 allows 3): the relay's concurrency
        3,
        validation_alias="HERALD_SMTP_CONNECTIONS",
        ge=1,
        le=100,
        description="must be a whole number from 1 to 100",
    )

    @property
    def pace(self) -> float | None:
        """Messages a second Herald hands the relay, shared by every process; None: as fast as it takes them.

        Each setting that is set is a limit, and the stricter wins; ``HERALD_SMTP_RATE``'s
        default (5 a second) applies only when ``SMTP_MAX_PER_MINUTE`` is not set, so that
        ``SMTP_MAX_PER_MINUTE=840`` alone means 14 a second. ``unlimited`` (for a relay on
        the same host that queues whatever it is given) sets no limit of its own.
        """
        limits: list[float] = []
        if "per_second" in self.model_fields_set or self.max_per_minute is None:
            limits.append(self.per_second)
        if isinstance(self.max_per_minute, int):
            limits.append(self.max_per_minute / 60.0)
        return min(limits) if limits else None

    @model_validator(mode="before")
    @classmethod
    def _per_minute_by_either_name(cls, data: Any) -> Any:
        """``HERALD_SMTP_MAX_PER_MINUTE`` is the same setting under Herald's prefix; set twice, it must agree."""
        if not isinstance(data, dict) or _PER_MINUTE_TOO not in data:
            return data
        given = {**data}
        also = given.pop(_PER_MINUTE_TOO)
        if _PER_MINUTE in given and given[_PER_MINUTE] != also:
            raise ValueError(
                f"{_PER_MINUTE} and {_PER_MINUTE_TOO} are the same setting but are set to different values "
                f"({given[_PER_MINUTE][:20]!r} and {also[:20]!r}); set one of them"
            )
        return {**given, _PER_MINUTE: also}

    @model_validator(mode="before")
    @classmethod
    def _server(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "SMTP_URL" not in data:
            return data
        parts = urlsplit(data["SMTP_URL"])
        default = 25 if parts.scheme == "smtp" and not parts.username else _SMTP_PORTS.get(parts.scheme, 0)
        port = _port(parts, default)
        if parts.scheme not in _SMTP_PORTS or not parts.hostname or not port:
            raise ValueError(
                "SMTP_URL must look like smtp://user:password@host:587 (STARTTLS), smtps://user:password@host:465 "
                "(TLS) or smtp://host:25 (a local relay)"
            )
        username = unquote(parts.username) if parts.username else None
        tls = "tls" if parts.scheme == "smtps" else ("starttls" if username else "optional")
        password = unquote(parts.password) if parts.password else None
        return {**data, "host": parts.hostname, "port": port, "tls": tls, "username": username, "password": password}

    @field_validator("sender", mode="before")
    @classmethod
    def _one_address(cls, text: object) -> object:
        if not isinstance(text, str):
            return text
        name, address = parseaddr(text)
        if any(c in text for c in "\r\n") or "@" not in address or " " in address:
            raise ValueError(f"must be one address such as Herald <herald@example.com> (got {text[:60]!r})")
        user, _, domain = address.rpartition("@")
        try:
            return Address(display_name=name, username=user, domain=domain)
        except (ValueError, IndexError):
            raise ValueError(f"is not a usable address (got {text[:60]!r})") from None


class ImapSettings(Section):
    """The mailbox where delivery reports arrive (``HERALD_IMAP_URL``), polled every ``poll_seconds``."""

    switched_on_by: ClassVar[tuple[str, ...]] = ("HERALD_IMAP_URL",)

    host: str
    port: int
    tls: bool  # imaps:// (else STARTTLS when the server offers it)
    username: str
    password: Secret
    mailbox: str
    poll_seconds: float = Field(
        60.0,
        validation_alias="HERALD_IMAP_POLL",
        ge=1,
        le=86_400,
        description="must be a number of seconds from 1 to 86400",
    )
    # The CAs trusted for this server instead of the system's.
    ca_file: CaFile | None = Field(None, validation_alias="HERALD_IMAP_CA_FILE")
    # imap:// without STARTTLS is read in the clear.
    insecure: Switch = Field(False, validation_alias="HERALD_IMAP_INSECURE")
    # Where mail Herald has applied is moved to.
    processed: str = Field("Herald/Processed", validation_alias="HERALD_IMAP_PROCESSED")

    @model_validator(mode="before")
    @classmethod
    def _mailbox(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "HERALD_IMAP_URL" not in data:
            return data
        parts = urlsplit(data["HERALD_IMAP_URL"])
        port = _port(parts, _IMAP_PORTS.get(parts.scheme, 0))
        if parts.scheme not in _IMAP_PORTS or not parts.hostname or not port or not parts.username:
            raise ValueError(
                "HERALD_IMAP_URL must look like imaps://user:password@host:993/INBOX "
                "(or imap://…:143/INBOX with STARTTLS)"
            )
        return {
            **data,
            "host": parts.hostname,
            "port": port,
            "tls": parts.scheme == "imaps",
            "username": unquote(parts.username),
            "password": unquote(parts.password or ""),
            "mailbox": unquote(parts.path.lstrip("/")) or "INBOX",
        }

    @field_validator("insecure")
    @classmethod
    def _only_without_tls(cls, insecure: bool, info: ValidationInfo) -> bool:
        if insecure and info.data.get("tls"):
            raise ValueError(
                "HERALD_IMAP_INSECURE=on is for an imap:// server without STARTTLS; imaps:// is always verified"
            )
        return insecure

    @field_validator("processed")
    @classmethod
    def _folder_name(cls, folder: str) -> str:
        if any(c in folder for c in '\r\n"*%'):
            raise ValueError(f"must be a folder name such as Herald/Processed (got {folder[:40]!r})")
        return folder


class BounceSettings(Section):
    """The VERP return path (``HERALD_BOUNCE_ADDRESS``) and the secret that signs mail refs.

    The secret is ``HERALD_BOUNCE_SECRET``, else ``HERALD_LINK_SECRET`` when that is long enough.
    """

    reads_also: ClassVar[tuple[str, ...]] = ("HERALD_LINK_SECRET",)

    secret: Secret | None = Field(None, validation_alias="HERALD_BOUNCE_SECRET")
    address: Address | None = Field(None, validation_alias="HERALD_BOUNCE_ADDRESS")  # bounces+<ref>@ it

    @model_validator(mode="before")
    @classmethod
    def _or_the_link_secret(cls, data: Any) -> Any:
        if isinstance(data, dict) and "HERALD_BOUNCE_SECRET" not in data:
            link = data.get("HERALD_LINK_SECRET", "")
            return {**data, "HERALD_BOUNCE_SECRET": link} if len(link) >= 32 else data
        return data

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: Secret | None) -> Secret | None:
        if secret is not None and len(secret.reveal()) < 32:
            raise ValueError("must be at least 32 random characters, the same on every Herald process")
        return secret

    @field_validator("address", mode="before")
    @classmethod
    def _plain_and_signed(cls, text: object, info: ValidationInfo) -> object:
        if not isinstance(text, str):
            return text
        _name, spec = parseaddr(text)
        user, _, domain = spec.rpartition("@")
        if not user or "." not in domain or "+" in user or any(c in text for c in "\r\n <>"):
            raise ValueError(
                "must be one plain address whose server delivers bounces+anything@ to it, "
                f"such as bounces@lists.example.com (got {text[:60]!r})"
            )
        if "secret" in info.data and info.data["secret"] is None:  # a short one is said already
            raise ValueError(
                "HERALD_BOUNCE_ADDRESS needs HERALD_BOUNCE_SECRET (or HERALD_LINK_SECRET): at least 32 random "
                "characters that sign each return path, so that nobody can forge a bounce"
            )
        return Address(username=user, domain=domain)


def _port(parts: SplitResult, default: int) -> int:
    try:
        return parts.port or default
    except ValueError:  # not a number, or out of range
        return 0


class MailConfig(Protocol):
    """E-mail's part of the settings, as the composition root hands it over."""

    @property
    def email(self) -> EmailSettings | None: ...

    @property
    def imap(self) -> ImapSettings | None: ...

    @property
    def bounce_address(self) -> Address | None: ...

    @property
    def mail_secret(self) -> Secret | None: ...
