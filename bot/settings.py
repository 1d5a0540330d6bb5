"""Configuration from the environment and an optional ``.env`` file, checked at start."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from email.headerregistry import Address
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values

from adapters.config import Secret, switch
from adapters.discord.config import DiscordSettings, discord_settings
from adapters.email.config import EmailSettings, ImapSettings, bounce_settings, email_settings, imap_settings
from adapters.ops.config import OpsSettings, ops_settings
from adapters.slack.config import SlackSettings, slack_settings
from adapters.web.config import WebSettings, web_settings
from bot.domain.errors import ConfigError

__all__ = [
    "DiscordSettings",
    "EmailSettings",
    "ImapSettings",
    "OpsSettings",
    "Secret",
    "Settings",
    "SlackSettings",
    "WebSettings",
    "configure_logging",
    "load_settings",
    "ops_settings",
    "opt_outs",
    "secret_values",
    "tls_opt_outs",
]

_DB_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg", "memory")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("text", "json")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}\Z")
_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_BOT_TOKEN")


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

    slack = slack_settings(values, problems)
    discord = discord_settings(values, problems)
    email = email_settings(values, problems)
    web = web_settings(values, problems)
    imap = imap_settings(values, problems)
    apprise_text = values.get("HERALD_APPRISE", "").strip().lower() or "off"
    if apprise_text not in ("on", "off"):
        problems.append(f"HERALD_APPRISE must be on or off (got {apprise_text[:10]!r})")
    apprise_insecure = switch(values, "HERALD_APPRISE_INSECURE", problems)
    bounce_address, mail_secret = bounce_settings(values, problems)
    webhook_insecure = switch(values, "HERALD_WEBHOOK_INSECURE", problems)
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
