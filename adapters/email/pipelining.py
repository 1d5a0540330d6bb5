"""One mail transaction in two round trips, for a server that offers PIPELINING (RFC 2920).

On a reused session a message costs four round trips one command at a time: MAIL, RCPT,
DATA, then the content. RFC 2920 lets a client send MAIL, RCPT and DATA together and read
the three replies in order, then send the content once DATA is answered 354: two round
trips. aiosmtplib (5.1) has no such call, and its protocol cannot carry one: it expects
one reply per command, parses one reply per arrival of bytes and drops whatever arrives
while no command waits, so replies that come together would be lost or paired with the
wrong command. For the transaction's length the connection's bytes go to ``_Replies``
instead, which keeps every reply in order; then they go back to aiosmtplib's protocol.

Each reply is judged on its own, as RFC 2920 section 3.1 asks: a refused MAIL or RCPT is
this message's refusal (the DATA behind it is answered 503 or, by a lax server, 354, and
then given an empty body); the transaction is then reset, and a session whose RSET is
accepted serves the next message (``MessageRefused``). A 421 anywhere is the server
closing the session, which is closed here too; so is one that lost the connection, timed
out, or sent a reply nobody asked for.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Sequence
from email.message import EmailMessage

import aiosmtplib
from aiosmtplib.email import flatten_message, quote_address
from aiosmtplib.protocol import SMTPProtocol

from adapters.email.sessions import MessageRefused

_CLOSING = 421
_START_INPUT = 354
_ACCEPTED = (250, 251)  # 251: "user not local; will forward"
_MAX_LINE = 8192  # aiosmtplib's limits on a reply line and a whole reply
_MAX_REPLY = _MAX_LINE * 4
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")  # no argument may end a command line early (aiosmtplib's rule)
_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"(?m)^\.")


class _Replies(asyncio.Protocol):
    """Stands in for aiosmtplib's protocol on the connection: every reply kept, in the order it came.

    Flow control and the loss of the connection are passed on to aiosmtplib's protocol,
    so that the client knows when it has been disconnected.
    """

    def __init__(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol
        self._buffer = bytearray()
        self._replies: deque[aiosmtplib.SMTPResponse] = deque()
        self._failure: aiosmtplib.SMTPException | None = None
        self._arrived = asyncio.Event()

    @property
    def idle(self) -> bool:
        """Nothing came that was not read: the session is still in step."""
        return not self._buffer and not self._replies and self._failure is None

    def data_received(self, data: bytes) -> None:
        self._buffer.extend(data)
        try:
            while (reply := self._parsed()) is not None:
                self._replies.append(reply)
        except aiosmtplib.SMTPResponseException as error:
            self._fail(error)
        self._arrived.set()

    def eof_received(self) -> bool:
        self._fail(aiosmtplib.SMTPServerDisconnected("the server closed the connection"))
        return False  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(aiosmtplib.SMTPServerDisconnected("Connection lost"))
        self._protocol.connection_lost(exc)

    def pause_writing(self) -> None:
        self._protocol.pause_writing()

    def resume_writing(self) -> None:
        self._protocol.resume_writing()

    def _fail(self, error: aiosmtplib.SMTPException) -> None:
        if self._failure is None:
            self._failure = error
        self._arrived.set()

    def _parsed(self) -> aiosmtplib.SMTPResponse | None:
        """The first whole reply in the buffer, taken out of it; None while it is incomplete."""
        lines: list[str] = []
        offset = 0
        while (end := self._buffer.find(b"\n", offset)) != -1:
            line = bytes(self._buffer[offset : end + 1])
            if len(line) > _MAX_LINE or not line[:3].isdigit():
                raise aiosmtplib.SMTPResponseException(-1, f"malformed SMTP reply line: {line[:80]!r}")
            offset = end + 1
            lines.append(line[4:].strip(b" \t\r\n").decode("utf-8", "surrogateescape"))
            if line[3:4] != b"-":
                del self._buffer[:offset]
                return aiosmtplib.SMTPResponse(int(line[:3]), "\n".join(lines))
        if len(self._buffer) > _MAX_REPLY:
            raise aiosmtplib.SMTPResponseException(-1, "SMTP reply too long")
        return None

    async def next(self, within: float | None) -> aiosmtplib.SMTPResponse:
        """The next reply, in the order the commands went, if it comes ``within`` seconds."""
        while not self._replies:
            if self._failure is not None:
                raise self._failure
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), within)
            except TimeoutError:
                raise aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response") from None
        return self._replies.popleft()


def _command(*args: bytes) -> bytes:
    if any(_CONTROL.search(arg) for arg in args):
        raise ValueError("an SMTP command argument holds a control character")
    return b" ".join(args) + b"\r\n"


def _normalised(message: bytes) -> bytes:
    """CRLF line endings, ending with one."""
    message = _LINE_ENDINGS.sub(b"\r\n", message)
    return message if message.endswith(b"\r\n") else message + b"\r\n"


def _content(message: bytes) -> bytes:
    """The message as DATA carries it: CRLF line endings, leading dots doubled, the final dot."""
    return _LEADING_DOT.sub(b"..", _normalised(message)) + b".\r\n"


def _envelope(
    client: aiosmtplib.SMTP, message: EmailMessage, *, sender: str, recipient: str, mail_options: Sequence[str]
) -> tuple[bytes, list[str], str]:
    """The message's bytes, MAIL's options and the address encoding, chosen as aiosmtplib's ``send_message`` does.

    SMTPUTF8 where an address needs it (refused by a server that does not offer it),
    8BITMIME where offered, and SIZE where offered.

    Raises:
        aiosmtplib.SMTPNotSupported: an address is not ASCII and the server does not offer SMTPUTF8.
    """
    options = list(mail_options)
    utf8 = not (sender + recipient).isascii()
    if utf8:
        if not client.supports_extension("smtputf8"):
            raise aiosmtplib.SMTPNotSupported(
                "An address containing non-ASCII characters was provided, but SMTPUTF8 is not supported by this server"
            )
        options.append("SMTPUTF8")
    eight_bit = client.supports_extension("8bitmime")
    if eight_bit:
        options.append("BODY=8BITMIME")
    flat = flatten_message(message, utf8=utf8, cte_type="8bit" if eight_bit else "7bit")
    if client.supports_extension("size"):  # RFC 1870: the octets DATA will carry, CRLFs included
        options.insert(0, f"SIZE={len(_normalised(flat))}")
    return flat, options, "utf-8" if utf8 else "ascii"


async def send_pipelined(
    client: aiosmtplib.SMTP,
    message: EmailMessage,
    *,
    sender: str,
    recipient: str,
    mail_options: Sequence[str] = (),
    rcpt_options: Sequence[str] = (),
    reply_within: float | None = None,
) -> None:
    """Send ``message`` to ``recipient`` on a session whose server offers PIPELINING, in two round trips.

    Each reply must come ``reply_within`` seconds after the one before (aiosmtplib's ``timeout``).

    Raises:
        MessageRefused: the server refused this message (MAIL, RCPT or the content) and took
            the RSET after it: the session serves the next message.
        aiosmtplib.SMTPResponseException: a refusal after which the session is closed
            (a 421, or an RSET that was not accepted).
        aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError: the session broke; it is closed.
        ValueError: an address or option that cannot be put on a command line (nothing was sent).
    """
    content, options, encoding = _envelope(
        client, message, sender=sender, recipient=recipient, mail_options=mail_options
    )
    mail_from = b"FROM:" + quote_address(sender).encode(encoding)
    rcpt_to = b"TO:" + quote_address(recipient).encode(encoding)
    commands = (
        _command(b"MAIL", mail_from, *(option.encode("ascii") for option in options))
        + _command(b"RCPT", rcpt_to, *(option.encode("ascii") for option in rcpt_options))
        + b"DATA\r\n"
    )
    protocol, transport = client.protocol, client.transport
    if protocol is None or transport is None or transport.is_closing():
        raise aiosmtplib.SMTPServerDisconnected("Server not connected")
    replies = _Replies(protocol)
    transport.set_protocol(replies)
    in_step = False
    try:
        protocol.write(commands)
        await _transaction(protocol, replies, content, sender=sender, recipient=recipient, within=reply_within)
        in_step = True
    except MessageRefused:
        in_step = True
        raise
    finally:
        if not transport.is_closing():
            transport.set_protocol(protocol)
        if not (in_step and replies.idle):  # out of step with the server: never reuse it
            client.close()


async def _transaction(
    protocol: SMTPProtocol,
    replies: _Replies,
    content: bytes,
    *,
    sender: str,
    recipient: str,
    within: float | None,
) -> None:
    """Read the replies to MAIL, RCPT and DATA, send the content if all three said yes, and judge the outcome."""

    async def reply() -> aiosmtplib.SMTPResponse:
        answer = await replies.next(within)
        if answer.code == _CLOSING:  # the server is closing the session: nothing more will come
            raise aiosmtplib.SMTPResponseException(answer.code, answer.message)
        return answer

    mail, rcpt, data = await reply(), await reply(), await reply()
    refusal: aiosmtplib.SMTPResponseException | None = None
    if mail.code not in _ACCEPTED:
        refusal = aiosmtplib.SMTPSenderRefused(mail.code, mail.message, sender)
    elif rcpt.code not in _ACCEPTED:
        refusal = aiosmtplib.SMTPRecipientRefused(rcpt.code, rcpt.message, recipient)
    if data.code == _START_INPUT:
        # After a refused envelope a lax server may still ask for the content: it gets none.
        protocol.write(_content(content) if refusal is None else b".\r\n")
        done = await reply()
        if refusal is None and done.code in _ACCEPTED:
            return
        refusal = refusal or aiosmtplib.SMTPDataError(done.code, done.message)
    elif refusal is None:
        refusal = aiosmtplib.SMTPDataError(data.code, data.message)
    protocol.write(b"RSET\r\n")
    if (await reply()).code not in _ACCEPTED:
        raise refusal
    raise MessageRefused(refusal)
