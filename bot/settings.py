"""Configuration from the environment and an optional ``.env`` file, checked at start."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from bot.domain.errors import ConfigError

_DB_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg", "memory")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}\Z")
_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_BOT_TOKEN")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Herald reads from its environment. Holds no secret values."""

    database_url: str
    plan_path: Path
    shell_workspace: Path
    shell_user: str
    log_level: str
    platforms_configured: tuple[str, ...] = ()

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
    )


def configure_logging(settings: Settings) -> None:
    """Plain logging to stderr at the configured level."""
    logging.basicConfig(level=getattr(logging, settings.log_level), format="%(levelname)s %(name)s: %(message)s")
