"""Log lines: text for a terminal, one JSON object a line for a collector, and never a secret in either."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.app.logs import log_handler
from bot.app.settings import load_settings, secret_values

TOKEN = "xoxb-1234-not-a-real-token"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger of its own, with nothing attached and nothing passed up to the root."""
    log = logging.getLogger("herald.test-logs")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log
    log.handlers.clear()
    log.propagate = True


def _capture(logger: logging.Logger, log_format: str, secrets: tuple[str, ...] = ()) -> io.StringIO:
    stream = io.StringIO()
    logger.handlers[:] = [log_handler(log_format, secrets, stream)]
    return stream


def test_json_lines_carry_time_level_logger_message_and_extras(logger: logging.Logger) -> None:
    """Each record is one JSON object: the four fixed fields, then whatever extra= gave."""
    stream = _capture(logger, "json")
    logger.warning("sent %d of %d", 3, 4, extra={"release": "2.4", "group": "support", "target": "slack:#eng"})
    logger.info("second line")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["time"].endswith("+00:00")
    assert {k: v for k, v in first.items() if k != "time"} == {
        "level": "WARNING",
        "logger": "herald.test-logs",
        "message": "sent 3 of 4",
        "release": "2.4",
        "group": "support",
        "target": "slack:#eng",
    }
    assert (second["level"], second["message"]) == ("INFO", "second line")


def test_a_json_line_carries_the_traceback_inside_it(logger: logging.Logger) -> None:
    """An exception's traceback goes in the object's exception field, so the record stays one line."""
    stream = _capture(logger, "json")
    try:
        raise ValueError("bad value")
    except ValueError:
        logger.exception("it failed")
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "it failed"
    assert "ValueError: bad value" in entry["exception"]


def test_text_lines_keep_their_familiar_shape(logger: logging.Logger) -> None:
    """HERALD_LOG_FORMAT=text writes LEVEL logger: message, as before."""
    stream = _capture(logger, "text")
    logger.warning("the sweep failed")
    assert stream.getvalue() == "WARNING herald.test-logs: the sweep failed\n"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_configured_token_never_reaches_a_log_line(logger: logging.Logger, log_format: str) -> None:
    """With SLACK_BOT_TOKEN set, a line that carries it (as a Secret, or revealed by accident) shows *** instead."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_APP_TOKEN": "xapp-1-not-a-real-app-token",
            "DATABASE_URL": "postgresql://herald:db-pass-word@db:5432/herald",
            "HERALD_LOG_FORMAT": log_format,
        },
        env_file=None,
    )
    assert settings.slack is not None
    stream = _capture(logger, settings.log_format, secret_values(settings))
    logger.warning("token %s", settings.slack.bot_token)
    logger.warning("calling Slack with %s", settings.slack.bot_token.reveal(), extra={"header": f"Bearer {TOKEN}"})
    logger.error("could not connect to %s", settings.database_url)
    written = stream.getvalue()
    assert TOKEN not in written
    assert "db-pass-word" not in written
    assert "xapp-1-not-a-real-app-token" not in written
    assert written.count("***") >= 3


def test_every_secret_in_the_settings_is_known(logger: logging.Logger) -> None:
    """Tokens, mail passwords, signing secrets and the database password are all among the values masked."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "signing-secret-0001",
            "DISCORD_BOT_TOKEN": "discord-token-0001",
            "SMTP_URL": "smtp://herald:smtp-pass-0001@mail.example.com:587",
            "HERALD_MAIL_FROM": "herald@example.com",
            "HERALD_IMAP_URL": "imaps://bounces:imap-pass-0001@imap.example.com/INBOX",
            "HERALD_PUBLIC_URL": "https://herald.example.com",
            "HERALD_LINK_SECRET": "l" * 40,
            "HERALD_BOUNCE_SECRET": "b" * 40,
            "HERALD_WEBHOOK_SECRET": "webhook-secret-0001",
            "DATABASE_URL": "postgresql://herald:db%40pass@db/herald",
        },
        env_file=None,
    )
    assert set(secret_values(settings)) >= {
        TOKEN,
        "signing-secret-0001",
        "discord-token-0001",
        "smtp-pass-0001",
        "imap-pass-0001",
        "l" * 40,
        "b" * 40,
        "webhook-secret-0001",
        "db%40pass",
        "db@pass",
    }
