"""The sweeps Herald runs on a timer, on APScheduler 3's AsyncIOScheduler.

The database holds every due time; the scheduler is only an alarm clock that makes
the sweeps look. Jobs have stable ids and ``replace_existing=True``, so a restart or
a second start never doubles them; the in-memory job store is enough because nothing
is lost with it: the next sweep recomputes what is due from the ledger.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.errors import HeraldError

log = logging.getLogger(__name__)

REMINDERS_JOB = "herald:reminders"


class Sweeper:
    """Runs ``sweep`` every ``every`` (and once at start)."""

    def __init__(
        self, sweep: Callable[[], Awaitable[object]], every: timedelta, *, job_id: str = REMINDERS_JOB
    ) -> None:
        self._sweep = sweep
        self._every = every
        self._job_id = job_id
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    async def _run(self) -> None:
        try:
            await self._sweep()
        except asyncio.CancelledError:
            # Herald is stopping mid-sweep (the loop cancels what still runs): nothing is lost,
            # the next start sweeps again. Ending quietly keeps APScheduler from logging an error.
            log.debug("the sweep %s was stopped mid-way", self._job_id)
        except HeraldError as error:  # it says why in a sentence: the operator reads that, not a traceback
            log.warning("the sweep %s failed; it will run again: %s", self._job_id, error)
        except Exception:  # a sweep that fails is retried at the next tick; the job must live on
            log.exception("the sweep %s failed; it will run again", self._job_id)

    def start(self) -> None:
        """Schedule the sweep and start the scheduler on the running event loop."""
        from datetime import UTC, datetime

        self._scheduler.add_job(
            self._run,
            "interval",
            seconds=self._every.total_seconds(),
            id=self._job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(max(1, self._every.total_seconds())),
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    def stop(self) -> None:
        """Stop without waiting for a running sweep (its work is in the database)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)


def sweep_interval(remind_every: list[timedelta]) -> timedelta:
    """Sweep often enough to send a reminder within a tenth of its period: 1 s to 60 s."""
    shortest = min(remind_every, default=timedelta(minutes=10))
    return min(timedelta(seconds=60), max(timedelta(seconds=1), shortest / 10))
