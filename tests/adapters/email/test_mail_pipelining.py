"""PIPELINING (RFC 2920): envelope and DATA sent together, each reply paired with its command, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from email.message import EmailMessage

import aiosmtplib
import pytest

from adapters.email.gateway import THROTTLED_FOR, SmtpMessenger, delivery_error
from adapters.email.pipelining import send_pipelined
from adapters.email.runtime import mail_links
from adapters.email.sessions import MessageRefused
from bot.app.settings import load_settings
from bot.domain.delivery import DeliveryStatus
from bot.domain.destinations import Kind, Platform
from bot.domain.errors import RetryableDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.ports import OutgoingMessage
from storage.memory import MemoryBudgets
from tests.adapters.email.conftest import mail_world
from tests.servers.smtp import RecordingHandler, SmtpServer, smtp_server
from tests.servers.tls import Certificates

ADA = "2.4|customers|email:ada@example.com"
BOB = "2.4|customers|email:bob@example.org"


@pytest.fixture
async def piped() -> AsyncIterator[SmtpServer]:
    """A server that advertises PIPELINING (and DSN)."""
    async with smtp_server(RecordingHandler(pipelining=True)) as server:
        yield server


def _messenger(world_smtp: SmtpServer) -> SmtpMessenger:
    settings = load_settings(
        {"SMTP_URL": world_smtp.url(), "HERALD_MAIL_FROM": "Herald <herald@acme.test>"}, env_file=None
    )
    messenger = mail_links(settings)[Platform.EMAIL].messenger
    assert isinstance(messenger, SmtpMessenger)
    return messenger


def _message(address: str) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_key=f"2.4|customers|email:{address}",
        version="2.4",
        product="Acme Cloud",
        group_id="customers",
        group_name="Customers",
        target=f"email:{address}",
        kind=Kind.EMAIL,
        text="Acme Cloud 2.4 is live.\n.\n.. a line of dots stays as written",
        ack=AckPolicy.REQUIRED,
        subject="Acme Cloud 2.4 is live",
    )


async def test_envelope_and_data_go_together_to_a_server_that_offers_pipelining(piped: SmtpServer) -> None:
    """Each message's MAIL, RCPT and DATA arrive in one read; every mailbox gets its one message, DSN intact."""
    world = mail_world(piped)
    await world.send()

    assert sorted(r.rcpt_tos for r in piped.received) == [("ada@example.com",), ("bob@example.org",)]
    assert piped.handler.arrivals.count(("MAIL", "RCPT", "DATA")) == 2
    assert not [a for a in piped.handler.arrivals if "MAIL" in a and a != ("MAIL", "RCPT", "DATA")]
    ada = next(r for r in piped.received if r.rcpt_tos == ("ada@example.com",))
    assert ada.rcpt_options == ("NOTIFY=SUCCESS,FAILURE",)
    assert "RET=HDRS" in ada.mail_options
    assert ada.message["Subject"] == "Acme Cloud 2.4: what changes for you"
    assert world.store.deliveries[ADA].status is DeliveryStatus.SENT


async def test_a_server_without_pipelining_gets_one_command_at_a_time(smtp: SmtpServer) -> None:
    """Without PIPELINING each command waits for its reply, as before: no read holds two commands."""
    world = mail_world(smtp)
    await world.send()

    assert len(smtp.received) == 2
    assert all(len(arrival) == 1 for arrival in smtp.handler.arrivals)


async def test_the_content_arrives_as_written_through_a_pipeline(piped: SmtpServer) -> None:
    """Lines that start with a dot are stuffed on the wire and arrive unchanged; the session serves the next one."""
    messenger = _messenger(piped)
    await messenger.send(_message("ada@example.com"))
    await messenger.send(_message("bob@example.org"))
    await messenger.sessions.close()

    text = piped.received[0].part("text/plain").replace("\r\n", "\n")
    assert "is live.\n.\n.. a line of dots stays as written" in text
    assert [r.session for r in piped.received] == [1, 1]


