"""Communiqués by e-mail, against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

from adapters.email.refs import MailRefs
from bot.domain.delivery import DeliveryStatus
from tests.adapters.email.conftest import PLAN, MailWorld, mail_world
from tests.servers.smtp import Received, SmtpServer

KEY = "2.4|customers|email:ada@example.com"


def _to(world: MailWorld, address: str) -> list[object]:
    return [r for r in world.smtp.received if address in r.rcpt_tos]


async def test_each_mailbox_gets_one_message_with_the_rendered_subject(smtp: SmtpServer) -> None:
    """Every email: recipient gets exactly one message, from the configured sender, with the plan's subject."""
    world = mail_world(smtp)
    await world.send()

    assert sorted(r.rcpt_tos for r in smtp.received) == [("ada@example.com",), ("bob@example.org",)]
    first = next(r for r in smtp.received if r.rcpt_tos == ("ada@example.com",))
    assert first.mail_from == "herald@acme.test"
    assert first.message["Subject"] == "Acme Cloud 2.4: what changes for you"
    assert first.message["From"] == "Herald <herald@acme.test>"
    assert first.message["To"] == "ada@example.com"
    assert first.message["Message-ID"] == f"<{MailRefs().envelope_id(KEY)}@acme.test>"
    assert [m.target for m in world.shell.sent] == ["shell:@sam"]
    assert world.store.deliveries[KEY].status is DeliveryStatus.SENT


async def test_the_message_has_a_text_part_and_an_html_part_rendered_from_markdown(smtp: SmtpServer) -> None:
    """The text part reads as the communiqué; the HTML part renders its Markdown, links and emoji."""
    world = mail_world(smtp)
    await world.send()
    received = next(r for r in smtp.received if r.rcpt_tos == ("ada@example.com",))

    assert received.message.get_content_type() == "multipart/alternative"
    text = received.part("text/plain")
    assert "🚀 *Acme Cloud 2.4* is live." in text
    assert "Release notes: https://example.com/releases/2.4" in text
    html = received.part("text/html")
    assert "<em>Acme Cloud 2.4</em>" in html
    assert "<li>Single sign-on on every plan</li>" in html
    assert '<a href="https://example.com/releases/2.4">' in html


async def test_html_in_a_communique_is_shown_as_text_not_run(smtp: SmtpServer) -> None:
    """A forged link tag in the text is escaped in the HTML part, not made clickable."""
    world = mail_world(smtp)
    await world.say("announce 2.4")
    reply = await world.say(
        'edit 2.4 customers Acme Cloud 2.4 is live <b>now</b> <a href="https://evil.test/x">log in</a>'
    )
    assert not reply.failed
    await world.send()
    html = smtp.received[0].part("text/html")
    assert '<a href="https://evil.test/x">' not in html
    assert "&lt;a href=&quot;https://evil.test/x&quot;&gt;log in&lt;/a&gt;" in html
    assert "&lt;b&gt;now&lt;/b&gt;" in html


async def test_a_link_written_the_slack_way_is_a_link_in_the_mail(smtp: SmtpServer) -> None:
    """``<url|label>``, as people who write for Slack write links, is a link here too, not angle brackets."""
    world = mail_world(smtp)
    await world.say("announce 2.4")
    reply = await world.say("edit 2.4 customers **2.4** is live: <https://acme.example/notes|the notes>")
    assert not reply.failed
    await world.send()
    html = smtp.received[0].part("text/html")
    assert '<strong>2.4</strong> is live: <a href="https://acme.example/notes">the notes</a>' in html
    assert "is live: the notes (https://acme.example/notes)" in smtp.received[0].part("text/plain")


async def test_a_server_that_advertises_dsn_is_asked_for_a_status_notification(smtp: SmtpServer) -> None:
    """With DSN in EHLO, MAIL FROM carries RET=HDRS and ENVID, RCPT TO carries NOTIFY=SUCCESS,FAILURE."""
    world = mail_world(smtp)
    await world.send()
    received = next(r for r in smtp.received if r.rcpt_tos == ("ada@example.com",))
    assert set(received.mail_options) >= {"RET=HDRS", f"ENVID={MailRefs().envelope_id(KEY)}".upper()}
    assert received.rcpt_options == ("NOTIFY=SUCCESS,FAILURE",)


async def test_a_server_without_dsn_gets_a_plain_envelope(plain_smtp: SmtpServer) -> None:
    """Without DSN in EHLO, no DSN parameter is sent (the server would refuse it) and the mail goes out."""
    world = mail_world(plain_smtp)
    await world.send()
    assert len(plain_smtp.received) == 2
    for received in plain_smtp.received:
        assert not any(o.startswith(("RET=", "ENVID=")) for o in received.mail_options)
        assert received.rcpt_options == ()


