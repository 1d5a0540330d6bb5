"""What the Slack benchmarks share: Herald in its own process, percentiles, the printed table.

``HeraldProcess`` starts ``bench/_slack_herald.py`` in a temporary folder with a fresh
signing secret and waits for its ready line; ``stop()`` sends SIGTERM (as a service
manager stops ``herald run``) and reads the final summary; leaving the ``async with``
kills whatever still runs and removes the folder. With ``profile`` set, py-spy samples
the server from the ready line to ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import secrets
import shutil
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from adapters.slack import translate
from tests.fakes.slack import BOT_USER_ID, SignedRequest, block_action

HERE = Path(__file__).resolve().parent
_LINE_LIMIT = 1 << 26  # the ready line lists every delivered message


class HeraldProcess:
    """``bench/_slack_herald.py`` running in a child process, talking only to 127.0.0.1."""

    def __init__(
        self,
        *,
        recipients: int,
        releases: int = 1,
        channel_members: int = 100,
        profile: Path | None = None,
        keep_log: Path | None = None,
        setup_timeout: float = 600.0,
    ) -> None:
        self.recipients = recipients
        self.releases = releases
        self.channel_members = channel_members
        self.profile = profile
        self.keep_log = keep_log
        self.setup_timeout = setup_timeout
        self.secret = secrets.token_hex(16)
        self.folder = Path(tempfile.mkdtemp(prefix="herald-bench-"))
        self.db = self.folder / "herald.db"
        self.ready: dict[str, Any] = {}
        self.summary: dict[str, Any] = {}
        self.stop_problem: str | None = None
        self.stop_seconds = float("nan")
        self._process: asyncio.subprocess.Process | None = None
        self._spy: asyncio.subprocess.Process | None = None
        self._log = self.folder / "server.log"

    @property
    def url(self) -> str:
        """Herald's ``/slack/events``."""
        return f"http://127.0.0.1:{self.ready['port']}/slack/events"

    @property
    def stats_url(self) -> str:
        """The child's ``GET /stats``."""
        return f"http://127.0.0.1:{self.ready['stats_port']}/stats"

    def response_url(self, name: str) -> str:
        """A ``response_url`` on the fake Slack inside the child."""
        return f"{self.ready['slack']}/response/{name}"

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._cleanup()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._cleanup()

    async def _start(self) -> None:
        command = [
            sys.executable,
            str(HERE / "_slack_herald.py"),
            "--db",
            str(self.db),
            "--recipients",
            str(self.recipients),
            "--releases",
            str(self.releases),
            "--channel-members",
            str(self.channel_members),
        ]
        with self._log.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *command,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env={**os.environ, "SLACK_SIGNING_SECRET": self.secret},
                limit=_LINE_LIMIT,
            )
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), self.setup_timeout)
        if not line:
            raise RuntimeError(f"Herald did not start:\n{self.log_tail()}")
        self.ready = json.loads(line)
        if self.profile is not None:
            spy = Path(sys.executable).parent / "py-spy"
            if not spy.exists():
                raise RuntimeError(f"--profile needs py-spy: {Path(sys.executable).parent / 'pip'} install py-spy")
            self._spy = await asyncio.create_subprocess_exec(
                str(spy),
                "record",
                "--pid",
                str(self.ready["pid"]),
                "--output",
                str(self.profile),
                "--format",
                "raw" if self.profile.suffix == ".txt" else "flamegraph",
                "--rate",
                "250",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )

    async def stop(self, within: float = 60.0) -> dict[str, Any]:
        """SIGTERM; Herald flushes its pending redraws and the child prints its summary.

        If Herald has not stopped ``within`` seconds, the child is asked (SIGUSR1)
        what its pending tasks wait in, then killed: ``stop_problem`` says so and the
        summary is empty.
        """
        if self._spy is not None and self._spy.returncode is None:
            self._spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            await asyncio.wait_for(self._spy.wait(), 60)
        process = self._process
        assert process is not None
        assert process.stdout is not None
        loop = asyncio.get_running_loop()
        began = loop.time()
        process.send_signal(signal.SIGTERM)
        try:
            line = await asyncio.wait_for(process.stdout.readline(), within)
            await asyncio.wait_for(process.wait(), within)
        except TimeoutError:
            process.send_signal(signal.SIGUSR1)
            await asyncio.sleep(1.0)
            dump = self.log_tail(200).split("_slack_herald: ")[-1]
            self.stop_problem = f"Herald did not stop within {within:.0f}s of SIGTERM; pending: {dump}"
            process.kill()
            await process.wait()
            return {}
        self.stop_seconds = loop.time() - began
        if not line:
            raise RuntimeError(f"Herald stopped without a summary:\n{self.log_tail()}")
        self.summary = json.loads(line)
        return self.summary

    async def stats(self, http: Any) -> dict[str, Any]:
        """The child's running counts (``GET /stats``)."""
        async with http.get(self.stats_url) as response:
            found: dict[str, Any] = await response.json()
            return found

    def log_tail(self, lines: int = 30) -> str:
        """The end of the child's stderr."""
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_errors(self) -> dict[str, int]:
        """ERROR records the child logged, by logger and the start of the message."""
        found: dict[str, int] = {}
        try:
            text = self._log.read_text(errors="replace")
        except OSError:
            return found
        for line in text.splitlines():
            if line.startswith("ERROR "):
                key = line[:90]
                found[key] = found.get(key, 0) + 1
        return found

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the ledger (read-only) while Herald writes it; WAL lets both go on."""
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    async def _cleanup(self) -> None:
        for process in (self._spy, self._process):
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self.keep_log is not None and self._log.exists():
            shutil.copyfile(self._log, self.keep_log)
        shutil.rmtree(self.folder, ignore_errors=True)


def ack_click(secret: str, *, channel: str, ts: str, user: str, key: str, response_url: str) -> SignedRequest:
    """An Acknowledge click as Slack sends it: with the message clicked, Herald's blocks and all.

    Herald answers a click in a DM by turning that message into the receipt (through
    ``response_url``) and a click on a channel post privately (``chat.postEphemeral``).
    """
    copy = {
        "type": "message",
        "ts": ts,
        "user": BOT_USER_ID,
        "text": "Acme Cloud 2.4 is live in production.",
        "blocks": [
            {"type": "section", "block_id": "text", "text": {"type": "mrkdwn", "text": "*Acme Cloud 2.4* is live."}},
            {
                "type": "context",
                "block_id": "herald:receipt-hint",
                "elements": [{"type": "mrkdwn", "text": "Please acknowledge: press the button or react"}],
            },
            {
                "type": "actions",
                "block_id": "herald:receipt",
                "elements": [
                    {
                        "type": "button",
                        "action_id": translate.ACK,
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                        "value": key,
                    }
                ],
            },
        ],
    }
    return block_action(
        secret,
        user_id=user,
        action_id=translate.ACK,
        channel_id=channel,
        message_ts=ts,
        response_url=response_url,
        message=copy,
    )


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def verdict(ok: bool | None) -> str:
    """How a figure compares with its target."""
    return "" if ok is None else ("met" if ok else "MISSED")


def print_table(title: str, rows: Sequence[tuple[str, str, str, bool | None]]) -> None:
    """Rows of (figure, value, target, met?) under a title."""
    print(f"\n{title}")
    width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    target_width = max(len(row[2]) for row in rows)
    for name, value, target, ok in rows:
        print(f"  {name:<{width}}  {value:>{value_width}}  {target:<{target_width}}  {verdict(ok)}".rstrip())
