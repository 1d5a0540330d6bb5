"""Configuration from the environment and an optional ``.env`` file, checked at start.

``Settings`` is one pydantic-settings model. The environment is handed in as keyword
arguments (``load_settings(os.environ)``; a test hands in its own), so nothing reads the
process's environment behind the caller's back; ``.env`` fills what it leaves unset. The
composition root keeps its own variables (the database, the plan, the shell workspace,
logging, Apprise and webhooks) and hands every other one to the section of the adapter that
owns it (``adapters/<name>/config.py``), None when the section is switched off. Every wrong
value is one sentence naming its variable, all of them in one ``ConfigError``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from email.headerregistry import Address
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TextIO, cast
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, DotEnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from adapters.config import Secret, Section, Switch, sentences, set_values, variables_of
from adapters.discord.config import DiscordSettings
from adapters.email.config import BounceSettings, EmailSettings, ImapSettings
from adapters.forges.config import ForgeSettings
from adapters.ops.config import OpsSettings
from adapters.slack.config import SlackSettings
from adapters.web.config import WebSettings
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
    "opt_outs",
    "secret_values",
    "tls_opt_outs",
]

_DB_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg", "memory")
_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_BOT_TOKEN")
_SECTIONS: dict[str, type[Section]] = {
    "slack": SlackSettings,
    "discord": DiscordSettings,
    "email": EmailSettings,
    "web": WebSettings,
    "imap": ImapSettings,
    "bounce": BounceSettings,
    "ops": OpsSettings,
    "forges": ForgeSettings,
}


class _EnvFile(PydanticBaseSettingsSource):
    """Every variable ``.env`` sets, as written, for ``Settings`` to hand out.

    pydantic-settings' own dotenv source also looks each field up by its name, and decodes a
    section's value as JSON; here only variables count, so no line of ``.env`` stands in for a
    whole section.
    """

    def __init__(self, settings_cls: type[BaseSettings], file: DotEnvSettingsSource) -> None:
        super().__init__(settings_cls)
        self._variables = {name: value for name, value in file.env_vars.items() if value is not None}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # never asked: __call__ hands over every variable at once

    def __call__(self) -> dict[str, Any]:
        return dict(self._variables)


class Settings(BaseSettings):
    """Everything Herald reads from its environment. Secrets are wrapped so they never print."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        case_sensitive=True,
        env_file=".env",
        validate_default=False,
        hide_input_in_errors=True,
    )

    database_url: str = Field("sqlite:///herald.db", validation_alias="DATABASE_URL")
    plan_path: Path = Field(Path("release-comms.toml"), validation_alias="HERALD_PLAN")
    shell_workspace: Path = Field(
        default_factory=lambda data: Path(data["plan_path"]).parent / "shell-workspace.toml",
        validation_alias="HERALD_SHELL_WORKSPACE",
    )
    shell_user: str = Field(
        "deployer",
        validation_alias="HERALD_SHELL_USER",
        pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$",
        description="must be a short lower-case name such as deployer",
    )
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(str.upper)] = Field(
        "WARNING", validation_alias="HERALD_LOG_LEVEL", description="must be one of DEBUG, INFO, WARNING, ERROR"
    )
    platforms_configured: tuple[str, ...] = ()  # which of the platform tokens are set
    slack: SlackSettings | None = None
    discord: DiscordSettings | None = None
    email: EmailSettings | None = None
    web: WebSettings | None = None
    # Signs webhook posts; with it, webhook: destinations are sent.
    webhook_secret: Secret | None = Field(None, validation_alias="HERALD_WEBHOOK_SECRET")
    # On: http:// receivers on other hosts are posted to.
    webhook_insecure: Switch = Field(False, validation_alias="HERALD_WEBHOOK_INSECURE")
    imap: ImapSettings | None = None
    apprise: Switch = Field(False, validation_alias="HERALD_APPRISE")  # on: apprise: destinations are notified
    # On: an Apprise URL may say verify=no.
    apprise_insecure: Switch = Field(False, validation_alias="HERALD_APPRISE_INSECURE")
    bounce: BounceSettings = BounceSettings()  # the return path, and the secret signing refs
    log_format: Annotated[Literal["text", "json"], BeforeValidator(str.lower)] = Field(  # json: one object a line
        "text", validation_alias="HERALD_LOG_FORMAT", description="must be text or json"
    )
    ops: OpsSettings | None = None  # None: HERALD_OPS_PORT=off
    forges: ForgeSettings = ForgeSettings()  # GitHub's and GitLab's APIs, for release notes

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def bounce_address(self) -> Address | None:
        """``HERALD_BOUNCE_ADDRESS``: VERP return paths are ``bounces+<ref>@`` it."""
        return self.bounce.address

    @property
    def mail_secret(self) -> Secret | None:
        """``HERALD_BOUNCE_SECRET`` (else ``HERALD_LINK_SECRET``): signs envelope ids and refs."""
        return self.bounce.secret

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment as handed in (keyword arguments, never ``os.environ`` itself), then ``.env``.

        ``.env`` is the file ``_env_file=`` names, else the one in the working directory.
        """
        # pydantic-settings builds its DotEnvSettingsSource here; _EnvFile keeps what it read.
        return init_settings, _EnvFile(settings_cls, cast(DotEnvSettingsSource, dotenv_settings))

    @model_validator(mode="before")
    @classmethod
    def _hand_out(cls, data: Any) -> Any:
        """Each section gets its own variables (None when they switch it off); the rest stay here."""
        if not isinstance(data, Mapping):
            return data
        values = set_values(data)
        own = {name: text for name, text in values.items() if name in variables_of(cls)}
        sections = {name: section.given(values) for name, section in _SECTIONS.items()}
        return {**own, **sections, "platforms_configured": tuple(name for name in _SECRETS if name in values)}

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if (url.split("://", 1)[0] if "://" in url else "") not in _DB_SCHEMES:
            raise ValueError(
                f"must start with sqlite:///, postgresql:// or memory:// (got a value starting with {url[:12]!r})"
            )
        return url

    @field_validator("shell_workspace")
    @classmethod
    def _a_file(cls, workspace: Path) -> Path:  # only when set: the default one is optional
        if not workspace.is_file():
            raise ValueError(f"names {workspace}, which is not a file")
        return workspace

    @field_validator("webhook_secret")
    @classmethod
    def _long_enough(cls, secret: Secret | None) -> Secret | None:
        if secret is not None and len(secret.reveal()) < 16:
            raise ValueError("must be at least 16 characters (receivers check posts with it)")
        return secret

    @model_validator(mode="after")
    def _ops_apart(self) -> Self:
        public_port = None  # HERALD_HTTP_PORT, when something listens on it
        if self.web is not None:
            public_port = self.web.http_port
        elif self.slack is not None and not self.slack.socket_mode:
            public_port = self.slack.http_port
        if self.ops is not None and self.ops.port and self.ops.port == public_port:
            raise ValueError(
                f"HERALD_OPS_PORT must differ from HERALD_HTTP_PORT ({public_port}): the operations endpoint is kept "
                "off the public one, so that a proxy never exposes /metrics"
            )
        return self


_VARIABLES = frozenset(variables_of(Settings)).union(*(section.variables() for section in _SECTIONS.values()))


def load_settings(environ: Mapping[str, str], env_file: Path | None = Path(".env")) -> Settings:
    """Read and check the settings; the environment wins over ``.env``.

    Raises:
        ConfigError: one line per wrong value.
    """
    # Herald's variables only: the rest of the environment is none of its business.
    handed: dict[str, Any] = {name: value for name, value in environ.items() if name in _VARIABLES}
    try:
        return Settings(**handed, _env_file=env_file)
    except ValidationError as error:
        problems = sentences(error, Settings)
    # Raised here, not in the except: pydantic's error (whose inputs may be secrets) is not kept as its context.
    raise ConfigError("Herald's configuration has problems:\n" + "\n".join(f"  - {p}" for p in problems))


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

    The ``Secret`` fields, at any depth (in sections, tuples and dataclasses), and the password in ``DATABASE_URL``.
    """
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, Secret):
            found.append(value.reveal())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, tuple):  # e.g. HERALD_API_TOKENS: one ApiToken per caller
            for item in value:
                walk(item)
        elif is_dataclass(value):
            for part in fields(value):
                walk(getattr(value, part.name))

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
    from bot.app.logs import log_handler

    handler = log_handler(settings.log_format, secret_values(settings), stream)
    logging.basicConfig(level=getattr(logging, settings.log_level), handlers=[handler])
