"""Herald's metrics, in Prometheus's text format: what this process did, and what the ledger holds.

Two kinds, named apart in ``/metrics``' help text:

* **this process**: sends and how long the platform took to answer each, 429s and the
  Retry-After they named, seconds waited for budget, lease losses. Counters, so sum them
  over replicas.
* **the ledger**: deliveries by medium and status, the queue of pending ones, receipts by
  source. Read from the database at each scrape with one aggregate query each, so every
  replica reports the same numbers: take ``max()`` across replicas, not ``sum()``.

Labels are only media (``slack``, ``email``, ...), statuses, outcomes and receipt sources:
never a target, a person, a host or a token.

Sends are measured around each link's messenger (``metered_links``), 429s in the rate
limiter every adapter reports them to (``MeteredLimiter``); the engine and the limiter's
own counters (``leases.lost``, ``waited``) are read as they stand at scrape time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from bot.domain.delivery import DeliveryStatus
from bot.domain.destinations import Platform
from bot.domain.errors import DeliveryError, RateLimited
from bot.domain.receipt import ReceiptSource
from bot.service.engine import DeliveryEngine
from bot.service.limits import Limits, RateLimiter, Timer
from bot.service.ports import (
    BudgetStore,
    DeliveryTotal,
    Messenger,
    OutgoingMessage,
    PlatformLink,
    Reconciler,
    UnitOfWorkFactory,
)

log = logging.getLogger(__name__)

_MEDIA = frozenset(p.value for p in Platform)
# A send is one platform call: tens of milliseconds for a chat message, seconds for a slow SMTP relay.
_SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LEDGER_TIMEOUT = 5.0  # seconds a scrape waits for the ledger's counts before reporting it down


def medium_of(name: str) -> str:
    """The medium of a target or budget name (``slack:T0123`` → ``slack``); ``other`` for anything else."""
    prefix = name.split(":", 1)[0]
    return prefix if prefix in _MEDIA else "other"


class Metrics:
    """One process's metrics, in a registry of their own (never the global one).

    Wire it before Herald starts: ``limiter()`` and ``links()`` make the limiter and the
    links it measures, ``watch()`` names the engine and the ledger it reads at scrape time.
    """

    def __init__(self, *, process: bool = True) -> None:
        self.registry = CollectorRegistry()
        self.sends = Counter(
            "herald_sends",
            "This process: messages handed to a platform, by medium and outcome "
            "(sent, rate_limited, retryable, permanent, error)",
            ["medium", "outcome"],
            registry=self.registry,
        )
        self.send_seconds = Histogram(
            "herald_send_duration_seconds",
            "This process: how long the platform took to answer a send (waits for budget not included)",
            ["medium"],
            buckets=_SEND_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "herald_rate_limited",
            "This process: 429 answers (too many requests) reported to the rate limiter, by medium",
            ["medium"],
            registry=self.registry,
        )
        self.retry_after = Counter(
            "herald_retry_after_seconds",
            "This process: seconds of Retry-After the platforms asked for in their 429s, by medium",
            ["medium"],
            registry=self.registry,
        )
        self._limiters: list[RateLimiter] = []
        self.engine: DeliveryEngine | None = None
        self._ledger = _Ledger()
        self.registry.register(_Running(self))
        self.registry.register(self._ledger)
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)

    def limiter(
        self,
        *,
        timer: Timer | None = None,
        budgets: BudgetStore | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> MeteredLimiter:
        """A rate limiter that counts the 429s it is told of; its ``waited`` is reported too."""
        limiter = MeteredLimiter(self, timer=timer, budgets=budgets, wall_clock=wall_clock)
        self._limiters.append(limiter)
        return limiter

    def links(self, links: Mapping[Platform, PlatformLink]) -> dict[Platform, PlatformLink]:
        """The same links, each send through them counted and timed under its platform's name."""
        return {
            platform: replace(link, messenger=metered(link.messenger, platform.value, self))
            for platform, link in links.items()
        }

    def watch(self, *, engine: DeliveryEngine | None = None, uow: UnitOfWorkFactory | None = None) -> None:
        """Read the engine's counters (lease losses, ...) and the ledger's totals at each scrape."""
        if engine is not None:
            self.engine = engine
        if uow is not None:
            self._ledger.uow = uow

    def throttled(self, budget: str, retry_after: float) -> None:
        """Count one 429 on the budget named ``budget`` (``slack:T0123``), asking to wait ``retry_after`` s."""
        medium = medium_of(budget)
        self.rate_limited.labels(medium).inc()
        self.retry_after.labels(medium).inc(max(0.0, retry_after))

    def waited(self) -> float:
        """Seconds this process's limiters have waited for budget, all together."""
        return sum(limiter.waited for limiter in self._limiters)

    def sent(self, medium: str, outcome: str, seconds: float) -> None:
        """Count one send through ``medium`` that ended in ``outcome`` after ``seconds``."""
        self.sends.labels(medium, outcome).inc()
        self.send_seconds.labels(medium).observe(seconds)

    async def exposition(self) -> bytes:
        """Everything, in Prometheus's text format, with the ledger's counts read now."""
        await self._ledger.refresh()
        return generate_latest(self.registry)


