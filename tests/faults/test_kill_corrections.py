"""Corrections and retractions are exactly once too: kill -9 while 300 copies are edited in place, restart, count."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.faults.test_kill import _ledger_is_settled, _records, _start

TARGETS = 300


def _edits(record: Path) -> Counter[str]:
    """How many times each copy was edited in place, by its reference."""
    return Counter(entry.split(" ")[1] for _, entry in _records(record) if entry.startswith("EDIT "))


@pytest.mark.parametrize("change", ["--correct", "--retract"])
def test_kill_9_while_copies_are_changed_edits_every_copy_exactly_once(tmp_path: Path, change: str) -> None:
    """300 copies sent; then four processes correcting (or retracting) them are killed at random points: each copy
    edited once."""
    url = f"sqlite:///{tmp_path / 'herald.db'}"
    record = tmp_path / "platform.log"
    sent = _start(url, record, TARGETS)
    _, stderr = sent.communicate(timeout=120)
    assert sent.returncode == 0, stderr.decode()
    rng = random.Random(16)

    killed = 0
    for n in range(1, 5):
        process = _start(url, record, TARGETS, change, latency=0.005)
        deadline = time.monotonic() + 60
        while sum(_edits(record).values()) < n * TARGETS // 6 and process.poll() is None:
            assert time.monotonic() < deadline, "the correction never got going"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.2))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            killed += 1
        process.communicate(timeout=30)
    assert killed, "no process was killed mid-correction; the test proved nothing"
    assert sum(_edits(record).values()) < TARGETS, "the correction ended before the last kill; the test proved nothing"

    final = _start(url, record, TARGETS, change)
    _, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr.decode()

    edits = _edits(record)
    assert set(edits) == {f"ref-2.4|everyone|shell:@u{i}" for i in range(TARGETS)}, "a copy was never corrected"
    assert {ref for ref, n in edits.items() if n > 1} == set(), "a copy was corrected twice"
    sends = Counter(entry for _, entry in _records(record) if not entry.startswith("EDIT "))
    assert len(sends) == TARGETS
    assert set(sends.values()) == {1}, "a correction was sent as a new message, or a copy twice"
    _ledger_is_settled(url)
