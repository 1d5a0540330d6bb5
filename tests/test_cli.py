"""The herald command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.app.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _herald(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` in a clean environment rooted at ``cwd``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DATABASE_URL", "SLACK_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [[], ["run"], ["plan", "check"], ["status"], ["audit"], ["db", "upgrade"]])
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`herald … --help` describes the command and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: herald" in capsys.readouterr().out


def test_top_level_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`herald --help` names run, plan, status and db."""
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("run", "plan", "status", "db"):
        assert name in out


def test_plan_check_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped example plan checks clean and shows its send order."""
    assert main(["plan", "check", str(EXAMPLES / "release-comms.toml")]) == 0
    assert "2 groups, 9 destinations, send order: engineering → support" in capsys.readouterr().out


def test_plan_check_reports_every_problem_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken plan exits non-zero with one line per problem, each naming group and field."""
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'product = "X"\ncolour = "blue"\n[access]\nannouncers = []\n'
        '[[group]]\nid = "a"\nto = ["slack:nowhere"]\nack_within = "soon"\nmessage = "{{ version"\nafter = ["zzz"]\n'
    )
    assert main(["plan", "check", str(plan)]) == 2
    err = capsys.readouterr().err
    for expected in (
        "plan: colour: unknown field",
        "[access]: announcers: is empty",
        "group 'a': to: 'slack:nowhere' is not a valid destination",
        "group 'a': ack_within: 'soon' is not a duration",
        "group 'a': message: template does not parse",
        "group 'a': after: names unknown group 'zzz'",
    ):
        assert expected in err
    assert "Traceback" not in err


