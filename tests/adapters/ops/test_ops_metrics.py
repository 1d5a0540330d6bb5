"""/metrics: what this process sent and waited, and what the ledger holds, with nothing personal in a label."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.ops.metrics import Metrics
from bot.app.bootstrap import Herald, memory_storage, wire
from bot.domain.commands import Acknowledge, parse_release_command
from bot.domain.destinations import Platform
from bot.domain.errors import PermanentDeliveryError, RateLimited
from bot.domain.receipt import ReceiptSource
from bot.service.clock import FixedClock
from bot.service.limits import Limits
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from bot.service.views import Notice
from storage.memory import MemoryBudgets, MemoryStore
from tests.adapters.ops.conftest import ask, running
from tests.fakes import FakeDirectory, FakeMessenger, VirtualTime
from tests.service.conftest import PLAN


@dataclass
class Metered:
    """Herald on memory storage and fakes, with its metrics wired as ``herald run`` wires them."""

    herald: Herald
    metrics: Metrics
    messenger: FakeMessenger
    clock: FixedClock

    async def say(self, text: str, actor: str = "shell:deployer") -> None:
        reply = await self.herald.desk.handle(parse_release_command(text, actor))
        assert not reply.failed, [v.text for v in reply.views if isinstance(v, Notice)]

    async def approve(self) -> None:
        """Announce, confirm and approve 2.4, then give the final approval: deliveries are pending."""
        for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
            await self.say(line)
        await self.say("approve 2.4", actor="shell:lead")

    async def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """/metrics, served and parsed: each sample by name and labels."""
        async with running(metrics=self.metrics) as server:
            status, text = await ask(server, "/metrics")
        assert status == 200
        return dict(_samples(text))


def _samples(text: str) -> Iterator[tuple[tuple[str, tuple[tuple[str, str], ...]], float]]:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield (sample.name, tuple(sorted(sample.labels.items()))), sample.value


def _key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


@pytest.fixture
def metered() -> Metered:
    store, clock = MemoryStore(), FixedClock()
    metrics = Metrics(process=False)
    messenger = FakeMessenger()
    directory = FakeDirectory(
        members={
            "shell:#engineering": ("shell:alex", "shell:kim"),
            "shell:#support": ("shell:sam", "shell:jo"),
            "slack:usergroup:S0SUPPORT": ("slack:U1", "slack:U2"),
        }
    )
    links = {
        p: PlatformLink(directory, messenger, limits=Limits(name=f"{p.value}:T0TEST"))
        for p in (Platform.SHELL, Platform.SLACK)
    }
    storage = memory_storage(store)
    limiter = metrics.limiter(timer=VirtualTime(clock), budgets=MemoryBudgets(store), wall_clock=clock.now)
    herald = wire(plan=parse_plan(PLAN), storage=storage, links=metrics.links(links), clock=clock, limiter=limiter)
    metrics.watch(engine=herald.engine, uow=storage.uow)
    return Metered(herald, metrics, messenger, clock)


async def test_pending_deliveries_are_the_queue_depth(metered: Metered) -> None:
    """After the final approval every delivery is pending, by medium, and the queue is their number."""
    await metered.approve()
    samples = await metered.scrape()
    assert samples[_key("herald_deliveries", medium="shell", status="pending")] == 4
    assert samples[_key("herald_deliveries", medium="slack", status="pending")] == 2
    assert samples[_key("herald_deliveries", medium="slack", status="sent")] == 0
    assert samples[_key("herald_queue_depth")] == 6
    assert samples[_key("herald_ledger_up")] == 1


async def test_a_campaign_shows_its_sends_latency_and_ledger(metered: Metered) -> None:
    """Once sent, sends are counted and timed per medium, the ledger shows them sent, and the queue is empty."""
    await metered.approve()
    await metered.herald.engine.run_until_idle()
    samples = await metered.scrape()
    assert samples[_key("herald_sends_total", medium="shell", outcome="sent")] == 4
    assert samples[_key("herald_sends_total", medium="slack", outcome="sent")] == 2
    assert samples[_key("herald_send_duration_seconds_count", medium="shell")] == 4
    assert samples[_key("herald_send_duration_seconds_bucket", medium="slack", le="+Inf")] == 2
    assert samples[_key("herald_deliveries", medium="shell", status="sent")] == 4
    assert samples[_key("herald_deliveries", medium="slack", status="sent")] == 2
    assert samples[_key("herald_queue_depth")] == 0
    assert samples[_key("herald_lease_losses_total")] == 0


async def test_receipts_are_counted_by_source(metered: Metered) -> None:
    """An acknowledgement recorded through the desk shows in herald_receipts_recorded under its source."""
    await metered.approve()
    await metered.herald.engine.run_until_idle()
    ref = next(f"ref-{i}" for i, m in enumerate(metered.messenger.sent, 1) if m.target == "shell:@kim")
    command = Acknowledge(actor="shell:kim", message_ref=ref, source=ReceiptSource.BUTTON)
    assert not (await metered.herald.desk.handle(command)).failed
    samples = await metered.scrape()
    assert samples[_key("herald_receipts_recorded", source="button")] == 1
    assert samples[_key("herald_receipts_recorded", source="reaction")] == 0


async def test_a_429_counts_once_with_its_retry_after(metered: Metered) -> None:
    """A platform's 429 is one rate_limited send, one 429 and its Retry-After seconds, under the medium's name."""
    metered.messenger.script["slack:@U1"] = [RateLimited("ratelimited", retry_after=3.0, scope="target")]
    await metered.approve()
    await metered.herald.engine.run_until_idle()
    metered.clock.advance(timedelta(seconds=3))
    await metered.herald.engine.run_until_idle()
    samples = await metered.scrape()
    assert samples[_key("herald_sends_total", medium="slack", outcome="rate_limited")] == 1
    assert samples[_key("herald_sends_total", medium="slack", outcome="sent")] == 2
    assert samples[_key("herald_rate_limited_total", medium="slack")] == 1
    assert samples[_key("herald_retry_after_seconds_total", medium="slack")] == 3
    assert samples[_key("herald_budget_wait_seconds_total")] >= 0


async def test_failures_are_counted_by_kind(metered: Metered) -> None:
    """A permanent refusal counts as a permanent send and a failed delivery."""
    metered.messenger.errors["shell:@kim"] = PermanentDeliveryError("no such user")
    await metered.approve()
    await metered.herald.engine.run_until_idle()
    samples = await metered.scrape()
    assert samples[_key("herald_sends_total", medium="shell", outcome="permanent")] == 1
    assert samples[_key("herald_deliveries", medium="shell", status="failed")] == 1


async def test_lease_losses_are_read_from_the_engine_at_each_scrape(metered: Metered) -> None:
    """herald_lease_losses_total is the engine's count as it stands when scraped."""
    metered.herald.engine.leases.lost = 2
    samples = await metered.scrape()
    assert samples[_key("herald_lease_losses_total")] == 2


async def test_no_label_names_a_person_a_target_or_a_host(metered: Metered) -> None:
    """Labels are media, statuses, outcomes and sources: no target, person, or budget name appears."""
    metered.messenger.script["slack:@U1"] = [RateLimited("ratelimited", retry_after=1.0, scope="target")]
    await metered.approve()
    await metered.herald.engine.run_until_idle()
    async with running(metrics=metered.metrics) as server:
        _status, text = await ask(server, "/metrics")
    for private in ("shell:", "slack:", "@", "#", "kim", "U1", "T0TEST", "2.4", "engineering"):
        assert private not in text.replace("# HELP", "").replace("# TYPE", ""), private


async def test_a_ledger_that_cannot_be_read_says_so_and_shows_no_stale_counts(metered: Metered) -> None:
    """When the database is away herald_ledger_up is 0 and no delivery gauge is reported."""
    await metered.approve()

    def broken() -> Any:
        raise OSError("the database went away")

    metered.metrics.watch(uow=broken)
    samples = await metered.scrape()
    assert samples[_key("herald_ledger_up")] == 0
    assert not any(name == "herald_deliveries" for name, _labels in samples)