async def test_a_refused_rcpt_in_a_pipeline_fails_that_mail_alone(piped: SmtpServer) -> None:
    """550 to one RCPT fails that delivery with the server's words; the others go, over the same session."""
    piped.handler.refuse["bob@example.org"] = "550 5.1.1 <bob@example.org>: Recipient address rejected"
    world = mail_world(piped, HERALD_SMTP_CONNECTIONS="1")
    await world.send()

    failed = world.store.deliveries[BOB]
    assert (failed.status, failed.permanent) == (DeliveryStatus.FAILED, True)
    assert failed.error == "SMTP 550: 5.1.1 <bob@example.org>: Recipient address rejected"
    assert world.store.deliveries[ADA].status is DeliveryStatus.SENT
    assert [r.rcpt_tos for r in piped.received] == [("ada@example.com",)]
    assert ("RSET",) in piped.handler.arrivals  # the refused transaction was reset, the session kept
    assert {r.session for r in piped.received} == {1}


async def test_a_refused_mail_from_in_a_pipeline_is_that_mails_failure(piped: SmtpServer) -> None:
    """A 5xx to MAIL FROM (the RCPT and DATA behind it answered 503) fails the mail with MAIL's reply, not DATA's."""
    piped.handler.refuse_mail = "553 5.7.1 Sender address rejected: not owned by user"
    world = mail_world(piped)
    await world.send()

    failed = world.store.deliveries[ADA]
    assert (failed.status, failed.permanent) == (DeliveryStatus.FAILED, True)
    assert failed.error == "SMTP 553: 5.7.1 Sender address rejected: not owned by user"
    assert piped.received == []


async def test_a_4xx_in_a_pipeline_is_tried_again_and_delivered_once(piped: SmtpServer) -> None:
    """451 to a RCPT puts that delivery back with a backoff; the next try delivers it, once, and nothing is lost."""
    piped.handler.refuse_once["ada@example.com"] = "451 4.7.1 Greylisted, try again later"
    world = mail_world(piped)
    await world.send()
    waiting = world.store.deliveries[ADA]
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 1)
    assert waiting.error == "SMTP 451: 4.7.1 Greylisted, try again later"
    assert world.store.deliveries[BOB].status is DeliveryStatus.SENT

    world.clock.advance(timedelta(minutes=5))
    await world.herald.engine.run_until_idle()
    assert world.store.deliveries[ADA].status is DeliveryStatus.SENT
    assert sorted(r.rcpt_tos[0] for r in piped.received) == ["ada@example.com", "bob@example.org"]


async def test_a_421_mid_pipeline_holds_the_relay_back_and_loses_nothing(piped: SmtpServer) -> None:
    """421 to a RCPT (the server closes): the relay's budget waits, no attempt is counted, a new session sends it."""
    piped.handler.refuse_once["ada@example.com"] = "421 4.7.0 mx.test closing: too many messages from you"
    world = mail_world(piped, HERALD_SMTP_CONNECTIONS="1")
    await world.send()

    held = world.store.deliveries[ADA]
    assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 0)
    assert held.error is not None
    assert held.error.startswith("SMTP 421: 4.7.0 mx.test closing")
    blocked = await MemoryBudgets(world.store).blocked(f"email:{piped.host}|ceiling", now=world.clock.now())
    assert THROTTLED_FOR - 1 <= blocked <= THROTTLED_FOR

    world.clock.advance(timedelta(seconds=THROTTLED_FOR + 1))
    await world.herald.engine.run_until_idle()
    assert all(d.status is DeliveryStatus.SENT for d in world.store.deliveries.values())
    assert sorted(r.rcpt_tos[0] for r in piped.received) == ["ada@example.com", "bob@example.org"]
    assert piped.handler.arrivals.count(("EHLO",)) == 2  # the closed session was not used again


@pytest.mark.parametrize("pipelining", [True, False])
async def test_a_non_ascii_address_is_refused_alike_with_and_without_pipelining(pipelining: bool) -> None:
    """A server without SMTPUTF8 gets nothing for a non-ASCII address, whichever way the envelope would go."""
    async with smtp_server(RecordingHandler(pipelining=pipelining)) as server:
        messenger = _messenger(server)
        with pytest.raises(RetryableDeliveryError, match="SMTPUTF8 is not supported by this server"):
            await messenger.send(_message("zoë@example.com"))
        await messenger.sessions.close()
    assert server.received == []


