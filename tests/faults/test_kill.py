"""Crash safety with real processes: kill -9 mid-campaign, restart, and count every message."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

WORKER = Path(__file__).resolve().parent / "worker.py"


def _start(url: str, record: Path, targets: int, *extra: str, latency: float = 0.001) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, str(record), str(targets), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "HERALD_FAKE_LATENCY": str(latency)},
    )


def _records(record: Path) -> list[tuple[int, str]]:
    if not record.exists():
        return []
    rows = [line.split(" ", 1) for line in record.read_text().splitlines() if line.strip()]
    return [(int(pid), key) for pid, key in rows]


def _kill_and_restart(url: str, record: Path, targets: int, kills: int, rng: random.Random) -> set[int]:
    killed: set[int] = set()
    for _ in range(kills):
        process = _start(url, record, targets)
        time.sleep(rng.uniform(0.6, 2.5))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            killed.add(process.pid)
        process.communicate(timeout=30)
    final = _start(url, record, targets)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr.decode()
    return killed


def _check(record: Path, targets: int) -> None:
    counts = Counter(key for _, key in _records(record))
    expected = {f"2.4|everyone|shell:@u{i}" for i in range(targets)}
    assert set(counts) == expected, "some targets were never delivered"
    # The platform can be asked about a send a dead process had out, so none is repeated.
    assert {key for key, n in counts.items() if n > 1} == set()


def _ledger_is_settled(url: str) -> None:
    import asyncio

    from bot.app.bootstrap import open_storage
    from bot.app.settings import load_settings

    async def _check_ledger() -> list[str]:
        storage = await open_storage(load_settings({"DATABASE_URL": url}, env_file=None), migrate=False)
        try:
            async with storage.uow() as uow:
                return [d.status.value for d in await uow.deliveries.for_release("2.4")]
        finally:
            await storage.close()

    statuses = asyncio.run(_check_ledger())
    assert set(statuses) == {"sent"}


def test_kill_9_at_random_points_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    """Ten kill -9s during a 1,000-target campaign on SQLite: every target gets its message exactly once."""
    url = f"sqlite:///{tmp_path / 'herald.db'}"
    record = tmp_path / "platform.log"
    killed = _kill_and_restart(url, record, 1000, kills=10, rng=random.Random(2024))
    assert killed, "no process was killed mid-campaign; the test proved nothing"
    _check(record, 1000)
    _ledger_is_settled(url)


@pytest.mark.slow
def test_forty_kills_during_a_long_campaign(tmp_path: Path) -> None:
    """The same check with forty kill -9s over a 3,000-target campaign (pytest -m slow)."""
    url = f"sqlite:///{tmp_path / 'herald.db'}"
    record = tmp_path / "platform.log"
    killed = _kill_and_restart(url, record, 3000, kills=40, rng=random.Random(99))
    assert killed, "no process was killed mid-campaign; the test proved nothing"
    _check(record, 3000)
    _ledger_is_settled(url)


@pytest.mark.postgres
def test_two_replicas_on_postgres_send_every_message_and_reminder_once(tmp_path: Path, postgres_url: str) -> None:
    """Two Herald processes share one campaign and its reminders: each message and reminder exactly once."""
    record = tmp_path / "platform.log"
    first = _start(postgres_url, record, 300, "--remind")
    second = _start(postgres_url, record, 300, "--remind")
    for process in (first, second):
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()
    rows = _records(record)
    counts = Counter(key for _, key in rows)
    assert {key for key, n in counts.items() if n > 1} == set()
    assert sum(1 for key in counts if "|reminder-" not in key and "|escalation|" not in key) == 300
    assert {pid for pid, _ in rows} == {first.pid, second.pid}, "the two replicas did not share the work"
    assert any("|reminder-" in key for key in counts)
    assert sum("|escalation|" in key for key in counts) == 1


@pytest.mark.postgres
def test_a_postgres_restart_mid_campaign_loses_nothing(tmp_path: Path, postgres_url: str) -> None:
    """The database restarts while 500 messages go out: Herald rides it out and every target gets its message."""
    restart = os.environ.get("HERALD_TEST_POSTGRES_RESTART")
    if not restart:
        pytest.skip("HERALD_TEST_POSTGRES_RESTART not set (see .ci/start-postgres): restart test skipped")
    record = tmp_path / "platform.log"
    worker = _start(postgres_url, record, 500, latency=0.01)
    try:
        deadline = time.monotonic() + 60
        while len(_records(record)) < 100:  # restart once the campaign is well under way
            assert time.monotonic() < deadline, "the campaign never started"
            time.sleep(0.05)
        assert worker.poll() is None, "the campaign ended before the restart; the test proved nothing"
        subprocess.run(
            restart, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=90
        )
        _, stderr = worker.communicate(timeout=300)
    finally:
        if worker.poll() is None:  # a failed restart must not leave Herald running into the next test
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, stderr.decode()
    counts = Counter(key for _, key in _records(record))
    assert set(counts) == {f"2.4|everyone|shell:@u{i}" for i in range(500)}
    # A send whose outcome could not be written during the outage is looked for, not repeated.
    assert {key for key, n in counts.items() if n > 1} == set()
    _ledger_is_settled(postgres_url)
