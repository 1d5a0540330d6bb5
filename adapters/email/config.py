"""E-mail's section of the settings: the SMTP server, the report mailbox, the bounce address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from adapters.config import Secret, switch
from adapters.config import ca_file as read_ca_file


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """How to send e-mail: one SMTP server (``SMTP_URL``) and the sender (``HERALD_MAIL_FROM``)."""

    host: str
    port: int
    tls: str  # "tls" (smtps://, implicit TLS), "starttls" (smtp:// with a login), "optional" (smtp://)
    username: str | None
    password: Secret | None
    sender: Address
    per_second: float
    ca_file: Path | None = None  # HERALD_SMTP_CA_FILE: the CAs trusted for this server instead of the system's
    connections: int = 3  # HERALD_SMTP_CONNECTIONS: sessions held at once (Office 365 allows 3)


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """The mailbox where delivery reports arrive (``HERALD_IMAP_URL``), polled every ``poll_seconds``."""

    host: str
    port: int
    tls: bool  # imaps:// (else STARTTLS when the server offers it)
    username: str
    password: Secret
    mailbox: str
    poll_seconds: float
    ca_file: Path | None = None  # HERALD_IMAP_CA_FILE: the CAs trusted for this server instead of the system's
    insecure: bool = False  # HERALD_IMAP_INSECURE=on: imap:// without STARTTLS is read in the clear
    processed: str = "Herald/Processed"  # HERALD_IMAP_PROCESSED: where mail Herald has applied is moved to


def imap_settings(values: Mapping[str, str], problems: list[str]) -> ImapSettings | None:
    """``HERALD_IMAP_URL`` and ``HERALD_IMAP_POLL``; None when no report mailbox is set."""
    url = values.get("HERALD_IMAP_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port or {"imap": 143, "imaps": 993}.get(parts.scheme, 0)
    except ValueError:
        port = 0
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not port or not parts.username:
        problems.append(
            "HERALD_IMAP_URL must look like imaps://user:password@host:993/INBOX (or imap://…:143/INBOX with STARTTLS)"
        )
        return None
    poll_text = values.get("HERALD_IMAP_POLL", "").strip() or "60"
    try:
        poll = float(poll_text)
    except ValueError:
        poll = 0.0
    if not 1 <= poll <= 86_400:
        problems.append(f"HERALD_IMAP_POLL must be a number of seconds from 1 to 86400 (got {poll_text[:10]!r})")
    insecure = switch(values, "HERALD_IMAP_INSECURE", problems)
    processed = values.get("HERALD_IMAP_PROCESSED", "").strip() or "Herald/Processed"
    if any(c in processed for c in '\r\n"*%'):
        problems.append(
            f"HERALD_IMAP_PROCESSED must be a folder name such as Herald/Processed (got {processed[:40]!r})"
        )
    if insecure and parts.scheme == "imaps":
        problems.append(
            "HERALD_IMAP_INSECURE=on is for an imap:// server without STARTTLS; imaps:// is always verified"
        )
    return ImapSettings(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "imaps",
        username=unquote(parts.username),
        password=Secret(unquote(parts.password or "")),
        mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
        poll_seconds=poll if poll >= 1 else 60.0,
        ca_file=read_ca_file(values, "HERALD_IMAP_CA_FILE", problems),
        insecure=insecure,
        processed=processed,
    )


def bounce_settings(values: Mapping[str, str], problems: list[str]) -> tuple[Address | None, Secret | None]:
    """``HERALD_BOUNCE_ADDRESS``, and the secret that signs mail refs: ``HERALD_BOUNCE_SECRET``, else the link one."""
    secret_text = values.get("HERALD_BOUNCE_SECRET", "").strip()
    if secret_text and len(secret_text) < 32:
        problems.append("HERALD_BOUNCE_SECRET must be at least 32 random characters, the same on every Herald process")
    link_secret = values.get("HERALD_LINK_SECRET", "").strip()
    secret_text = secret_text or (link_secret if len(link_secret) >= 32 else "")
    text = values.get("HERALD_BOUNCE_ADDRESS", "").strip()
    address: Address | None = None
    if text:
        _name, spec = parseaddr(text)
        user, _, domain = spec.rpartition("@")
        if not user or "." not in domain or "+" in user or any(c in text for c in "\r\n <>"):
            problems.append(
                "HERALD_BOUNCE_ADDRESS must be one plain address whose server delivers bounces+anything@ to it, "
                f"such as bounces@lists.example.com (got {text[:60]!r})"
            )
        else:
            address = Address(username=user, domain=domain)
        if not secret_text:
            problems.append(
                "HERALD_BOUNCE_ADDRESS needs HERALD_BOUNCE_SECRET (or HERALD_LINK_SECRET): at least 32 random "
                "characters that sign each return path, so that nobody can forge a bounce"
            )
    return address, Secret(secret_text) if secret_text else None


_SMTP_PORTS = {"smtp": 587, "smtps": 465}


def email_settings(values: Mapping[str, str], problems: list[str]) -> EmailSettings | None:
    """``SMTP_URL``, ``HERALD_MAIL_FROM`` and ``HERALD_SMTP_RATE``; None when no SMTP server is set."""
    url = values.get("SMTP_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port or (25 if parts.scheme == "smtp" and not parts.username else _SMTP_PORTS.get(parts.scheme, 0))
    except ValueError:
        port = 0
    if parts.scheme not in _SMTP_PORTS or not parts.hostname or not port:
        problems.append(
            "SMTP_URL must look like smtp://user:password@host:587 (STARTTLS), smtps://user:password@host:465 "
            "(TLS) or smtp://host:25 (a local relay)"
        )
        return None
    username = unquote(parts.username) if parts.username else None
    password = Secret(unquote(parts.password)) if parts.password else None
    sender_text = values.get("HERALD_MAIL_FROM", "").strip()
    sender = _mail_from(sender_text, problems)
    rate_text = values.get("HERALD_SMTP_RATE", "").strip() or "5"
    try:
        rate = float(rate_text)
    except ValueError:
        rate = 0.0
    if not 0 < rate <= 10_000:
        problems.append(f"HERALD_SMTP_RATE must be a positive number of messages per second (got {rate_text[:10]!r})")
    ca_file = read_ca_file(values, "HERALD_SMTP_CA_FILE", problems)
    connections_text = values.get("HERALD_SMTP_CONNECTIONS", "").strip() or "3"
    connections = int(connections_text) if connections_text.isdigit() else 0
    if not 1 <= connections <= 100:
        problems.append(f"HERALD_SMTP_CONNECTIONS must be a whole number from 1 to 100 (got {connections_text[:10]!r})")
    if sender is None:
        return None
    tls = "tls" if parts.scheme == "smtps" else ("starttls" if username else "optional")
    return EmailSettings(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=username,
        password=password,
        sender=sender,
        per_second=rate if rate > 0 else 5.0,
        ca_file=ca_file,
        connections=min(max(connections, 1), 100),
    )


def _mail_from(text: str, problems: list[str]) -> Address | None:
    if not text:
        problems.append("HERALD_MAIL_FROM is required with SMTP_URL: the sender, e.g. Herald <herald@example.com>")
        return None
    name, address = parseaddr(text)
    if any(c in text for c in "\r\n") or "@" not in address or " " in address:
        problems.append(f"HERALD_MAIL_FROM must be one address such as Herald <herald@example.com> (got {text[:60]!r})")
        return None
    user, _, domain = address.rpartition("@")
    try:
        return Address(display_name=name, username=user, domain=domain)
    except (ValueError, IndexError):
        problems.append(f"HERALD_MAIL_FROM is not a usable address (got {text[:60]!r})")
        return None


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
