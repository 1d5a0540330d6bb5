"""Configuration: defaults that work, and a clear sentence for every wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.errors import ConfigError
from bot.settings import load_settings


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    """With nothing set, Herald uses herald.db and release-comms.toml in the working directory."""
    settings = load_settings({}, env_file=tmp_path / "missing.env")
    assert (settings.database_url, str(settings.plan_path)) == ("sqlite:///herald.db", "release-comms.toml")
    assert settings.platforms_configured == ()


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    """Values come from .env unless the environment sets them too."""
    env = tmp_path / ".env"
    env.write_text("HERALD_PLAN=plans/a.toml\nDATABASE_URL=postgresql://u:p@db/herald\n")
    settings = load_settings({"HERALD_PLAN": "plans/b.toml"}, env_file=env)
    assert (settings.database_url, str(settings.plan_path)) == ("postgresql://u:p@db/herald", "plans/b.toml")


def test_every_wrong_value_is_reported_at_once(tmp_path: Path) -> None:
    """Each bad setting gets its own line naming the variable."""
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {"DATABASE_URL": "mysql://x", "HERALD_LOG_LEVEL": "LOUD", "HERALD_SHELL_USER": "Bad Name"},
            env_file=None,
        )
    message = str(caught.value)
    assert "DATABASE_URL must start with" in message
    assert "HERALD_LOG_LEVEL must be one of" in message
    assert "HERALD_SHELL_USER must be" in message


def test_secrets_are_detected_but_never_kept(tmp_path: Path) -> None:
    """A token marks its platform as configured; its value is not stored in the settings."""
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-not-a-real-token"}, env_file=None)
    assert settings.platforms_configured == ("SLACK_BOT_TOKEN",)
    assert "xoxb" not in repr(settings)