class MeteredLimiter(RateLimiter):
    """The rate limiter, counting each 429 reported to it and the Retry-After it named, per medium."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        timer: Timer | None = None,
        budgets: BudgetStore | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(timer=timer, budgets=budgets, wall_clock=wall_clock)
        self._metrics = metrics

    async def throttled(
        self, limits: Limits, *, target: str | None, retry_after: float, method: str | None = None
    ) -> None:
        self._metrics.throttled(limits.name, retry_after)
        await super().throttled(limits, target=target, retry_after=retry_after, method=method)


class _MeteredMessenger:
    """A messenger whose sends are counted by outcome and timed."""

    def __init__(self, inner: Messenger, medium: str, metrics: Metrics) -> None:
        self.inner = inner
        self._medium = medium
        self._metrics = metrics

    async def send(self, message: OutgoingMessage) -> str:
        started = time.perf_counter()
        outcome = "error"
        try:
            ref = await self.inner.send(message)
        except RateLimited:
            outcome = "rate_limited"
            raise
        except DeliveryError as error:
            outcome = "permanent" if error.permanent else "retryable"
            raise
        else:
            outcome = "sent"
            return ref
        finally:
            self._metrics.sent(self._medium, outcome, time.perf_counter() - started)


class _MeteredReconciler(_MeteredMessenger):
    """The same, for a messenger that can also look for a copy in doubt (the engine asks it first)."""

    def __init__(self, inner: Messenger, finder: Reconciler, medium: str, metrics: Metrics) -> None:
        super().__init__(inner, medium, metrics)
        self._finder = finder

    async def find(self, message: OutgoingMessage, since: datetime) -> str | None:
        return await self._finder.find(message, since)


def metered(messenger: Messenger, medium: str, metrics: Metrics) -> Messenger:
    """``messenger`` with its sends measured; a ``Reconciler`` stays one."""
    if isinstance(messenger, Reconciler):
        return _MeteredReconciler(messenger, messenger, medium, metrics)
    return _MeteredMessenger(messenger, medium, metrics)


class _Running(Collector):
    """This process's counters kept by the engine and the limiters, read as they stand."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        try:
            self._version = version("release-herald")
        except PackageNotFoundError:  # a checkout that was never installed
            self._version = "unknown"

    def collect(self) -> Iterator[Metric]:
        yield InfoMetricFamily("herald_build", "The Herald this process runs", value={"version": self._version})
        yield CounterMetricFamily(
            "herald_budget_wait_seconds",
            "This process: seconds spent waiting for a platform's budget (pacing and Retry-After blocks)",
            value=self._metrics.waited(),
        )
        engine = self._metrics.engine
        if engine is None:
            return
        for name, text, value in (
            (
                "herald_lease_losses",
                "leases another worker took over while this process was sending",
                engine.leases.lost,
            ),
            (
                "herald_sends_abandoned",
                "sends not made because their lease was lost or not renewed",
                engine.leases.abandoned,
            ),
            (
                "herald_reconciled",
                "deliveries in doubt found already on the platform, recorded not resent",
                engine.reconciled,
            ),
            (
                "herald_resent_unverified",
                "deliveries in doubt sent again without the platform being asked",
                engine.unverified,
            ),
        ):
            yield CounterMetricFamily(name, f"This process: {text}", value=value)


class _Ledger(Collector):
    """The ledger's totals, as last read by ``refresh`` (every scrape)."""

    def __init__(self) -> None:
        self.uow: UnitOfWorkFactory | None = None
        self._deliveries: list[DeliveryTotal] = []
        self._receipts: dict[ReceiptSource, int] = {}
        self._up: bool | None = None  # None: nothing to read (no ledger watched)

    async def refresh(self) -> None:
        if self.uow is None:
            return
        try:
            async with asyncio.timeout(_LEDGER_TIMEOUT), self.uow() as uow:
                deliveries = await uow.deliveries.totals()
                receipts = await uow.receipts.totals()
        except Exception as error:  # the database is away: say so, and show no stale counts
            log.warning("metrics: could not read the ledger's totals (%s)", type(error).__name__)
            self._up, self._deliveries, self._receipts = False, [], {}
            return
        self._up, self._deliveries, self._receipts = True, deliveries, receipts

    def collect(self) -> Iterator[Metric]:
        if self._up is None:
            return
        yield GaugeMetricFamily(
            "herald_ledger_up", "Whether this scrape could read the ledger's totals (1) or not (0)", value=int(self._up)
        )
        if not self._up:
            return
        deliveries = GaugeMetricFamily(
            "herald_deliveries",
            "The ledger, every release: deliveries by medium and status",
            labels=["medium", "status"],
        )
        counts: dict[tuple[str, DeliveryStatus], int] = {}
        for total in self._deliveries:
            key = (medium_of(total.medium), total.status)
            counts[key] = counts.get(key, 0) + total.count
        for medium in sorted({medium for medium, _ in counts}):
            for status in DeliveryStatus:  # every status of a medium in use, zeros included
                deliveries.add_metric([medium, status.value], counts.get((medium, status), 0))
        yield deliveries
        pending = sum(n for (_, status), n in counts.items() if status is DeliveryStatus.PENDING)
        yield GaugeMetricFamily(
            "herald_queue_depth",
            "The ledger, every release: deliveries pending (due, scheduled, or waiting to be retried)",
            value=pending,
        )
        receipts = GaugeMetricFamily(
            "herald_receipts_recorded", "The ledger, every release: receipts recorded, by source", labels=["source"]
        )
        for source in ReceiptSource:
            receipts.add_metric([source.value], self._receipts.get(source, 0))
        yield receipts