async def test_pipelining_over_starttls_with_a_login(certificates: Certificates) -> None:
    """Over STARTTLS and AUTH the replies are read from the TLS layer in order; two messages, one session."""
    served = (str(certificates.cert), str(certificates.key))
    handler = RecordingHandler(pipelining=True)
    async with smtp_server(handler, tls="starttls", certificate=served, login=("mailer", "s3cret")) as smtp:
        settings = load_settings(
            {
                "SMTP_URL": f"smtp://mailer:s3cret@127.0.0.1:{smtp.port}",
                "HERALD_MAIL_FROM": "Herald <herald@acme.test>",
                "HERALD_SMTP_CA_FILE": str(certificates.ca),
            },
            env_file=None,
        )
        messenger = mail_links(settings)[Platform.EMAIL].messenger
        assert isinstance(messenger, SmtpMessenger)
        await messenger.send(_message("ada@example.com"))
        await messenger.send(_message("bob@example.org"))
        await messenger.sessions.close()
    assert [r.rcpt_tos for r in smtp.received] == [("ada@example.com",), ("bob@example.org",)]
    assert handler.arrivals.count(("MAIL", "RCPT", "DATA")) == 2
    assert {r.session for r in smtp.received} == {1}


# -- a scripted server: replies exactly as a test writes them -------------------------------

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
GREETING = b"220 mx.test ESMTP\r\n"
EHLO = b"250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"


@asynccontextmanager
async def _scripted(script: Script) -> AsyncIterator[aiosmtplib.SMTP]:
    """A client connected (and greeted) to a server that runs ``script`` after EHLO."""

    served = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(GREETING)
            await reader.readline()  # EHLO
            writer.write(EHLO)
            await script(reader, writer)
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()
            served.set()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=5)
    await client.connect()
    await client.ehlo()
    try:
        yield client
    finally:
        client.close()
        await asyncio.wait_for(served.wait(), 5)
        server.close()
        await server.wait_closed()


async def _commands(reader: asyncio.StreamReader, count: int) -> list[bytes]:
    return [await reader.readline() for _ in range(count)]


async def _content(reader: asyncio.StreamReader) -> bytes:
    lines = []
    while (line := await reader.readline()) != b".\r\n":
        lines.append(line)
    return b"".join(lines)


async def test_replies_split_byte_by_byte_or_joined_are_each_paired_with_their_command() -> None:
    """Three replies in one write, then a multi-line reply a byte at a time: each command gets its own."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _commands(reader, 3)
        writer.write(b"250 2.1.0 sender ok\r\n250 2.1.5 recipient ok\r\n354 go ahead\r\n")
        await _content(reader)
        for byte in b"250-2.0.0 queued\r\n250 2.0.0 as 4F2A\r\n":
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0)
        await reader.readline()  # QUIT
        writer.write(b"221 bye\r\n")

    async with _scripted(script) as client:
        await send_pipelined(client, _built("ada@example.com"), sender="h@acme.test", recipient="ada@example.com")
        assert client.is_connected
        assert (await client.quit()).code == 221


async def test_a_lax_server_that_asks_for_content_after_a_refused_rcpt_gets_an_empty_body() -> None:
    """354 to DATA after a refused RCPT: the client sends only the final dot, resets, and reports the RCPT's refusal."""
    seen: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _commands(reader, 3)
        writer.write(b"250 ok\r\n550 5.1.1 no such user\r\n354 go ahead\r\n")
        seen.append(await _content(reader))
        writer.write(b"554 5.5.1 no valid recipients\r\n")
        seen.append(await reader.readline())
        writer.write(b"250 reset\r\n")
        await reader.readline()

    async with _scripted(script) as client:
        with pytest.raises(MessageRefused) as refused:
            await send_pipelined(
                client, _built("ghost@example.com"), sender="h@acme.test", recipient="ghost@example.com"
            )
        assert client.is_connected
    assert (refused.value.code, refused.value.message) == (550, "5.1.1 no such user")
    assert seen == [b"", b"RSET\r\n"]


async def test_a_connection_lost_before_the_last_reply_closes_the_session_and_is_retryable() -> None:
    """The server hangs up after the content without a reply: the session is closed and the mail tried again."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _commands(reader, 3)
        writer.write(b"250 ok\r\n250 ok\r\n354 go ahead\r\n")
        await _content(reader)

    async with _scripted(script) as client:
        with pytest.raises(aiosmtplib.SMTPServerDisconnected):
            await send_pipelined(client, _built("ada@example.com"), sender="h@acme.test", recipient="ada@example.com")
        assert not client.is_connected
    assert isinstance(delivery_error(aiosmtplib.SMTPServerDisconnected("Connection lost")), RetryableDeliveryError)


def _built(address: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "h@acme.test"
    mail["To"] = address
    mail["Subject"] = "hi"
    mail.set_content("hello\n.dot\n")
    return mail
