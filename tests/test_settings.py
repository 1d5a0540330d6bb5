"""Configuration: defaults that work, and a clear sentence for every wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.settings import load_settings, secret_values, tls_opt_outs
from bot.domain.errors import ConfigError


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


def test_secrets_are_usable_but_never_shown(tmp_path: Path) -> None:
    """Slack's tokens reach the adapter, but no repr or message of the settings shows them."""
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-not-a-real-token", "SLACK_SIGNING_SECRET": "s3cr3t-not-real"}, env_file=None
    )
    assert settings.slack is not None
    assert settings.slack.bot_token.reveal() == "xoxb-not-a-real-token"
    assert "xoxb" not in repr(settings)
    assert "s3cr3t" not in repr(settings)
    assert (settings.slack.http_host, settings.slack.http_port, settings.slack.socket_mode) == ("0.0.0.0", 3000, False)


def test_slack_needs_a_bot_token_and_a_way_in(tmp_path: Path) -> None:
    """A signing secret without a bot token, or a token with neither secret nor app token, is named."""
    with pytest.raises(ConfigError) as caught:
        load_settings({"SLACK_SIGNING_SECRET": "x", "HERALD_HTTP_PORT": "http"}, env_file=None)
    assert "SLACK_BOT_TOKEN must be set" in str(caught.value)
    assert "HERALD_HTTP_PORT must be a port number" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, env_file=None)
    assert "SLACK_SIGNING_SECRET is required in HTTP mode" in str(caught.value)


def test_tls_trust_and_opt_outs_default_to_verifying_everything(tmp_path: Path) -> None:
    """Mail trusts the system's CAs, plain IMAP is not allowed, Apprise may not skip checks, and nothing is listed."""
    settings = load_settings(
        {
            "SMTP_URL": "smtps://herald:pw@mail.example.com",
            "HERALD_MAIL_FROM": "herald@example.com",
            "HERALD_IMAP_URL": "imap://bounces:pw@mail.example.com/INBOX",
            "HERALD_APPRISE": "on",
        },
        env_file=tmp_path / "missing.env",
    )
    assert settings.email is not None
    assert settings.imap is not None
    assert (settings.email.ca_file, settings.imap.ca_file, settings.imap.insecure) == (None, None, False)
    assert settings.apprise_insecure is False
    assert tls_opt_outs(settings) == ()


def test_ca_files_must_exist_and_switches_must_be_on_or_off(tmp_path: Path) -> None:
    """A CA file that is not a file, an unknown switch value, and INSECURE with imaps:// are each one line."""
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                "SMTP_URL": "smtp://mail.example.com:25",
                "HERALD_MAIL_FROM": "herald@example.com",
                "HERALD_SMTP_CA_FILE": str(tmp_path / "nowhere.pem"),
                "HERALD_IMAP_URL": "imaps://bounces:pw@mail.example.com/INBOX",
                "HERALD_IMAP_CA_FILE": str(tmp_path),
                "HERALD_IMAP_INSECURE": "on",
                "HERALD_APPRISE_INSECURE": "yes please",
            },
            env_file=None,
        )
    message = str(caught.value)
    assert "HERALD_SMTP_CA_FILE must name a file of PEM CA certificates" in message
    assert "HERALD_IMAP_CA_FILE must name a file of PEM CA certificates" in message
    assert "HERALD_IMAP_INSECURE=on is for an imap:// server without STARTTLS" in message
    assert "HERALD_APPRISE_INSECURE must be on or off" in message


def test_each_opt_out_is_listed_in_a_sentence_without_secrets(tmp_path: Path) -> None:
    """HERALD_IMAP_INSECURE and HERALD_APPRISE_INSECURE are named, each once, and no password shows."""
    settings = load_settings(
        {
            "HERALD_IMAP_URL": "imap://bounces:hunter2@127.0.0.1:143/INBOX",
            "HERALD_IMAP_INSECURE": "on",
            "HERALD_APPRISE": "on",
            "HERALD_APPRISE_INSECURE": "on",
        },
        env_file=None,
    )
    opt_outs = tls_opt_outs(settings)
    assert [line.split("=", 1)[0] for line in opt_outs] == ["HERALD_IMAP_INSECURE", "HERALD_APPRISE_INSECURE"]
    assert not any("hunter2" in line for line in opt_outs)


