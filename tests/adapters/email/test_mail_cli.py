"""`herald run` sends e-mail by real SMTP when SMTP_URL is set, in the shell workspace."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import aiohttp

from tests.servers.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """\
/release announce 2.4
/release confirm 2.4
/release approve 2.4 all
/release send 2.4
/as lead
/release approve 2.4
/release status 2.4
"""


async def herald(*args: str, env: dict[str, str], stdin: str, cwd: Path) -> tuple[int, str, str]:
    """Run ``python -m bot`` without blocking this loop (the test's servers live in it)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DATABASE_URL", "SLACK_", "SMTP_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_the_shell_workspace_sends_email_destinations_by_smtp(smtp: SmtpServer, tmp_path: Path) -> None:
    """With SMTP_URL set, email:support@example.com gets a real mail; the other platforms stay simulated."""
    code, out, err = await herald(
        "run",
        cwd=tmp_path,
        stdin=SCRIPT,
        env={
            "HERALD_PLAN": str(ROOT / "examples" / "release-comms.toml"),
            "DATABASE_URL": "memory://",
            "SMTP_URL": smtp.url(),
            "HERALD_MAIL_FROM": "Acme Releases <releases@acme.test>",
        },
    )
    assert code == 0, err
    assert [r.rcpt_tos for r in smtp.received] == [("support@example.com",)]
    mail = smtp.received[0]
    assert mail.message["Subject"] == "Acme Cloud 2.4 is live"
    assert "Hi Support team," in mail.part("text/plain")
    assert "email:support@example.com (simulated)" not in out
    assert "slack:@U0SUPPORT1 (simulated)" in out
    assert "support                    6     6      0       0" in out


async def test_herald_run_serves_the_acknowledgement_links_it_mails(smtp: SmtpServer, tmp_path: Path) -> None:
    """With HERALD_PUBLIC_URL, the mailed link is answered by herald run itself and the receipt shows in status."""
    port = _free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DATABASE_URL", "SLACK_", "SMTP_"))}
    env = {
        **base,
        "PYTHONPATH": str(ROOT),
        "HERALD_PLAN": str(ROOT / "examples" / "release-comms.toml"),
        "DATABASE_URL": "memory://",
        "SMTP_URL": smtp.url(),
        "HERALD_MAIL_FROM": "releases@acme.test",
        "HERALD_PUBLIC_URL": "https://herald.acme.test/",
        "HERALD_LINK_SECRET": "x" * 40,
        "HERALD_HTTP_HOST": "127.0.0.1",
        "HERALD_HTTP_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(SCRIPT.replace("/release status 2.4\n", "").encode())
        await process.stdin.drain()
        await asyncio.wait_for(smtp.handler.arrived.wait(), timeout=60)
        found = re.search(r"https://herald\.acme\.test(/ack/\S+)", smtp.received[0].part("text/plain"))
        assert found is not None
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}{found.group(1)}") as response,
        ):
            assert response.status == 200
            assert "Thank you" in await response.text()
        process.stdin.write(b"/release status 2.4\n")
        process.stdin.close()
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    status = out.decode().split("/release status 2.4")[-1]
    assert "not yet acknowledged:" in status
    assert "email:support@example.com" not in status.split("not yet acknowledged:")[-1].split("\n")[0]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
