"""Configuration from the environment and an optional ``.env`` file, checked at start."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values

from bot.domain.errors import ConfigError

_DB_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg", "memory")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("text", "json")
_HOST = re.compile(r"^[A-Za-z0-9._:-]{1,253}\Z")  # a name, an IPv4 or an IPv6 address (no brackets)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}\Z")
_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_BOT_TOKEN")


class Secret:
    """A token or secret: usable by the code that needs it, never shown in a repr or a log."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one call that sends it to the platform."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """How to reach one Slack workspace."""

    bot_token: Secret
    signing_secret: Secret | None  # HTTP mode
    app_token: Secret | None  # Socket Mode
    api_url: str
    http_host: str
    http_port: int
    ceiling_per_minute: int
    ack_emoji: str
    reconcile: bool = True  # look for a copy in doubt before resending (needs the history scopes)

    @property
    def socket_mode(self) -> bool:
        """Whether to connect over Socket Mode rather than serve HTTP."""
        return self.app_token is not None


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """How to reach Discord as one bot."""

    bot_token: Secret
    api_url: str  # the REST base, e.g. https://discord.com/api/v10
    gateway_url: str | None  # None: discord.py's default gateway
    members_intent: bool  # the privileged Server Members intent, needed for discord:role: destinations
    dms_per_minute: int  # how fast Herald opens DMs; Discord warns against mass DMs
    ack_emoji: str


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


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Herald's own web pages: where people reach them, and the secret that signs their links."""

    public_url: str  # e.g. https://herald.example.com, without a trailing slash
    link_secret: Secret
    http_host: str
    http_port: int


@dataclass(frozen=True, slots=True)
class OpsSettings:
    """Where Herald answers its operators: ``/healthz``, ``/readyz`` and ``/metrics``."""

    host: str  # HERALD_OPS_HOST: 127.0.0.1 unless set (the container image sets 0.0.0.0)
    port: int  # HERALD_OPS_PORT: 9090 unless set; 0 picks a free port
    explicit: bool = False  # HERALD_OPS_PORT was set: the shell workspace serves it too


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Herald reads from its environment. Secrets are wrapped so they never print."""

    database_url: str
    plan_path: Path
    shell_workspace: Path
    shell_user: str
    log_level: str
    platforms_configured: tuple[str, ...] = ()
    slack: SlackSettings | None = None
    discord: DiscordSettings | None = None
    email: EmailSettings | None = None
    web: WebSettings | None = None
    webhook_secret: Secret | None = None  # signs webhook posts; with it, webhook: destinations are sent
    webhook_insecure: bool = False  # HERALD_WEBHOOK_INSECURE=on: http:// receivers on other hosts are posted to
    imap: ImapSettings | None = None
    apprise: bool = False  # HERALD_APPRISE=on: apprise: destinations are notified for real
    apprise_insecure: bool = False  # HERALD_APPRISE_INSECURE=on: an Apprise URL may say verify=no
    bounce_address: Address | None = None  # HERALD_BOUNCE_ADDRESS: VERP return paths are bounces+<ref>@ it
    mail_secret: Secret | None = None  # HERALD_BOUNCE_SECRET (else HERALD_LINK_SECRET): signs envelope ids and refs
    log_format: str = "text"  # HERALD_LOG_FORMAT: text, or json (one object a line)
    ops: OpsSettings | None = None  # None: HERALD_OPS_PORT=off

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an SQLite file."""
        return self.database_url.startswith("sqlite")