def test_switching_off_slack_reconciliation_is_named_among_the_opt_outs() -> None:
    """HERALD_SLACK_RECONCILE=off is said at start, like a TLS check turned off; on, nothing is said."""
    from bot.app.settings import opt_outs

    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
    off = load_settings({**base, "HERALD_SLACK_RECONCILE": "off"}, env_file=None)
    on = load_settings(base, env_file=None)

    assert any(line.startswith("HERALD_SLACK_RECONCILE=off") for line in opt_outs(off))
    assert opt_outs(on) == ()


def test_a_bounce_address_needs_a_secret_and_takes_the_link_secret_as_one() -> None:
    """HERALD_BOUNCE_ADDRESS without a secret is refused; HERALD_LINK_SECRET serves when no bounce secret is set."""
    with pytest.raises(ConfigError) as refused:
        load_settings({"HERALD_BOUNCE_ADDRESS": "bounces@lists.example.com"}, env_file=None)
    assert "HERALD_BOUNCE_ADDRESS needs HERALD_BOUNCE_SECRET (or HERALD_LINK_SECRET)" in str(refused.value)

    link = "l" * 32
    settings = load_settings(
        {"HERALD_BOUNCE_ADDRESS": "bounces@lists.example.com", "HERALD_LINK_SECRET": link}, env_file=None
    )
    assert settings.bounce_address is not None
    assert (settings.bounce_address.addr_spec, settings.mail_secret is not None) == ("bounces@lists.example.com", True)
    assert settings.mail_secret is not None
    assert settings.mail_secret.reveal() == link
    assert link not in repr(settings)


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"HERALD_BOUNCE_ADDRESS": "bounces+x@lists.example.com"}, "HERALD_BOUNCE_ADDRESS must be one plain address"),
        ({"HERALD_BOUNCE_ADDRESS": "Bounces <b@x.example>"}, "HERALD_BOUNCE_ADDRESS must be one plain address"),
        ({"HERALD_BOUNCE_SECRET": "short"}, "HERALD_BOUNCE_SECRET must be at least 32 random characters"),
        (
            {"HERALD_IMAP_URL": "imaps://b:pw@mail.example.com/INBOX", "HERALD_IMAP_PROCESSED": 'a"b'},
            "HERALD_IMAP_PROCESSED must be a folder name",
        ),
    ],
)
def test_wrong_mail_receipt_settings_are_each_one_sentence(env: dict[str, str], said: str) -> None:
    """A bounce address with a plus or a name, a short secret, or a folder name with quotes is refused clearly."""
    with pytest.raises(ConfigError, match=said):
        load_settings({"HERALD_BOUNCE_SECRET": "s" * 32, **env} if "SECRET" not in str(env) else env, env_file=None)


def test_reading_reports_without_a_secret_is_named_among_the_opt_outs() -> None:
    """A report mailbox with no secret means forgeable envelope ids: said at start; with a secret, not."""
    from bot.app.settings import opt_outs

    imap = {"HERALD_IMAP_URL": "imaps://bounces:pw@mail.example.com/INBOX"}
    unsigned = load_settings(imap, env_file=None)
    signed = load_settings({**imap, "HERALD_BOUNCE_SECRET": "s" * 32}, env_file=None)
    assert any("forge a delivery report" in line for line in opt_outs(unsigned))
    assert not any("forge" in line for line in opt_outs(signed))
    assert signed.imap is not None
    assert signed.imap.processed == "Herald/Processed"


def test_the_ops_endpoint_listens_on_loopback_port_9090_unless_told() -> None:
    """By default /healthz, /readyz and /metrics are on 127.0.0.1:9090; logs are text."""
    settings = load_settings({}, env_file=None)
    assert settings.ops is not None
    assert (settings.ops.host, settings.ops.port, settings.ops.explicit) == ("127.0.0.1", 9090, False)
    assert settings.log_format == "text"


