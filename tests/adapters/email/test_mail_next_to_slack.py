"""E-mail next to Slack: one Herald, one HTTP server for Slack's endpoint and the acknowledgement links."""

from __future__ import annotations

import re
import socket

import aiohttp

from adapters.email.runtime import ReportService
from adapters.slack.runtime import SlackService
from adapters.web.server import WebServer
from bot.app.bootstrap import memory_storage
from bot.app.platforms import chat_herald
from bot.app.settings import load_settings
from bot.domain.commands import AnnounceRelease, ApproveCommunique, ConfirmRelease, RequestSend
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from bot.service.planfile import parse_plan
from storage.memory import MemoryBudgets, MemoryStore
from tests.adapters.slack.conftest import SECRET
from tests.adapters.slack.conftest import seed as seed_slack
from tests.fakes import VirtualTime
from tests.fakes.slack import BOT_TOKEN as SLACK_TOKEN
from tests.fakes.slack import FakeSlack
from tests.servers.smtp import SmtpServer
from tests.servers.webhook import webhook_receiver

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["slack:U0ANNOUNCE1"]

[[group]]
id = "engineering"
name = "Engineering"
to = ["slack:#eng-announce", "email:ada@example.com", "webhook:{site}"]
ack_within = "1d"
message = "Acme Cloud {{ version }} is live."
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_slack_email_and_a_web_page_share_one_engine_and_one_http_server(smtp: SmtpServer) -> None:
    """Slack's channel gets its post, Ada her mail, the release page a signed post; Ada's link is answered on
    Slack's HTTP port and counts in status."""
    port = _free_port()
    async with FakeSlack() as slack, webhook_receiver(b"site-secret-0123456789") as site:
        seed_slack(slack)
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": SLACK_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "SLACK_SIGNING_SECRET": SECRET,
                "HERALD_HTTP_HOST": "127.0.0.1",
                "HERALD_HTTP_PORT": str(port),
                "SMTP_URL": smtp.url(),
                "HERALD_MAIL_FROM": "releases@acme.test",
                "HERALD_PUBLIC_URL": "https://herald.acme.test",
                "HERALD_LINK_SECRET": "l" * 40,
                "HERALD_WEBHOOK_SECRET": "site-secret-0123456789",
            },
            env_file=None,
        )
        store, clock = MemoryStore(), FixedClock()

        storage = memory_storage(store)
        limiter = RateLimiter(timer=VirtualTime(clock), budgets=MemoryBudgets(store), wall_clock=clock.now)
        served = chat_herald(
            plan=parse_plan(PLAN.replace("{site}", site.url())),
            storage=storage,
            settings=settings,
            clock=clock,
            limiter=limiter,
            redraw_every=0.2,
        )
        assert [type(s) for s in served.services] == [SlackService]  # the links ride on Slack's server
        for service in served.services:
            await service.start()
        try:
            desk = served.herald.desk
            for command in (
                AnnounceRelease(actor="slack:U0ANNOUNCE1", version="2.4"),
                ConfirmRelease(actor="slack:U0ANNOUNCE1", version="2.4"),
                ApproveCommunique(actor="slack:U0ANNOUNCE1", version="2.4", group_id="engineering"),
                RequestSend(actor="slack:U0ANNOUNCE1", version="2.4"),
            ):
                assert not (await desk.handle(command)).failed
            await served.herald.engine.run_until_idle()

            assert len(slack.messages("C0ENG")) == 1
            assert [r.rcpt_tos for r in smtp.received] == [("ada@example.com",)]
            assert [(p["release"], p["group"]) for p in site.accepted] == [("2.4", "engineering")]
            assert site.rejected == 0
            found = re.search(r"https://herald\.acme\.test(/ack/\S+)", smtp.received[0].part("text/plain"))
            assert found is not None
            async with aiohttp.ClientSession() as http:
                async with http.post(f"http://127.0.0.1:{port}{found.group(1)}") as response:
                    assert response.status == 200
                unsigned = http.post(f"http://127.0.0.1:{port}/slack/events", data=b"{}")
                async with unsigned as response:
                    assert response.status == 401  # Slack's endpoint still refuses what Slack did not sign
            status = await desk.status("2.4")
            assert status.groups[0].mailboxes[0].acknowledged
        finally:
            for service in reversed(served.services):
                await service.close()


async def test_in_socket_mode_the_links_get_their_own_server_and_reports_their_sweep() -> None:
    """Slack over Socket Mode serves no HTTP, so the links run on Herald's own server; IMAP adds the report sweep."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_APP_TOKEN": "xapp-1-test",
            "HERALD_PUBLIC_URL": "https://herald.acme.test",
            "HERALD_LINK_SECRET": "l" * 40,
            "HERALD_IMAP_URL": "imap://bounces:secret@127.0.0.1:1/INBOX",
        },
        env_file=None,
    )
    store = MemoryStore()

    storage = memory_storage(store)
    served = chat_herald(
        plan=parse_plan(PLAN.replace("{site}", "https://releases.acme.test/hook")), storage=storage, settings=settings
    )
    try:
        assert [type(s) for s in served.services] == [SlackService, ReportService, WebServer]
    finally:
        for service in served.services:  # never started: closing releases the Socket Mode client's session
            await service.close()
