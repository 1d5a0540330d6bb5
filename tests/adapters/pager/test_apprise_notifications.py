"""apprise: destinations are notified through the Apprise library, here its json:// service on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app.bootstrap import delivery_links, memory_storage, wire
from bot.app.settings import load_settings
from bot.domain.commands import parse_release_command
from bot.domain.delivery import Delivery, DeliveryStatus
from bot.domain.destinations import Kind, Platform, parse_destination
from bot.domain.errors import PlanError
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from storage.memory import MemoryBudgets, MemoryStore
from tests.fakes import VirtualTime
from tests.servers.webhook import Receiver, webhook_receiver


def _plan(*destinations: str) -> str:
    to = ", ".join(f'"{d}"' for d in destinations)
    return f"""
product = "Acme Cloud"
[access]
announcers = ["shell:deployer"]
[[group]]
id = "oncall"
name = "On call"
to = [{to}]
message = "Acme Cloud {{{{ version }}}} is live: watch the dashboards for an hour."
"""


class Paged:
    def __init__(self, plan_text: str, **env: str) -> None:
        settings = load_settings({"HERALD_APPRISE": "on", "DATABASE_URL": "memory://", **env}, env_file=None)
        self.store = MemoryStore()
        self.clock = FixedClock()

        storage = memory_storage(self.store)
        limiter = RateLimiter(
            timer=VirtualTime(self.clock), budgets=MemoryBudgets(self.store), wall_clock=self.clock.now
        )
        links = delivery_links(settings)
        self.herald = wire(plan=parse_plan(plan_text), storage=storage, links=links, clock=self.clock, limiter=limiter)

    async def send(self) -> None:
        for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
            reply = await self.herald.desk.handle(parse_release_command(line, "shell:deployer"))
            assert not reply.failed, reply
        await self.herald.engine.run_until_idle()

    def delivery(self, destination: str) -> Delivery:
        return self.store.deliveries[f"2.4|oncall|{destination}"]


@pytest.fixture
async def service() -> AsyncIterator[Receiver]:
    async with webhook_receiver(b"", verify=False) as running:
        yield running


def test_apprise_destinations_parse_as_services_nobody_acknowledges() -> None:
    """apprise:SCHEME://… and apprise:env:NAME are destinations of kind webhook; anything else is refused."""
    paged = parse_destination("apprise:pagerduty://integration@routing/")
    assert (paged.platform, paged.kind, paged.person) == (Platform.APPRISE, Kind.WEBHOOK, None)
    assert parse_destination("apprise:env:PAGERDUTY_URL").address == "env:PAGERDUTY_URL"
    with pytest.raises(PlanError, match="apprise:SERVICE://"):
        parse_plan(_plan("apprise:pagerduty"))


async def test_a_notification_goes_out_once_with_the_communique(service: Receiver) -> None:
    """Apprise's True marks the delivery sent; the service got the title and the text once."""
    url = f"apprise:json://127.0.0.1:{service.port}/page"
    world = Paged(_plan(url))
    await world.send()
    assert world.delivery(url).status is DeliveryStatus.SENT
    assert len(service.accepted) == 1
    assert service.accepted[0]["title"] == "Acme Cloud 2.4 · On call"
    assert service.accepted[0]["message"] == "Acme Cloud 2.4 is live: watch the dashboards for an hour."


async def test_the_url_can_come_from_the_environment(service: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """apprise:env:NAME sends to the URL in $NAME, which the plan never shows."""
    monkeypatch.setenv("HERALD_TEST_PAGER_URL", f"json://127.0.0.1:{service.port}/from-env")
    world = Paged(_plan("apprise:env:HERALD_TEST_PAGER_URL"))
    await world.send()
    assert world.delivery("apprise:env:HERALD_TEST_PAGER_URL").status is DeliveryStatus.SENT
    assert len(service.accepted) == 1


async def test_a_false_result_is_retried_until_the_engine_gives_up(service: Receiver) -> None:
    """A service answering 500 makes Apprise say False: tried again with backoff, then failed after six attempts."""
    url = f"apprise:json://127.0.0.1:{service.port}/down"
    service.replies["/down"] = [500] * 10
    world = Paged(_plan(url))
    await world.send()
    assert world.delivery(url).status is DeliveryStatus.PENDING
    for _ in range(10):
        if world.delivery(url).status.settled:
            break
        world.clock.advance(timedelta(minutes=30))
        await world.herald.engine.run_until_idle()
    failed = world.delivery(url)
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 6)
    assert failed.error == "apprise: the service did not accept the notification (gave up after 6 attempts)"
    assert service.replies["/down"] == [500] * 4


async def test_without_herald_apprise_on_the_platform_is_not_configured() -> None:
    """HERALD_APPRISE defaults to off: no link, so nothing is paged by accident (the shell simulates it)."""
    settings = load_settings({}, env_file=None)
    assert Platform.APPRISE not in delivery_links(settings)