def test_the_ops_endpoint_can_be_moved_or_switched_off() -> None:
    """HERALD_OPS_HOST and HERALD_OPS_PORT move it (and mark it asked for); HERALD_OPS_PORT=off removes it."""
    moved = load_settings({"HERALD_OPS_HOST": "0.0.0.0", "HERALD_OPS_PORT": "9100"}, env_file=None).ops
    assert moved is not None
    assert (moved.host, moved.port, moved.explicit) == ("0.0.0.0", 9100, True)
    assert load_settings({"HERALD_OPS_PORT": "off"}, env_file=None).ops is None
    assert load_settings({"HERALD_LOG_FORMAT": "JSON"}, env_file=None).log_format == "json"


@pytest.mark.parametrize(
    ("environ", "sentence"),
    [
        (
            {"HERALD_OPS_PORT": "metrics"},
            "HERALD_OPS_PORT must be a port number from 1 to 65535, or off (got 'metrics')",
        ),
        ({"HERALD_OPS_PORT": "70000"}, "HERALD_OPS_PORT must be a port number from 1 to 65535, or off (got '70000')"),
        ({"HERALD_OPS_HOST": "not a host"}, "HERALD_OPS_HOST must be a host name or an IP address"),
        ({"HERALD_LOG_FORMAT": "xml"}, "HERALD_LOG_FORMAT must be text or json (got 'xml')"),
        (
            {"HERALD_PUBLIC_URL": "https://h.example", "HERALD_LINK_SECRET": "s" * 32, "HERALD_OPS_PORT": "3000"},
            "HERALD_OPS_PORT must differ from HERALD_HTTP_PORT (3000)",
        ),
    ],
)
def test_a_bad_ops_or_log_setting_is_named(environ: dict[str, str], sentence: str) -> None:
    """A wrong HERALD_OPS_PORT, HERALD_OPS_HOST or HERALD_LOG_FORMAT is one line naming the variable."""
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, env_file=None)
    assert sentence in str(caught.value)


@pytest.mark.parametrize(
    ("environ", "sentence"),
    [
        ({"HERALD_HTTP_PORT": "3000.0", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, "HERALD_HTTP_PORT"),
        ({"HERALD_SMTP_CONNECTIONS": "+3", "SMTP_URL": "smtp://h", "HERALD_MAIL_FROM": "h@example.com"}, "CONNECTIONS"),
        ({"DISCORD_BOT_TOKEN": "t", "DISCORD_MEMBERS_INTENT": "maybe"}, "DISCORD_MEMBERS_INTENT must be on or off"),
        ({"HERALD_IMAP_URL": "imaps://b:pw@mail.example.com", "HERALD_IMAP_POLL": "often"}, "HERALD_IMAP_POLL must be"),
        ({"HERALD_LOG_LEVEL": "loud", "HERALD_WEBHOOK_INSECURE": "1"}, "HERALD_WEBHOOK_INSECURE must be on or off"),
    ],
)
def test_a_wrong_value_is_said_in_heralds_words_not_pydantics(environ: dict[str, str], sentence: str) -> None:
    """Numbers, switches and choices are refused in a sentence naming the variable, never "Input should be…"."""
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, env_file=None)
    message = str(caught.value)
    assert sentence in message
    assert "Input should" not in message
    assert "validation error" not in message


def test_a_wrong_secret_is_named_but_never_shown() -> None:
    """A malformed token or a short secret is named; its value is in no message and no chained error."""
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                "SLACK_BOT_TOKEN": "not-a-bot-token-9f8e",
                "SLACK_APP_TOKEN": "not-an-app-token-7d6c",
                "HERALD_PUBLIC_URL": "https://herald.example.com",
                "HERALD_LINK_SECRET": "short-link-5b4a",
                "HERALD_WEBHOOK_SECRET": "short-hook-3a2b",
            },
            env_file=None,
        )
    message = str(caught.value)
    assert "SLACK_BOT_TOKEN must be set" in message
    assert "HERALD_LINK_SECRET must be set with HERALD_PUBLIC_URL" in message
    assert not any(secret in message for secret in ("9f8e", "7d6c", "5b4a", "3a2b"))
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


