"""The APScheduler sweep: one job with a stable id, run at start and then on its interval."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from adapters.scheduling.sweeper import REMINDERS_JOB, Sweeper, sweep_interval


async def test_the_sweep_runs_at_start_and_keeps_running_after_a_failure() -> None:
    """The job fires immediately, survives a sweep that raises, and fires again."""
    calls: list[int] = []
    ran_twice = asyncio.Event()

    async def sweep() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        ran_twice.set()

    sweeper = Sweeper(sweep, timedelta(seconds=0.05))
    sweeper.start()
    try:
        await asyncio.wait_for(ran_twice.wait(), timeout=5)
    finally:
        sweeper.stop()
    assert len(calls) >= 2


async def test_starting_twice_keeps_one_job() -> None:
    """A second start replaces the job with the same id instead of adding another."""
    sweeper = Sweeper(lambda: asyncio.sleep(0), timedelta(minutes=1))
    sweeper.start()
    try:
        sweeper._scheduler.add_job(sweeper._run, "interval", minutes=1, id=REMINDERS_JOB, replace_existing=True)
        assert [job.id for job in sweeper._scheduler.get_jobs()] == [REMINDERS_JOB]
    finally:
        sweeper.stop()


def test_the_interval_follows_the_shortest_reminder_period() -> None:
    """A tenth of the shortest remind_every, between one second and a minute."""
    assert sweep_interval([timedelta(hours=4), timedelta(minutes=30)]) == timedelta(minutes=1)
    assert sweep_interval([timedelta(seconds=20)]) == timedelta(seconds=2)
    assert sweep_interval([timedelta(seconds=2)]) == timedelta(seconds=1)


async def test_a_sweep_cut_short_by_shutdown_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """Herald stopping while a sweep runs (its task cancelled) ends the sweep quietly: nothing at ERROR."""
    started = asyncio.Event()

    async def sweep() -> None:
        started.set()
        await asyncio.Event().wait()  # a sweep still waiting on the database when Herald stops

    sweeper = Sweeper(sweep, timedelta(seconds=60))
    sweeper.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    sweeper.stop()
    running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
