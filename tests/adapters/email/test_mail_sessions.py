"""SMTP sessions reused, and a server that says "too fast" slowing the whole server's budget down."""

from __future__ import annotations

from datetime import timedelta

import aiosmtplib

from adapters.email.gateway import QUOTA_WAIT, THROTTLED_FOR
from adapters.email.sessions import SmtpSessions
from bot.domain.delivery import DeliveryStatus
from storage.memory import MemoryBudgets
from tests.adapters.email.conftest import mail_world
from tests.servers.smtp import SmtpServer

CROWD = """
product = "Acme Cloud"
[access]
announcers = ["shell:deployer"]
[[group]]
id = "customers"
to = [{people}]
message = "Acme Cloud {{{{ version }}}} is live."
"""


def crowd(count: int) -> str:
    return CROWD.format(people=", ".join(f'"email:p{i}@example.com"' for i in range(count)))


async def test_many_mails_share_a_few_sessions(smtp: SmtpServer) -> None:
    """Twenty mailboxes go out over at most HERALD_SMTP_CONNECTIONS sessions, each message once."""
    world = mail_world(smtp, crowd(20), HERALD_SMTP_CONNECTIONS="2", HERALD_SMTP_RATE="1000")
    await world.send()
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(f"p{i}@example.com" for i in range(20))
    assert len({r.session for r in smtp.received}) <= 2


async def test_a_session_the_server_dropped_is_replaced_before_a_message(smtp: SmtpServer) -> None:
    """A resting session that no longer answers NOOP is dropped; the message goes over a new one, once."""
    now = [0.0]

    async def connect() -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, start_tls=False, timeout=5)
        await client.connect()
        return client

    sessions = SmtpSessions(connect, connections=1, clock=lambda: now[0])
    for n in range(2):
        async with sessions.session() as client:
            await client.sendmail("herald@acme.test", [f"p{n}@example.com"], b"Subject: hi\r\n\r\nhi\r\n")
    assert sessions.opened == 1  # the second message reused the first session

    async with sessions.session() as client:
        client.close()  # as if the server had timed the idle connection out
    now[0] += 5.0
    async with sessions.session() as client:
        await client.sendmail("herald@acme.test", ["p9@example.com"], b"Subject: hi\r\n\r\nhi\r\n")
    await sessions.close()
    assert sessions.opened == 2
    assert [r.rcpt_tos for r in smtp.received] == [("p0@example.com",), ("p1@example.com",), ("p9@example.com",)]


async def test_a_session_is_left_after_its_share_of_messages(smtp: SmtpServer) -> None:
    """After per_session messages the session says QUIT and the next message opens another."""

    async def connect() -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, start_tls=False, timeout=5)
        await client.connect()
        return client

    sessions = SmtpSessions(connect, connections=1, per_session=2)
    for n in range(5):
        async with sessions.session() as client:
            await client.sendmail("herald@acme.test", [f"p{n}@example.com"], b"Subject: hi\r\n\r\nhi\r\n")
    await sessions.close()
    assert [r.session for r in smtp.received] == [1, 1, 2, 2, 3]


async def test_a_server_saying_too_fast_holds_every_message_back_and_none_is_lost(smtp: SmtpServer) -> None:
    """SES's 454 "Maximum sending rate exceeded" blocks the server's budget; every mail still goes, once, later."""
    smtp.handler.refuse["p1@example.com"] = "454 4.7.0 Throttling failure: Maximum sending rate exceeded."
    world = mail_world(smtp, crowd(4), HERALD_SMTP_RATE="1000", HERALD_SMTP_CONNECTIONS="1")
    await world.send()

    key = "2.4|customers|email:p1@example.com"
    held = world.store.deliveries[key]
    assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 0)  # a rate limit costs no attempt
    assert held.error is not None
    assert held.error.endswith("(the server asks Herald to slow down)")
    # The server's whole budget is blocked, in the store every Herald process shares.
    blocked = await MemoryBudgets(world.store).blocked(f"email:{smtp.host}|ceiling", now=world.clock.now())
    assert THROTTLED_FOR - 1 <= blocked <= THROTTLED_FOR

    del smtp.handler.refuse["p1@example.com"]
    world.clock.advance(timedelta(seconds=THROTTLED_FOR + 1))
    await world.herald.engine.run_until_idle()
    assert all(d.status is DeliveryStatus.SENT for d in world.store.deliveries.values())
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [f"p{i}@example.com" for i in range(4)]


async def test_a_spent_quota_holds_the_server_back_ten_minutes(smtp: SmtpServer) -> None:
    """SES's "Daily message quota exceeded" is no failure: the server's budget waits ten minutes, the mail stays."""
    smtp.handler.refuse["p0@example.com"] = "454 4.7.0 Throttling failure: Daily message quota exceeded."
    world = mail_world(smtp, crowd(1))
    await world.send()
    held = world.store.deliveries["2.4|customers|email:p0@example.com"]
    assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 0)
    blocked = await MemoryBudgets(world.store).blocked(f"email:{smtp.host}|ceiling", now=world.clock.now())
    assert QUOTA_WAIT - 1 <= blocked <= QUOTA_WAIT