def load_settings(environ: Mapping[str, str], env_file: Path | None = Path(".env")) -> Settings:
    """Read and check the settings; the environment wins over ``.env``.

    Raises:
        ConfigError: one line per wrong value.
    """
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(environ)
    problems: list[str] = []

    database_url = values.get("DATABASE_URL", "").strip() or "sqlite:///herald.db"
    scheme = database_url.split("://", 1)[0] if "://" in database_url else ""
    if scheme not in _DB_SCHEMES:
        problems.append(
            "DATABASE_URL must start with sqlite:///, postgresql:// or memory:// "
            f"(got a value starting with {database_url[:12]!r})"
        )

    plan_path = Path(values.get("HERALD_PLAN", "").strip() or "release-comms.toml")
    workspace_text = values.get("HERALD_SHELL_WORKSPACE", "").strip()
    workspace = Path(workspace_text) if workspace_text else plan_path.parent / "shell-workspace.toml"
    if workspace_text and not workspace.is_file():
        problems.append(f"HERALD_SHELL_WORKSPACE names {workspace}, which is not a file")

    shell_user = values.get("HERALD_SHELL_USER", "").strip() or "deployer"
    if not _NAME.match(shell_user):
        problems.append(f"HERALD_SHELL_USER must be a short lower-case name such as deployer (got {shell_user[:40]!r})")

    log_level = (values.get("HERALD_LOG_LEVEL", "").strip() or "WARNING").upper()
    if log_level not in _LEVELS:
        problems.append(f"HERALD_LOG_LEVEL must be one of {', '.join(_LEVELS)} (got {log_level[:20]!r})")

    log_format = values.get("HERALD_LOG_FORMAT", "").strip().lower() or "text"
    if log_format not in _LOG_FORMATS:
        problems.append(f"HERALD_LOG_FORMAT must be text or json (got {log_format[:20]!r})")
    ops = ops_settings(values, problems)

    slack = _slack_settings(values, problems)
    discord = _discord_settings(values, problems)
    email = email_settings(values, problems)
    web = web_settings(values, problems)
    imap = imap_settings(values, problems)
    apprise_text = values.get("HERALD_APPRISE", "").strip().lower() or "off"
    if apprise_text not in ("on", "off"):
        problems.append(f"HERALD_APPRISE must be on or off (got {apprise_text[:10]!r})")
    apprise_insecure = _switch(values, "HERALD_APPRISE_INSECURE", problems)
    bounce_address, mail_secret = bounce_settings(values, problems)
    webhook_insecure = _switch(values, "HERALD_WEBHOOK_INSECURE", problems)
    webhook_secret = values.get("HERALD_WEBHOOK_SECRET", "").strip()
    if webhook_secret and len(webhook_secret) < 16:
        problems.append("HERALD_WEBHOOK_SECRET must be at least 16 characters (receivers check posts with it)")
    public_port = None  # HERALD_HTTP_PORT, when something listens on it
    if web is not None:
        public_port = web.http_port
    elif slack is not None and not slack.socket_mode:
        public_port = slack.http_port
    if ops is not None and ops.port and ops.port == public_port:
        problems.append(
            f"HERALD_OPS_PORT must differ from HERALD_HTTP_PORT ({public_port}): the operations endpoint is kept off "
            "the public one, so that a proxy never exposes /metrics"
        )
    if problems:
        raise ConfigError("Herald's configuration has problems:\n" + "\n".join(f"  - {p}" for p in problems))
    configured = tuple(name for name in _SECRETS if values.get(name, "").strip())
    return Settings(
        database_url=database_url,
        plan_path=plan_path,
        shell_workspace=workspace,
        shell_user=shell_user,
        log_level=log_level,
        platforms_configured=configured,
        slack=slack,
        discord=discord,
        email=email,
        web=web,
        webhook_secret=Secret(webhook_secret) if webhook_secret else None,
        webhook_insecure=webhook_insecure,
        imap=imap,
        apprise=apprise_text == "on",
        apprise_insecure=apprise_insecure,
        bounce_address=bounce_address,
        mail_secret=mail_secret,
        log_format=log_format,
        ops=ops,
    )


def ops_settings(values: Mapping[str, str], problems: list[str]) -> OpsSettings | None:
    """``HERALD_OPS_PORT`` and ``HERALD_OPS_HOST``; None when the port is ``off``."""
    port_text = values.get("HERALD_OPS_PORT", "").strip().lower()
    explicit = bool(port_text)
    if port_text == "off":
        return None
    port_text = port_text or "9090"
    port = int(port_text) if port_text.isdigit() and int(port_text) < 65536 else -1
    if port < 0:
        problems.append(f"HERALD_OPS_PORT must be a port number from 1 to 65535, or off (got {port_text[:10]!r})")
    # Loopback unless asked: the endpoint has no login, and on a shared host only the local
    # Prometheus (or a proxy the operator chose) should read it. The image listens on 0.0.0.0.
    host = values.get("HERALD_OPS_HOST", "").strip() or "127.0.0.1"
    if not _HOST.match(host):
        problems.append(f"HERALD_OPS_HOST must be a host name or an IP address such as 0.0.0.0 (got {host[:40]!r})")
    return OpsSettings(host=host, port=max(port, 0), explicit=explicit)


