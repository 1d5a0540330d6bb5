"""Corrections by e-mail, through a real SMTP server: one follow-up per mailbox, with a link that counts anew."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import aiohttp
import pytest

from adapters.email.message import subject_line
from bot.app.bootstrap import memory_storage, web_server
from bot.domain.delivery import DeliveryStatus, Purpose
from tests.adapters.email.conftest import MailWorld, mail_world
from tests.adapters.email.test_mail_tls import MESSAGE
from tests.servers.smtp import Received, SmtpServer

SECRET = "a-test-secret-that-is-long-enough-0123456789"
ENV = {"HERALD_PUBLIC_URL": "https://herald.example.com", "HERALD_LINK_SECRET": SECRET, "HERALD_HTTP_HOST": "127.0.0.1"}
LINK = re.compile(r"https://herald\.example\.com(/ack/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
ADDRESSES = tuple(f"reader{n:02}@example.com" for n in range(20))
SUBJECT = "Acme Cloud 2.4: what changes for you"
LEAD = "Correction: this replaces the earlier Customers message about Acme Cloud 2.4."
CORRECTED = "Acme Cloud 2.4 is live. Single sign-on comes to every plan next month, not today."
PLAN = f"""
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]
approvers = ["shell:lead"]

[[group]]
id = "customers"
name = "Customers"
to = [{", ".join(f'"email:{a}"' for a in ADDRESSES)}]
ack_within = "2h"
from = "Release Team <releases@example.com>"
subject = "{{{{ product }}}} {{{{ version }}}}: what changes for you"
message = "Acme Cloud {{{{ version }}}} is live. Single sign-on on every plan."
"""


@dataclass
class Corrected:
    """A release sent to twenty mailboxes, then corrected; Herald's web server answers the links."""

    world: MailWorld
    http: aiohttp.ClientSession
    port: int

    @property
    def smtp(self) -> SmtpServer:
        return self.world.smtp

    def mails(self, purpose: str) -> list[Received]:
        """The mails received that Herald sent for ``purpose`` (``communique`` or ``correction``)."""
        corrections = {
            (d.message_ref or "").removeprefix("mail:")
            for d in self.world.store.deliveries.values()
            if d.purpose is Purpose.CORRECTION
        }
        return [r for r in self.smtp.received if (_envid(r) in corrections) == (purpose == "correction")]

    async def correct(self) -> None:
        """Propose the corrected text, have someone else approve it, and run the engine until idle."""
        for line, actor in (
            (f"correct 2.4 customers {CORRECTED}", "shell:deployer"),
            ("approve 2.4 customers", "shell:lead"),
        ):
            reply = await self.world.say(line, actor)
            assert not reply.failed, reply.views
        await self.world.herald.engine.run_until_idle()

    async def post(self, path: str) -> tuple[int, str]:
        async with self.http.post(f"http://127.0.0.1:{self.port}{path}") as response:
            return response.status, await response.text()

    async def acknowledged(self) -> int:
        status = await self.world.herald.desk.status("2.4")
        return int(status.groups[0].acknowledged)


def _envid(received: Received) -> str:
    return str(received.message["Message-ID"]).strip("<>").split("@")[0]


def _path(received: Received) -> str:
    found = LINK.search(received.part("text/plain"))
    assert found is not None, "no acknowledgement link in the mail"
    return found.group(1)


@pytest.fixture
async def corrected(smtp: SmtpServer) -> AsyncIterator[Corrected]:
    world = mail_world(smtp, PLAN, HERALD_HTTP_PORT="0", **ENV)
    server = web_server(world.settings, world.herald.desk)
    assert server is not None
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            for line, actor in (
                ("announce 2.4", "shell:deployer"),
                ("confirm 2.4", "shell:deployer"),
                ("approve 2.4 all", "shell:lead"),
                ("send 2.4", "shell:deployer"),
                ("approve 2.4", "shell:lead"),
            ):
                reply = await world.say(line, actor)
                assert not reply.failed, reply.views
            await world.herald.engine.run_until_idle()
            yield Corrected(world, http, server.port)
    finally:
        await server.close()


async def test_each_mailbox_gets_exactly_one_follow_up_and_a_second_run_sends_nothing(corrected: Corrected) -> None:
    """Twenty mailboxes, twenty communiqués, then one correction each; running the engine again adds no mail."""
    assert len(corrected.smtp.received) == len(ADDRESSES)

    await corrected.correct()
    await corrected.world.herald.engine.run_until_idle()

    follow_ups = corrected.mails("correction")
    assert sorted(a for r in follow_ups for a in r.rcpt_tos) == sorted(ADDRESSES)
    assert len(corrected.smtp.received) == 2 * len(ADDRESSES)
    settled = [d for d in corrected.world.store.deliveries.values() if d.purpose is Purpose.CORRECTION]
    assert {d.status for d in settled} == {DeliveryStatus.SENT}
    assert len(settled) == len(ADDRESSES)