def test_a_line_in_env_named_like_a_section_is_ignored(tmp_path: Path) -> None:
    """Only variables are read: a .env line such as email=… or slack={… neither fails nor stands in for a section."""
    env = tmp_path / ".env"
    env.write_text("email=me@example.com\nslack={not json\nops=off\nHERALD_LOG_FORMAT=json\n")
    settings = load_settings({}, env_file=env)
    assert (settings.email, settings.slack, settings.log_format) == (None, None, "json")
    assert settings.ops is not None


def test_each_section_reads_only_its_own_variables() -> None:
    """Slack's section is handed SLACK_* and the HTTP listener's variables, none of Discord's, mail's or the root's."""
    from adapters.slack.config import SlackSettings

    assert SlackSettings.variables() == {
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "SLACK_MESSAGES_PER_MINUTE",
        "HERALD_HTTP_HOST",
        "HERALD_HTTP_PORT",
        "HERALD_ACK_EMOJI",
        "HERALD_SLACK_RECONCILE",
    }


_WEB = {"HERALD_PUBLIC_URL": "https://herald.example.com", "HERALD_LINK_SECRET": "l" * 40}


def test_api_tokens_are_read_as_named_callers_and_kept_out_of_logs() -> None:
    """HERALD_API_TOKENS gives each pipeline a name and a token; every token is among the secrets logs mask."""
    first, second = "a" * 32 + "-9c1e", "b" * 40
    settings = load_settings(
        {
            **_WEB,
            "HERALD_API_TOKENS": f"ci:{first}, deploy-prod:{second}",
            "HERALD_ANNOUNCE_CHANNEL": "discord:12345678",
        },
        env_file=None,
    )
    assert settings.web is not None
    assert [(t.actor, t.token.reveal()) for t in settings.web.api_tokens] == [
        ("api:ci", first),
        ("api:deploy-prod", second),
    ]
    assert settings.web.announce_channel == "discord:12345678"
    assert {first, second} <= set(secret_values(settings))
    assert "9c1e" not in repr(settings)


@pytest.mark.parametrize(
    ("tokens", "sentence"),
    [
        ("ci:short-9c1e", "HERALD_API_TOKENS gives ci a token shorter than 32 characters"),
        ("just-a-token-9c1e" + "x" * 32, "HERALD_API_TOKENS must be a comma-separated list of NAME:TOKEN pairs"),
        (f"ci:{'a' * 32}9c1e,ci:{'b' * 32}", "HERALD_API_TOKENS names ci twice"),
        (f"ci:{'a' * 32}9c1e,cd:{'a' * 32}9c1e", "HERALD_API_TOKENS gives cd the same token as another name"),
    ],
)
def test_a_wrong_api_token_list_is_named_and_no_token_shown(tokens: str, sentence: str) -> None:
    """Each mistake in HERALD_API_TOKENS is one sentence; no token appears in it."""
    with pytest.raises(ConfigError) as caught:
        load_settings({**_WEB, "HERALD_API_TOKENS": tokens}, env_file=None)
    assert sentence in str(caught.value)
    assert "9c1e" not in str(caught.value)


def test_the_release_api_needs_the_web_pages() -> None:
    """HERALD_API_TOKENS or HERALD_ANNOUNCE_CHANNEL without HERALD_PUBLIC_URL names what is missing."""
    with pytest.raises(ConfigError) as caught:
        load_settings({"HERALD_API_TOKENS": f"ci:{'a' * 32}", "HERALD_ANNOUNCE_CHANNEL": "#releases"}, env_file=None)
    assert "HERALD_PUBLIC_URL must be" in str(caught.value)
    assert "HERALD_ANNOUNCE_CHANNEL must be a chat channel such as slack:C0123ABCD" in str(caught.value)
