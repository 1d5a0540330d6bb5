"""An SMTP server from aiosmtpd that can advertise DSN and PIPELINING and records every envelope and message.

aiosmtpd reads commands from a stream, so it takes pipelined commands (RFC 2920) as they
come, but it does not advertise PIPELINING; ``RecordingHandler(pipelining=True)`` does.
``arrivals`` shows how the client sent: the commands of each read the server made, so
commands pipelined together arrive together and a client that waits for each reply sends
one command a read.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

DSN_PARAMETERS = ("RET", "ENVID", "NOTIFY", "ORCPT")
_VERBS = frozenset({"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT"})


@dataclass(frozen=True, slots=True)
class Received:
    """One accepted message: its envelope as the client gave it, and the message parsed."""

    mail_from: str
    mail_options: tuple[str, ...]
    rcpt_tos: tuple[str, ...]
    rcpt_options: tuple[str, ...]
    message: EmailMessage
    session: int = 0  # which SMTP session (connection) carried it: the n-th the server accepted

    def part(self, content_type: str) -> str:
        """The decoded body of the first part of that type."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return str(part.get_content())  # type: ignore[attr-defined]
        raise AssertionError(f"no {content_type} part")


@dataclass
class RecordingHandler:
    """Accepts mail, except the replies set per recipient (e.g. ``"450 4.2.0 mailbox busy"``).

    ``refuse`` answers a recipient so every time, ``refuse_once`` the next time only (then
    it is accepted), ``refuse_mail`` answers every MAIL FROM. A reply of 421 closes the
    connection after it, as a server that is shutting down or shedding load does.
    """

    dsn: bool = True
    pipelining: bool = False
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    refuse_once: dict[str, str] = field(default_factory=dict)
    refuse_mail: str | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    arrivals: list[tuple[str, ...]] = field(default_factory=list)  # the commands of each read, in order

    def read(self, data: bytes) -> None:
        """Note the commands in one read of the client's bytes (message content aside)."""
        verbs = tuple(
            verb
            for line in data.split(b"\r\n")
            if (verb := line.split(b" ", 1)[0].split(b":", 1)[0].decode("ascii", "replace").upper()) in _VERBS
        )
        if verbs:
            self.arrivals.append(verbs)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.dsn:
            responses.insert(-1, "250-DSN")
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_mail is not None:
            return _closing(server, self.refuse_mail)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_once:
            return _closing(server, self.refuse_once.pop(address))
        if address in self.refuse:
            return _closing(server, self.refuse[address])
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    def _session_number(self, session: Session) -> int:
        numbers = self.__dict__.setdefault("_sessions", {})
        return int(numbers.setdefault(id(session), len(numbers) + 1))

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                mail_options=tuple(envelope.mail_options),
                rcpt_tos=tuple(envelope.rcpt_tos),
                rcpt_options=tuple(envelope.rcpt_options),
                message=message,
                session=self._session_number(session),
            )
        )
        self.arrived.set()
        return "250 OK queued"


def _closing(server: SMTP, reply: str) -> str:
    """The reply; after a 421 the connection is closed once it is written."""
    if reply.startswith("421") and server.transport is not None:
        asyncio.get_running_loop().call_soon(server.transport.close)
    return reply


class _DsnSMTP(SMTP):
    """aiosmtpd refuses MAIL/RCPT parameters it does not know; this one takes the DSN ones (RFC 3461).

    It also tells a ``RecordingHandler`` what each read from the client held.
    """

    def data_received(self, data: bytes) -> None:
        if isinstance(self.event_handler, RecordingHandler):
            self.event_handler.read(data)
        super().data_received(data)

    def _getparams(self, params: Any) -> Any:
        result = super()._getparams(params)
        if result is not None:
            for name in DSN_PARAMETERS:
                result.pop(name, None)
        return result


@dataclass
class SmtpServer:
    """A running server: where it listens and what it received."""

    host: str
    port: int
    handler: RecordingHandler
    logins: list[str] = field(default_factory=list)  # users who authenticated

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


@asynccontextmanager
async def smtp_server(
    handler: RecordingHandler | None = None,
    *,
    tls: str | None = None,
    certificate: tuple[str, str] | None = None,
    login: tuple[str, str] | None = None,
) -> AsyncIterator[SmtpServer]:
    """Serve SMTP on 127.0.0.1 (a free port) in this event loop until the block ends.

    ``tls`` "starttls" offers and requires STARTTLS, "tls" speaks TLS from the first byte
    (both with ``certificate``, a (cert, key) pair); ``login`` requires AUTH with that user
    and password, only over TLS.
    """
    the_handler = handler or RecordingHandler()
    loop = asyncio.get_running_loop()
    context = None
    if tls is not None:
        assert certificate is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
    logins: list[str] = []

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and login is not None
            and (data.login.decode(), data.password.decode()) == login
        )
        if ok:
            logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    def protocol() -> SMTP:
        with warnings.catch_warnings():
            # aiosmtpd warns of AUTH without STARTTLS; under implicit TLS the whole session is TLS.
            warnings.simplefilter("ignore", UserWarning)
            return _make()

    def _make() -> SMTP:
        return _DsnSMTP(
            the_handler,
            hostname="mx.test",
            decode_data=False,
            loop=loop,
            tls_context=context if tls == "starttls" else None,
            require_starttls=tls == "starttls",
            authenticator=authenticate if login is not None else None,
            auth_required=login is not None,
            auth_require_tls=tls != "tls",  # implicit TLS is TLS, though aiosmtpd cannot tell
        )

    server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=context if tls == "tls" else None)
    port = server.sockets[0].getsockname()[1]
    try:
        yield SmtpServer("127.0.0.1", port, the_handler, logins)
    finally:
        server.close()
        await server.wait_closed()