async def test_a_follow_up_says_what_it_corrects_from_the_group_s_sender(corrected: Corrected) -> None:
    """Subject "Correction: …", the lead sentence then the corrected text in both parts, the group's From."""
    await corrected.correct()

    [original] = [r for r in corrected.mails("communique") if r.rcpt_tos == (ADDRESSES[0],)]
    [follow_up] = [r for r in corrected.mails("correction") if r.rcpt_tos == (ADDRESSES[0],)]
    assert follow_up.message["Subject"] == f"Correction: {SUBJECT}"
    assert follow_up.message["From"] == original.message["From"] == "Release Team <releases@example.com>"
    text = follow_up.part("text/plain")
    assert text.startswith(LEAD)
    assert CORRECTED in text
    page = follow_up.part("text/html")
    assert f"<p>{LEAD}</p>" in page
    assert f"<p>{CORRECTED}</p>" in page
    assert follow_up.message["Disposition-Notification-To"] is None
    assert follow_up.message["Message-ID"] != original.message["Message-ID"]


async def test_a_follow_up_is_threaded_under_the_mail_it_corrects(corrected: Corrected) -> None:
    """In-Reply-To and References name the original's Message-ID, so mail clients show them together."""
    await corrected.correct()

    [original] = [r for r in corrected.mails("communique") if r.rcpt_tos == (ADDRESSES[3],)]
    [follow_up] = [r for r in corrected.mails("correction") if r.rcpt_tos == (ADDRESSES[3],)]
    assert follow_up.message["In-Reply-To"] == original.message["Message-ID"]
    assert follow_up.message["References"] == original.message["Message-ID"]
    assert original.message["In-Reply-To"] is None


async def test_the_follow_up_s_link_acknowledges_the_corrected_text_and_earlier_receipts_stay_apart(
    corrected: Corrected,
) -> None:
    """A receipt of revision 1 is kept per revision; the follow-up's own link counts once for revision 2."""
    [original] = [r for r in corrected.mails("communique") if r.rcpt_tos == (ADDRESSES[0],)]
    status, _page = await corrected.post(_path(original))
    assert status == 200
    assert await corrected.acknowledged() == 1

    await corrected.correct()
    assert await corrected.acknowledged() == 0  # the group is asked anew

    [follow_up] = [r for r in corrected.mails("correction") if r.rcpt_tos == (ADDRESSES[0],)]
    path = _path(follow_up)
    assert path != _path(original)
    status, page = await corrected.post(path)
    assert status == 200
    assert "Thank you" in page
    status, page = await corrected.post(path)
    assert "Already acknowledged" in page

    assert await corrected.acknowledged() == 1
    async with memory_storage(corrected.world.store).uow() as uow:
        earlier = await uow.receipts.per_revision("2.4")
    assert earlier == {"customers": {1: 1}}
    [receipt] = corrected.world.store.receipts.values()
    assert receipt.delivery_key == f"2.4|customers|correction-2|email:{ADDRESSES[0]}"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Correction: Acme Cloud 2.4 is live", "Correction: Acme Cloud 2.4 is live"),
        ("Acme Cloud 2.4 is live", "Correction: Acme Cloud 2.4 is live"),
        ("", "Correction: Acme Cloud 2.4"),
    ],
)
def test_a_correction_s_subject_is_marked_once(subject: str, expected: str) -> None:
    """The engine's follow-up is marked already and stays so; a correction without the mark gets it."""
    assert subject_line(replace(MESSAGE, purpose=Purpose.CORRECTION, subject=subject)) == expected


async def test_the_original_mail_s_link_after_a_correction_points_to_the_correction_and_counts_nothing(
    corrected: Corrected,
) -> None:
    """Its text was replaced: the link says so and records nothing; only the follow-up's link counts."""
    [original] = [r for r in corrected.mails("communique") if r.rcpt_tos == (ADDRESSES[1],)]
    await corrected.correct()

    status, page = await corrected.post(_path(original))

    assert status == 200
    assert "Replaced by a correction" in page
    assert "revision 2" in page
    assert await corrected.acknowledged() == 0
    assert corrected.world.store.receipts == {}
    assert corrected.world.store.superseded == []


async def test_a_retraction_sends_each_mailbox_one_notice_threaded_under_the_communique(corrected: Corrected) -> None:
    """Retracted (the lead approves): one "Retracted: …" mail per address, no link to acknowledge, and no more."""
    for line, actor in (
        ("retract 2.4 rolled back: the migration failed", "shell:deployer"),
        ("approve 2.4", "shell:lead"),
    ):
        reply = await corrected.world.say(line, actor)
        assert not reply.failed, reply.views
    await corrected.world.herald.engine.run_until_idle()
    await corrected.world.herald.engine.run_until_idle()

    notices = [r for r in corrected.smtp.received if str(r.message["Subject"]).startswith("Retracted: ")]
    assert sorted(a for r in notices for a in r.rcpt_tos) == sorted(ADDRESSES)
    assert len(corrected.smtp.received) == 2 * len(ADDRESSES)
    [notice] = [r for r in notices if r.rcpt_tos == (ADDRESSES[2],)]
    [original] = [r for r in corrected.mails("communique") if r.rcpt_tos == (ADDRESSES[2],) and r not in notices]
    assert notice.message["Subject"] == f"Retracted: {SUBJECT}"
    assert notice.part("text/plain").startswith("Retracted: rolled back: the migration failed")
    assert LINK.search(notice.part("text/plain")) is None  # nothing to acknowledge
    assert notice.message["In-Reply-To"] == original.message["Message-ID"]
