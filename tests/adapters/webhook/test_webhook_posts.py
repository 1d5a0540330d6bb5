"""webhook: destinations get a signed JSON POST, against a real aiohttp receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.webhook.gateway import (
    WEBHOOK_LIMITS,
    WebhookDirectory,
    WebhookMessenger,
    insecure_problem,
    signature,
    webhook_id,
)
from bot.app.bootstrap import delivery_links, memory_storage, wire
from bot.app.settings import load_settings
from bot.domain.commands import parse_release_command
from bot.domain.delivery import Delivery, DeliveryStatus
from bot.domain.destinations import Platform
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from storage.memory import MemoryBudgets, MemoryStore
from tests.fakes import VirtualTime
from tests.servers.webhook import Receiver, webhook_receiver

SECRET = "webhook-secret-0123456789abcdef"


def _plan(*urls: str) -> str:
    to = ", ".join(f'"webhook:{u}"' for u in urls)
    return f"""
product = "Acme Cloud"
[access]
announcers = ["shell:deployer"]
[[group]]
id = "site"
name = "Release site"
to = [{to}]
message = "**Acme Cloud {{{{ version }}}}** is live. Notes: https://example.com/releases/{{{{ version }}}}"
"""


class Hooked:
    def __init__(self, plan_text: str, *, timeout: float = 10.0) -> None:
        settings = load_settings({"HERALD_WEBHOOK_SECRET": SECRET, "DATABASE_URL": "memory://"}, env_file=None)
        self.store = MemoryStore()
        self.clock = FixedClock()
        links = delivery_links(settings)
        if timeout != 10.0:
            links[Platform.WEBHOOK] = PlatformLink(
                WebhookDirectory(), WebhookMessenger(SECRET, timeout=timeout), limits=WEBHOOK_LIMITS
            )

        storage = memory_storage(self.store)
        limiter = RateLimiter(
            timer=VirtualTime(self.clock), budgets=MemoryBudgets(self.store), wall_clock=self.clock.now
        )
        self.herald = wire(plan=parse_plan(plan_text), storage=storage, links=links, clock=self.clock, limiter=limiter)

    async def send(self) -> None:
        for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
            reply = await self.herald.desk.handle(parse_release_command(line, "shell:deployer"))
            assert not reply.failed
        await self.herald.engine.run_until_idle()

    def delivery(self, url: str) -> Delivery:
        return self.store.deliveries[f"2.4|site|webhook:{url}"]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with webhook_receiver(SECRET.encode()) as running:
        yield running


async def test_a_webhook_gets_the_communique_as_signed_json(receiver: Receiver) -> None:
    """One POST whose signature verifies, carrying release, product, group, text and HTML."""
    world = Hooked(_plan(receiver.url()))
    await world.send()

    assert receiver.rejected == 0
    assert len(receiver.accepted) == 1
    body = receiver.accepted[0]
    assert {k: body[k] for k in ("release", "product", "group", "group_name", "purpose")} == {
        "release": "2.4",
        "product": "Acme Cloud",
        "group": "site",
        "group_name": "Release site",
        "purpose": "communique",
    }
    assert body["text"].startswith("**Acme Cloud 2.4** is live.")
    assert "<strong>Acme Cloud 2.4</strong>" in body["html"]
    assert receiver.headers[0]["X-Herald-Delivery"] == f"2.4|site|webhook:{receiver.url()}"
    assert world.delivery(receiver.url()).status is DeliveryStatus.SENT


async def test_a_receiver_with_another_secret_refuses_the_post(receiver: Receiver) -> None:
    """The signature is made with HERALD_WEBHOOK_SECRET: another secret does not verify (401, permanent)."""
    receiver.secret = b"some-other-secret-entirely"
    world = Hooked(_plan(receiver.url()))
    await world.send()
    delivery = world.delivery(receiver.url())
    assert (delivery.status, delivery.error) == (DeliveryStatus.FAILED, "webhook: HTTP 401")
    assert receiver.rejected == 1


async def test_a_4xx_answer_fails_the_delivery_permanently(receiver: Receiver) -> None:
    """410 Gone: failed at once, with the status, and not tried again."""
    receiver.replies["/gone"] = [410, 410]
    world = Hooked(_plan(receiver.url("/gone")))
    await world.send()
    delivery = world.delivery(receiver.url("/gone"))
    assert (delivery.status, delivery.permanent, delivery.attempts) == (DeliveryStatus.FAILED, True, 1)
    assert receiver.replies["/gone"] == [410]


async def test_a_5xx_answer_is_retried_and_then_delivered_once(receiver: Receiver) -> None:
    """503, then 200 after the backoff: delivered, and the receiver accepted exactly one post."""
    receiver.replies["/flaky"] = [503]
    world = Hooked(_plan(receiver.url("/flaky")))
    await world.send()
    waiting = world.delivery(receiver.url("/flaky"))
    assert (waiting.status, waiting.error) == (DeliveryStatus.PENDING, "webhook: HTTP 503")
    world.clock.advance(timedelta(minutes=1))
    await world.herald.engine.run_until_idle()
    assert world.delivery(receiver.url("/flaky")).status is DeliveryStatus.SENT
    assert len(receiver.accepted) == 1


@pytest.mark.parametrize("header", ["1e400", "9" * 400, "soon", "-5", "Wed, 21 Oct 2015 07:28:00 GMT"])
async def test_any_retry_after_a_receiver_sends_waits_at_most_a_day(receiver: Receiver, header: str) -> None:
    """429 with a Retry-After too big for a date, junk or past: the delivery waits a day at most, never crashes."""
    receiver.replies["/busy"] = [429]
    receiver.retry_after = header
    world = Hooked(_plan(receiver.url("/busy")))
    await world.send()
    waiting = world.delivery(receiver.url("/busy"))
    assert (waiting.status, waiting.attempts, waiting.error) == (DeliveryStatus.PENDING, 0, "webhook: HTTP 429")
    assert waiting.not_before is not None
    assert timedelta(0) < waiting.not_before - world.clock.now() <= timedelta(days=1)
    world.clock.advance(timedelta(days=1, seconds=1))
    await world.herald.engine.run_until_idle()
    assert world.delivery(receiver.url("/busy")).status is DeliveryStatus.SENT


async def test_a_receiver_that_does_not_answer_in_time_is_retried(receiver: Receiver) -> None:
    """A timeout is retryable: the delivery waits for another try."""
    world = Hooked(_plan(receiver.url("/slow")), timeout=0.2)
    await world.send()
    waiting = world.delivery(receiver.url("/slow"))
    assert waiting.status is DeliveryStatus.PENDING
    assert waiting.error == "webhook did not answer: TimeoutError"


async def test_a_url_kept_in_the_environment_is_posted_to_and_never_shown(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """webhook:env:NAME reads the URL (which may hold a key) when sending; status names only the variable."""
    monkeypatch.setenv("RELEASE_SITE_HOOK", receiver.url())
    world = Hooked(_plan("env:RELEASE_SITE_HOOK"))

    await world.send()

    assert len(receiver.accepted) == 1
    assert world.delivery("env:RELEASE_SITE_HOOK").status.value == "sent"
    status = await world.herald.desk.status("2.4")
    assert receiver.url() not in str(status.as_json())


async def test_an_unset_url_variable_fails_the_check_by_name() -> None:
    """With the variable unset, the walkthrough says which variable is missing and nothing is posted."""
    world = Hooked(_plan("env:HERALD_TEST_UNSET_HOOK"))

    reply = await world.herald.desk.handle(parse_release_command("announce 2.4", "shell:deployer"))

    assert "HERALD_TEST_UNSET_HOOK is not set" in str(reply.views)


async def test_each_post_is_signed_over_its_id_and_timestamp_the_standard_webhooks_way(receiver: Receiver) -> None:
    """webhook-id is the same on a retry, webhook-timestamp is now, and the v1 signature covers id.timestamp.body."""
    receiver.replies["/hook"] = [503]
    world = Hooked(_plan(receiver.url()))
    await world.send()
    world.clock.advance(timedelta(minutes=1))
    await world.herald.engine.run_until_idle()

    [headers] = receiver.headers
    assert headers["webhook-id"] == webhook_id(f"2.4|site|webhook:{receiver.url()}")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    body = json.dumps(receiver.accepted[0], ensure_ascii=False, separators=(",", ":")).encode()
    stamp = int(headers["webhook-timestamp"])
    assert headers["webhook-signature"] == signature(SECRET.encode(), headers["webhook-id"], stamp, body)
    # the same body replayed with another timestamp no longer matches the signature
    assert headers["webhook-signature"] != signature(SECRET.encode(), headers["webhook-id"], stamp + 600, body)


async def test_a_receiver_with_its_own_secret_gets_posts_signed_with_it(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """webhook:env:NAME with NAME_SECRET set (whsec_ form) signs with that key, not HERALD_WEBHOOK_SECRET."""
    own = b"a-receiver-s-very-own-key-000000"
    monkeypatch.setenv("STATUS_PAGE_HOOK", receiver.url())
    monkeypatch.setenv("STATUS_PAGE_HOOK_SECRET", "whsec_" + base64.b64encode(own).decode())
    receiver.secret = own
    world = Hooked(_plan("env:STATUS_PAGE_HOOK"))
    await world.send()
    assert (len(receiver.accepted), receiver.rejected) == (1, 0)


@pytest.mark.parametrize(
    ("url", "refused"),
    [("http://hooks.example.com/release", True), ("https://hooks.example.com/release", False)],
)
def test_plain_http_to_another_host_is_refused_unless_allowed(url: str, refused: bool) -> None:
    """http:// to another machine would carry the communiqué and its signature in the clear: refused by default."""
    assert (insecure_problem(url, allow_insecure=False) is not None) is refused
    assert insecure_problem(url, allow_insecure=True) is None
    assert insecure_problem("http://127.0.0.1:8080/hook", allow_insecure=False) is None


async def test_an_http_receiver_elsewhere_fails_the_walkthrough_check() -> None:
    """The walkthrough names the problem before anything is sent."""
    world = Hooked(_plan("http://hooks.example.com/release"))
    reply = await world.herald.desk.handle(parse_release_command("announce 2.4", "shell:deployer"))
    assert "http:// would send the communiqué and its signature in the clear" in str(reply.views)


def test_the_insecure_switch_lets_plain_http_through_and_is_said_at_start() -> None:
    """HERALD_WEBHOOK_INSECURE=on: an http:// receiver elsewhere passes the check, and the opt-out is listed."""
    from bot.app.settings import opt_outs

    settings = load_settings({"HERALD_WEBHOOK_SECRET": SECRET, "HERALD_WEBHOOK_INSECURE": "on"}, env_file=None)
    assert settings.webhook_insecure
    assert any(line.startswith("HERALD_WEBHOOK_INSECURE=on") for line in opt_outs(settings))