def _slack_settings(values: Mapping[str, str], problems: list[str]) -> SlackSettings | None:
    token = values.get("SLACK_BOT_TOKEN", "").strip()
    app_token = values.get("SLACK_APP_TOKEN", "").strip()
    secret = values.get("SLACK_SIGNING_SECRET", "").strip()
    if not (token or app_token or secret):
        return None
    if not token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be set to the app's bot token (it starts with xoxb-)")
    if app_token and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp- (for Socket Mode)")
    if not app_token and not secret:
        problems.append("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)")
    api_url = values.get("SLACK_API_URL", "").strip() or "https://slack.com/api/"
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", api_url):
        problems.append(
            f"SLACK_API_URL must be an http(s) URL such as https://slack-gov.com/api/ (got {api_url[:40]!r})"
        )
    host = values.get("HERALD_HTTP_HOST", "").strip() or "0.0.0.0"
    port_text = values.get("HERALD_HTTP_PORT", "").strip() or "3000"
    port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65536 else 0
    if not port:
        problems.append(f"HERALD_HTTP_PORT must be a port number from 1 to 65535 (got {port_text[:10]!r})")
    ceiling_text = values.get("SLACK_MESSAGES_PER_MINUTE", "").strip() or "600"
    ceiling = int(ceiling_text) if ceiling_text.isdigit() and int(ceiling_text) > 0 else 0
    if not ceiling:
        problems.append(f"SLACK_MESSAGES_PER_MINUTE must be a positive whole number (got {ceiling_text[:10]!r})")
    emoji = values.get("HERALD_ACK_EMOJI", "").strip().strip(":") or "white_check_mark"
    if not re.match(r"^[a-z0-9_+\-']{1,80}$", emoji):
        problems.append(f"HERALD_ACK_EMOJI must be an emoji name such as white_check_mark (got {emoji[:20]!r})")
    reconcile_text = values.get("HERALD_SLACK_RECONCILE", "").strip().lower() or "on"
    if reconcile_text not in ("on", "off"):
        problems.append(f"HERALD_SLACK_RECONCILE must be on or off (got {reconcile_text[:10]!r})")
    return SlackSettings(
        reconcile=reconcile_text != "off",
        bot_token=Secret(token),
        signing_secret=Secret(secret) if secret else None,
        app_token=Secret(app_token) if app_token else None,
        api_url=api_url if api_url.endswith("/") else api_url + "/",
        http_host=host,
        http_port=port,
        ceiling_per_minute=ceiling,
        ack_emoji=emoji,
    )


def _discord_settings(values: Mapping[str, str], problems: list[str]) -> DiscordSettings | None:
    token = values.get("DISCORD_BOT_TOKEN", "").strip()
    if not token:
        return None
    if token.startswith("Bot ") or any(c.isspace() for c in token):
        problems.append("DISCORD_BOT_TOKEN must be the bot token itself, without 'Bot ' or spaces")
    api_url = (values.get("DISCORD_API_URL", "").strip() or "https://discord.com/api/v10").rstrip("/")
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", api_url):
        problems.append(
            f"DISCORD_API_URL must be an http(s) URL such as https://discord.com/api/v10 (got {api_url[:40]!r})"
        )
    gateway = values.get("DISCORD_GATEWAY_URL", "").strip() or None
    if gateway is not None and not re.match(r"^wss?://[^\s/]+(/\S*)?$", gateway):
        problems.append(
            f"DISCORD_GATEWAY_URL must be a ws(s) URL such as wss://gateway.discord.gg/ (got {gateway[:40]!r})"
        )
    members_text = values.get("DISCORD_MEMBERS_INTENT", "").strip().lower() or "off"
    if members_text not in ("on", "off", "1", "0", "true", "false", "yes", "no"):
        problems.append(f"DISCORD_MEMBERS_INTENT must be on or off (got {members_text[:10]!r})")
    dms_text = values.get("DISCORD_DMS_PER_MINUTE", "").strip() or "30"
    dms = int(dms_text) if dms_text.isdigit() and 0 < int(dms_text) <= 3000 else 0
    if not dms:
        problems.append(f"DISCORD_DMS_PER_MINUTE must be a whole number from 1 to 3000 (got {dms_text[:10]!r})")
    emoji = values.get("DISCORD_ACK_EMOJI", "").strip() or "\u2705"
    if len(emoji) > 8 or any(c.isspace() or c.isascii() for c in emoji):
        problems.append(f"DISCORD_ACK_EMOJI must be one Unicode emoji such as \u2705 (got {emoji[:10]!r})")
    return DiscordSettings(
        bot_token=Secret(token),
        api_url=api_url,
        gateway_url=gateway,
        members_intent=members_text in ("on", "1", "true", "yes"),
        dms_per_minute=dms,
        ack_emoji=emoji,
    )


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
    insecure = _switch(values, "HERALD_IMAP_INSECURE", problems)
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
        ca_file=_ca_file(values, "HERALD_IMAP_CA_FILE", problems),
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


