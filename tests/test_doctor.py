"""herald doctor: each configured part checked against a real local peer, with the fix for what fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.checkup import Finding, Verdict
from bot.app.cli import main
from bot.app.doctor import diagnose, exit_status
from bot.app.settings import load_settings
from storage.migrate import upgrade
from tests.fakes.slack import BOT_TOKEN, FakeSlack, manifest_scopes
from tests.servers.smtp import RecordingHandler, smtp_server

PLAN = Path(__file__).resolve().parents[1] / "examples" / "release-comms.toml"


async def _slack_findings(tmp_path: Path, lacking: str) -> list[Finding]:
    """herald doctor on a migrated database, the example plan and a token lacking one manifest scope."""
    await upgrade(f"sqlite:///{tmp_path}/herald.db")
    async with FakeSlack(scopes=tuple(s for s in manifest_scopes() if s != lacking)) as slack:
        settings = load_settings(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path}/herald.db",
                "HERALD_PLAN": str(PLAN),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": "xapp-1-test",
                "SLACK_API_URL": slack.api_url,
            },
            env_file=None,
        )
        return await diagnose(settings)


async def test_a_token_missing_a_scope_is_named_with_the_manifest_line(tmp_path: Path) -> None:
    """The fake Slack's token lacks reactions:read: doctor names the scope and manifest.json's line, and fails."""
    findings = await _slack_findings(tmp_path, "reactions:read")
    by_name = {f.name: f for f in findings}
    assert by_name["slack token"].verdict is Verdict.OK
    scopes = by_name["slack scopes"]
    assert (scopes.verdict, scopes.detail) == (Verdict.FAILED, "the token lacks reactions:read")
    line = next(
        n for n, row in enumerate((PLAN.parents[1] / "manifest.json").read_text().splitlines(), 1) if '"bot"' in row
    )
    assert f"manifest.json line {line} (oauth_config.scopes.bot)" in scopes.fix
    assert exit_status(findings) == 1
    assert "xoxb" not in "\n".join(f.line() for f in findings)


async def test_everything_in_order_passes_with_warnings_only(tmp_path: Path) -> None:
    """A migrated database, the example plan, a token with every scope, an SMTP relay without DSN: exit 0."""
    await upgrade(f"sqlite:///{tmp_path}/herald.db")
    async with FakeSlack() as slack, smtp_server(RecordingHandler(dsn=False)) as smtp:
        settings = load_settings(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path}/herald.db",
                "HERALD_PLAN": str(PLAN),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": "xapp-1-test",
                "SLACK_API_URL": slack.api_url,
                "SMTP_URL": smtp.url(),
                "HERALD_MAIL_FROM": "Herald <herald@acme.test>",
            },
            env_file=None,
        )
        findings = await diagnose(settings)
    verdicts = {f.name: f.verdict for f in findings}
    assert verdicts["database"] is Verdict.OK
    assert verdicts["slack scopes"] is Verdict.OK
    assert verdicts["smtp"] is Verdict.OK
    assert verdicts["smtp dsn"] is Verdict.WARNING
    assert exit_status(findings) == 0


async def test_a_database_behind_the_schema_and_a_wrong_token_each_say_their_fix(tmp_path: Path) -> None:
    """No database yet: 'herald db upgrade'; a token Slack refuses: where to copy the right one from."""
    async with FakeSlack() as slack:
        settings = load_settings(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path}/herald.db",
                "HERALD_PLAN": str(PLAN),
                "SLACK_BOT_TOKEN": "xoxb-not-the-token",
                "SLACK_APP_TOKEN": "xapp-1-test",
                "SLACK_API_URL": slack.api_url,
            },
            env_file=None,
        )
        findings = {f.name: f for f in await diagnose(settings)}
    assert (findings["database"].verdict, findings["database"].fix) == (Verdict.FAILED, "run `herald db upgrade`")
    assert findings["slack token"].detail == "Slack refused SLACK_BOT_TOKEN (invalid_auth)"
    assert "xoxb-not-the-token" not in findings["slack token"].line()


async def test_an_unreachable_smtp_server_fails_with_its_address(tmp_path: Path) -> None:
    """Nothing listening on the SMTP port: the line names host and port and says what to check."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings(
        {
            "DATABASE_URL": "memory://",
            "HERALD_PLAN": str(PLAN),
            "SMTP_URL": f"smtp://127.0.0.1:{port}",
            "HERALD_MAIL_FROM": "Herald <herald@acme.test>",
        },
        env_file=None,
    )
    smtp = next(f for f in await diagnose(settings) if f.name == "smtp")
    assert smtp.verdict is Verdict.FAILED
    assert smtp.detail.startswith(f"127.0.0.1:{port}: SMTP server unreachable")


def test_herald_doctor_prints_a_line_per_check_and_exits_1_on_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`herald doctor` with no database yet: the database line fails with its fix, the plan line passes; exit 1."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/herald.db")
    monkeypatch.setenv("HERALD_PLAN", str(PLAN))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert f"FAIL database: sqlite:///{tmp_path}/herald.db" in out
    assert "     fix: run `herald db upgrade`" in out
    assert f"ok   plan: {PLAN}" in out


async def test_a_token_without_the_optional_customize_scope_only_warns(tmp_path: Path) -> None:
    """An app installed before chat:write.customize was asked for still passes: its groups post as the app."""
    findings = await _slack_findings(tmp_path, "chat:write.customize")
    by_name = {f.name: f for f in findings}
    assert by_name["slack scopes"].verdict is Verdict.OK
    optional = by_name["slack optional scope"]
    assert optional.verdict is Verdict.WARNING
    assert "chat:write.customize" in optional.detail
    assert exit_status(findings) == 0