def test_a_missing_plan_is_one_sentence(tmp_path: Path) -> None:
    """Running without a plan file says which file is missing, without a traceback."""
    result = _herald("run", cwd=tmp_path, stdin="")
    assert result.returncode == 2
    assert "release-comms.toml has 1 problem" in result.stderr
    assert "file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_one_sentence(tmp_path: Path) -> None:
    """A wrong DATABASE_URL is named in a sentence, and the process exits non-zero."""
    result = _herald("status", "2.4", cwd=tmp_path, env={"DATABASE_URL": "mysql://nope"})
    assert result.returncode == 1
    assert "DATABASE_URL must start with sqlite:///, postgresql:// or memory://" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_script_completes_the_loop_on_sqlite(tmp_path: Path) -> None:
    """`herald run < examples/shell-demo.txt` sends every group, and status --json shows the receipts."""
    env = {"HERALD_PLAN": str(EXAMPLES / "release-comms.toml")}
    demo = (EXAMPLES / "shell-demo.txt").read_text()
    run = _herald("run", cwd=tmp_path, stdin=demo, env=env)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert (tmp_path / "herald.db").exists()
    assert "Sending 2.4 to 9 targets." in run.stdout

    status = _herald("status", "2.4", "--json", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["version"] == "2.4"
    assert data["state"] == "sent"
    groups = {g["id"]: g for g in data["groups"]}
    assert {gid: (g["targets"], g["sent"], g["failed"], g["pending"]) for gid, g in groups.items()} == {
        "engineering": (3, 3, 0, 0),
        "support": (6, 6, 0, 0),
    }
    assert (groups["support"]["acknowledged"], groups["support"]["expected"]) == (3, 5)
    assert groups["support"]["not_acknowledged"] == ["discord:333333333333333333", "slack:email:lead@example.com"]
    assert (groups["engineering"]["acknowledged"], groups["engineering"]["expected"]) == (2, 4)


def test_running_the_demo_twice_sends_nothing_twice(tmp_path: Path) -> None:
    """A second run of the same script resumes release 2.4: no new deliveries, no new receipts."""
    env = {"HERALD_PLAN": str(EXAMPLES / "release-comms.toml")}
    demo = (EXAMPLES / "shell-demo.txt").read_text()
    first = _herald("run", cwd=tmp_path, stdin=demo, env=env)
    second = _herald("run", cwd=tmp_path, stdin=demo, env=env)
    assert first.returncode == second.returncode == 0
    assert "already announced" in second.stdout
    assert "📨" not in second.stdout
    data = json.loads(_herald("status", "2.4", "--json", cwd=tmp_path, env=env).stdout)
    assert [g["targets"] for g in data["groups"]] == [3, 6]
    assert [g["acknowledged"] for g in data["groups"]] == [2, 3]


def test_the_audit_log_records_who_did_what_including_refusals(tmp_path: Path) -> None:
    """After the demo, `herald audit 2.4 --json` lists each step with its actor, and the refused approval."""
    env = {"HERALD_PLAN": str(EXAMPLES / "release-comms.toml")}
    _herald("run", cwd=tmp_path, stdin=(EXAMPLES / "shell-demo.txt").read_text(), env=env)
    result = _herald("audit", "2.4", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    steps = [(e["actor"], e["action"], e["outcome"]) for e in entries]
    assert steps[:6] == [
        ("shell:deployer", "announce_release", "done"),
        ("shell:deployer", "confirm_release", "done"),
        ("shell:deployer", "approve_communique", "done"),
        ("shell:deployer", "approve_communique", "done"),
        ("shell:deployer", "request_send", "done"),
        ("shell:deployer", "approve_release", "refused"),
    ]
    assert ("shell:lead", "approve_release", "done") in steps
    assert sum(action == "acknowledge" for _, action, _ in steps) == 5


def test_the_reminder_script_shows_reminders_and_one_escalation(tmp_path: Path) -> None:
    """On the quick plan, the silent are reminded, and lead is told once who never acknowledged."""
    env = {"HERALD_PLAN": str(EXAMPLES / "quick-comms.toml")}
    run = _herald("run", cwd=tmp_path, stdin=(EXAMPLES / "shell-reminders.txt").read_text(), env=env)
    assert run.returncode == 0, run.stderr
    assert "🔔 reminder to @kim" in run.stdout
    assert "🔔 reminder to @sam" not in run.stdout
    assert run.stdout.count("🚨 escalation to @lead") == 1
    data = json.loads(_herald("status", "2.4", "--json", cwd=tmp_path, env=env).stdout)
    [support] = data["groups"]
    assert (support["acknowledged"], support["not_acknowledged"], support["escalated"]) == (2, ["shell:kim"], True)
    assert support["reminders_sent"] >= 2


def _free_ports(count: int) -> list[int]:
    """Ports nothing listens on now, on 127.0.0.1."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for one in sockets:
            one.bind(("127.0.0.1", 0))
        return [one.getsockname()[1] for one in sockets]
    finally:
        for one in sockets:
            one.close()


def _get(port: int, path: str) -> tuple[int, str]:
    """GET http://127.0.0.1:PORT/PATH: the status and the body (an error status too)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for(port: int, process: subprocess.Popen[str], deadline: float = 60) -> None:
    """Poll /healthz on ``port`` until it answers 200; fail if the process ends first."""
    until = time.monotonic() + deadline
    while True:
        try:
            if _get(port, "/healthz") == (200, '{"ok": true}'):
                return
        except OSError:
            pass
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < until, "Herald did not start serving"
        time.sleep(0.05)


def test_with_slack_configured_herald_serves_slack_over_http(tmp_path: Path) -> None:
    """`herald run` on Slack serves /slack/events, its ops endpoint reports ready, and it stops on SIGTERM."""
    import signal

    port, ops_port = _free_ports(2)
    env = {
        "HERALD_PLAN": str(EXAMPLES / "release-comms.toml"),
        "SLACK_BOT_TOKEN": "xoxb-not-a-real-token",
        "SLACK_SIGNING_SECRET": "not-a-real-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "HERALD_HTTP_HOST": "127.0.0.1",
        "HERALD_HTTP_PORT": str(port),
        "HERALD_OPS_PORT": str(ops_port),
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DATABASE_URL", "SLACK_", "DISCORD_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env={**base, **env}, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for(port, process)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=b"x=1", method="POST")
        try:
            urllib.request.urlopen(request, timeout=5)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 401
        assert _get(ops_port, "/readyz") == (200, '{"ready": true}')  # the SQLite file, migrated; Slack, listening
        code, metrics = _get(ops_port, "/metrics")
        assert code == 200
        assert "herald_ledger_up 1.0" in metrics
        assert "herald_queue_depth 0.0" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "not-a-real" not in stderr


def test_each_tls_opt_out_is_logged_once_at_start(tmp_path: Path) -> None:
    """`herald run` names every check the operator turned off, once each, and no password."""
    env = {
        "HERALD_PLAN": str(EXAMPLES / "release-comms.toml"),
        "DATABASE_URL": "memory://",
        "HERALD_IMAP_URL": "imap://bounces:hunter2-imap@127.0.0.1:9/INBOX",
        "HERALD_IMAP_POLL": "3600",
        "HERALD_IMAP_INSECURE": "on",
        "HERALD_APPRISE": "on",
        "HERALD_APPRISE_INSECURE": "on",
    }
    run = _herald("run", cwd=tmp_path, stdin="", env=env)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("WARNING herald: HERALD_IMAP_INSECURE=on: the report mailbox at 127.0.0.1:9") == 1
    assert run.stderr.count("WARNING herald: HERALD_APPRISE_INSECURE=on: an apprise: URL") == 1
    assert "hunter2-imap" not in run.stderr + run.stdout


def test_the_shell_workspace_serves_ops_only_when_asked_and_logs_json(tmp_path: Path) -> None:
    """With HERALD_OPS_PORT set the shell workspace is ready on it, and JSON logs hold no password."""
    [ops_port] = _free_ports(1)
    env = {
        "HERALD_PLAN": str(EXAMPLES / "release-comms.toml"),
        "HERALD_OPS_PORT": str(ops_port),
        "HERALD_LOG_FORMAT": "json",
        "HERALD_IMAP_URL": "imap://bounces:hunter2-imap@127.0.0.1:9/INBOX",
        "HERALD_IMAP_POLL": "3600",
        "HERALD_IMAP_INSECURE": "on",
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DATABASE_URL", "SLACK_", "DISCORD_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env={**base, **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(ops_port, process)
        assert _get(ops_port, "/readyz") == (200, '{"ready": true}')
        code, metrics = _get(ops_port, "/metrics")
        assert (code, "herald_ledger_up 1.0" in metrics) == (200, True)
    finally:
        _, stderr = process.communicate("/quit\n", timeout=30)
    assert process.returncode == 0, stderr
    entries = [json.loads(line) for line in stderr.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["message"] == f"Herald ops: listening on 127.0.0.1:{ops_port}" for e in entries)
    assert any(e["message"].startswith("HERALD_IMAP_INSECURE=on") for e in entries)
    assert "hunter2-imap" not in stderr


def test_the_shell_workspace_has_no_ops_endpoint_by_default(tmp_path: Path) -> None:
    """Without HERALD_OPS_PORT the shell workspace opens no port: two of them never fight over 9090."""
    run = _herald(
        "run",
        cwd=tmp_path,
        stdin="",
        env={"HERALD_PLAN": str(EXAMPLES / "release-comms.toml"), "DATABASE_URL": "memory://"},
    )
    assert run.returncode == 0, run.stderr
    assert "Herald ops" not in run.stderr


def test_announce_without_a_token_says_which_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`herald announce` with no HERALD_API_TOKEN exits 1 naming it, without reading the server's settings."""
    monkeypatch.setenv("HERALD_API_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("HERALD_API_TOKEN", raising=False)
    monkeypatch.setenv("HERALD_LINK_SECRET", "short")  # a server setting that is wrong: none of the client's business
    assert main(["announce", "2.4"]) == 1
    assert "Set HERALD_API_TOKEN" in capsys.readouterr().err


def test_announce_refuses_a_timeout_that_is_no_duration(capsys: pytest.CaptureFixture[str]) -> None:
    """`--timeout soon` is a usage error naming the forms a duration takes."""
    with pytest.raises(SystemExit) as exited:
        main(["announce", "2.4", "--wait", "--timeout", "soon"])
    assert exited.value.code == 2
    assert "'soon' is not a duration" in capsys.readouterr().err


def test_the_ci_examples_are_valid_yaml_that_run_herald_announce() -> None:
    """The GitHub Actions workflow and the GitLab CI job parse, and each waits on herald announce."""
    yaml = pytest.importorskip("yaml")
    github = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text())
    steps = [step for job in github["jobs"].values() for step in job["steps"]]
    assert any("herald announce ${{ github.ref_name }} --wait" in step.get("run", "") for step in steps)
    gitlab = yaml.safe_load((EXAMPLES / "ci" / "gitlab-ci.yml").read_text())
    assert any(
        "herald announce" in line for job in gitlab.values() if isinstance(job, dict) for line in job.get("script", [])
    )