def web_settings(values: Mapping[str, str], problems: list[str]) -> WebSettings | None:
    """``HERALD_PUBLIC_URL`` and ``HERALD_LINK_SECRET``; None when no public URL is set (no links)."""
    url = values.get("HERALD_PUBLIC_URL", "").strip().rstrip("/")
    if not url:
        return None
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", url):
        problems.append(
            f"HERALD_PUBLIC_URL must be an http(s) URL such as https://herald.example.com (got {url[:40]!r})"
        )
    secret = values.get("HERALD_LINK_SECRET", "").strip()
    if len(secret) < 32:
        problems.append(
            "HERALD_LINK_SECRET must be set with HERALD_PUBLIC_URL: at least 32 random characters, the same on "
            "every Herald process, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    host = values.get("HERALD_HTTP_HOST", "").strip() or "0.0.0.0"
    port_text = values.get("HERALD_HTTP_PORT", "").strip() or "3000"
    port = int(port_text) if port_text.isdigit() and 0 <= int(port_text) < 65536 else -1
    if port < 0 and not any(p.startswith("HERALD_HTTP_PORT") for p in problems):
        problems.append(f"HERALD_HTTP_PORT must be a port number from 1 to 65535 (got {port_text[:10]!r})")
    return WebSettings(public_url=url, link_secret=Secret(secret), http_host=host, http_port=max(port, 0))


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
    ca_file = _ca_file(values, "HERALD_SMTP_CA_FILE", problems)
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


def _switch(values: Mapping[str, str], name: str, problems: list[str]) -> bool:
    """An ``on``/``off`` setting that is off unless set."""
    text = values.get(name, "").strip().lower() or "off"
    if text not in ("on", "off"):
        problems.append(f"{name} must be on or off (got {text[:10]!r})")
    return text == "on"


def _ca_file(values: Mapping[str, str], name: str, problems: list[str]) -> Path | None:
    """A file of PEM CA certificates to trust instead of the system's; None for the system's."""
    text = values.get(name, "").strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        problems.append(f"{name} must name a file of PEM CA certificates ({text[:80]!r} is not a file)")
        return None
    return path


def tls_opt_outs(settings: Settings) -> tuple[str, ...]:
    """Each connection the operator has let go without a verified TLS peer, as a sentence.

    ``herald run`` logs them once at start; nothing else turns a check off.
    """
    found: list[str] = []
    if settings.imap is not None and settings.imap.insecure:
        where = f"{settings.imap.host}:{settings.imap.port}"
        found.append(
            f"HERALD_IMAP_INSECURE=on: the report mailbox at {where} is read without TLS if it offers no STARTTLS, "
            "its password included"
        )
    if settings.webhook_secret is not None and settings.webhook_insecure:
        found.append(
            "HERALD_WEBHOOK_INSECURE=on: a webhook: receiver on another machine may be posted to over plain http://, "
            "the communiqué and its signature in the clear"
        )
    if settings.apprise and settings.apprise_insecure:
        found.append(
            "HERALD_APPRISE_INSECURE=on: an apprise: URL that says verify=no is notified without checking "
            "the service's certificate"
        )
    return tuple(found)


def opt_outs(settings: Settings) -> tuple[str, ...]:
    """Every guarantee the operator has switched off, as a sentence: the TLS checks, and Slack's exactly once."""
    found = list(tls_opt_outs(settings))
    if settings.imap is not None and settings.mail_secret is None:
        found.append(
            "no HERALD_BOUNCE_SECRET (or HERALD_LINK_SECRET): mail is named by a plain hash of its recipient and "
            "release, so anyone who knows both can forge a delivery report about it"
        )
    if settings.slack is not None and not settings.slack.reconcile:
        found.append(
            "HERALD_SLACK_RECONCILE=off: a Slack copy a crash or a time-out left in doubt is sent again without "
            "looking for it first, so it may arrive twice"
        )
    return tuple(found)


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


def secret_values(settings: Settings) -> tuple[str, ...]:
    """Every secret the settings hold, revealed: what a log line must never contain.

    The ``Secret`` fields, at any depth, and the password in ``DATABASE_URL``.
    """
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, Secret):
            found.append(value.reveal())
        elif is_dataclass(value) and not isinstance(value, type):
            for item in fields(value):
                walk(getattr(value, item.name))

    walk(settings)
    try:
        password = urlsplit(settings.database_url).password
    except ValueError:
        password = None
    if password:
        found.extend((password, unquote(password)))
    return tuple(dict.fromkeys(found))


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Logging to stderr (or ``stream``) at the configured level, as text or JSON, with every secret masked."""
    from bot.logs import log_handler

    handler = log_handler(settings.log_format, secret_values(settings), stream)
    logging.basicConfig(level=getattr(logging, settings.log_level), handlers=[handler])