async def test_a_5xx_refusal_fails_the_delivery_permanently_with_the_servers_reason(smtp: SmtpServer) -> None:
    """550 on RCPT: that recipient fails at once, with the reply in status; the others are delivered."""
    smtp.handler.refuse["bob@example.org"] = "550 5.1.1 <bob@example.org>: Recipient address rejected"
    world = mail_world(smtp)
    await world.send()

    failed = world.store.deliveries["2.4|customers|email:bob@example.org"]
    assert (failed.status, failed.permanent, failed.attempts) == (DeliveryStatus.FAILED, True, 1)
    status = await world.herald.desk.status("2.4")
    assert status.groups[0].failures == (
        ("email:bob@example.org", "SMTP 550: 5.1.1 <bob@example.org>: Recipient address rejected"),
    )
    assert world.store.deliveries[KEY].status is DeliveryStatus.SENT


async def test_a_4xx_reply_is_tried_again_and_then_delivered(smtp: SmtpServer) -> None:
    """450 on RCPT puts the delivery back with a backoff; once the server accepts, it is sent once."""
    smtp.handler.refuse["ada@example.com"] = "450 4.2.1 Mailbox busy, try again later"
    world = mail_world(smtp)
    await world.send()
    waiting = world.store.deliveries[KEY]
    assert (waiting.status, waiting.error) == (DeliveryStatus.PENDING, "SMTP 450: 4.2.1 Mailbox busy, try again later")

    del smtp.handler.refuse["ada@example.com"]
    world.clock.advance(timedelta(minutes=5))
    await world.herald.engine.run_until_idle()
    assert world.store.deliveries[KEY].status is DeliveryStatus.SENT
    assert len([r for r in smtp.received if r.rcpt_tos == ("ada@example.com",)]) == 1


async def test_an_unreachable_server_is_a_retryable_failure(smtp: SmtpServer) -> None:
    """Nothing listening on the SMTP port: the delivery waits for another try; nothing is failed."""
    world = mail_world(SmtpServer(smtp.host, _free_port(), smtp.handler))
    await world.send()
    waiting = world.store.deliveries[KEY]
    assert waiting.status is DeliveryStatus.PENDING
    assert waiting.error is not None
    assert waiting.error.startswith("SMTP server unreachable")
    assert smtp.received == []


async def test_mail_goes_out_at_the_configured_rate(smtp: SmtpServer) -> None:
    """HERALD_SMTP_RATE=2: twelve mailboxes take at least five seconds of (virtual) time."""
    people = ", ".join(f'"email:p{i}@example.com"' for i in range(12))
    plan = f"""
product = "Acme Cloud"
[access]
announcers = ["shell:deployer"]
[[group]]
id = "customers"
to = [{people}]
message = "Acme Cloud {{{{ version }}}} is live."
"""
    world = mail_world(smtp, plan, HERALD_SMTP_RATE="2")
    await world.send()
    assert len(smtp.received) == 12
    assert world.virtual.slept >= 5.0


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_no_read_receipt_is_asked_unless_the_plan_says_so(smtp: SmtpServer) -> None:
    """By default no Disposition-Notification-To; with read_receipt = true the communiqué asks the sender back."""
    world = mail_world(smtp)
    await world.send()
    assert all(r.message["Disposition-Notification-To"] is None for r in smtp.received)

    smtp.received.clear()
    asking = mail_world(smtp, PLAN.replace('ack_within = "2h"', 'ack_within = "2h"\nread_receipt = true'))
    await asking.send()
    assert {r.message["Disposition-Notification-To"] for r in smtp.received} == {"Herald <herald@acme.test>"}


async def test_a_group_with_its_own_sender_sends_from_it_on_herald_s_envelope(smtp: SmtpServer) -> None:
    """``from`` is the group's From header; the envelope sender (VERP) and the Message-ID stay what they were."""
    verp = {"HERALD_BOUNCE_ADDRESS": "bounces@acme.test", "HERALD_BOUNCE_SECRET": "r" * 40}
    await mail_world(smtp, **verp).send()
    [before] = _to_ada(smtp)
    smtp.received.clear()
    plan = PLAN.replace('ack_within = "2h"', 'ack_within = "2h"\nfrom = "Équipe Release <releases@example.com>"')

    await mail_world(smtp, plan, **verp).send()

    [after] = _to_ada(smtp)
    assert before.message["From"] == "Herald <herald@acme.test>"
    assert after.message["From"] == "Équipe Release <releases@example.com>"  # sent encoded (RFC 2047), read back
    assert after.mail_from == before.mail_from
    assert after.mail_from.startswith("bounces+")
    assert after.mail_from.endswith("@acme.test")
    assert after.message["Message-ID"] == before.message["Message-ID"]


def _to_ada(smtp: SmtpServer) -> list[Received]:
    return [r for r in smtp.received if r.rcpt_tos == ("ada@example.com",)]
