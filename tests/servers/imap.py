"""An IMAP server on 127.0.0.1 that speaks just enough for Herald's report mailbox, and keeps every line it reads.

It serves TLS from the first byte (``imaps``), offers STARTTLS (``starttls``), or neither
(``plain``), with the certificate it is given. It records each command line as it read
it, after TLS: a client that refuses the certificate leaves no ``LOGIN`` here, and no
password. The mailbox is always empty; Herald's report tests that read real mail run
against Dovecot (``tests/adapters/email/test_mail_reports.py``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

Mode = Literal["imaps", "starttls", "plain"]
USER = "bounces"
PASSWORD = "imap-s3cret-never-in-the-clear"


@dataclass
class ImapServer:
    """A running server: where it listens, and what reached it."""

    mode: Mode
    context: ssl.SSLContext | None
    port: int = 0
    lines: list[str] = field(default_factory=list)  # every command line read, in order
    logins: list[str] = field(default_factory=list)  # users who logged in with the right password
    _sessions: set[asyncio.Task[None]] = field(default_factory=set)

    def url(self, mailbox: str = "INBOX") -> str:
        scheme = "imaps" if self.mode == "imaps" else "imap"
        return f"{scheme}://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}/{mailbox}"

    def heard(self, text: str) -> bool:
        """Whether any line that reached the server contained ``text``."""
        return any(text in line for line in self.lines)

    def commands(self) -> list[str]:
        """The command of each line, upper case: ``["CAPABILITY", "STARTTLS", …]``."""
        return [line.partition(" ")[2].partition(" ")[0].upper() for line in self.lines]

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await self._converse(reader, writer)
        except (OSError, asyncio.IncompleteReadError):  # the client hung up, or refused the certificate
            pass
        finally:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()
            self._sessions.discard(task)

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        secure = self.mode == "imaps"

        async def say(*lines: str) -> None:
            writer.write("".join(f"{line}\r\n" for line in lines).encode())
            await writer.drain()

        await say("* OK Herald's test IMAP server is ready")
        while line := await reader.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            self.lines.append(text)
            tag, _, rest = text.partition(" ")
            verb, _, arguments = rest.partition(" ")
            verb = verb.upper()
            if verb == "CAPABILITY":
                offers = " STARTTLS" if self.mode == "starttls" and not secure else ""
                await say(f"* CAPABILITY IMAP4rev1 AUTH=PLAIN{offers}", f"{tag} OK CAPABILITY completed")
            elif verb == "STARTTLS" and self.mode == "starttls" and not secure:
                await say(f"{tag} OK Begin TLS negotiation now")
                assert self.context is not None
                await writer.start_tls(self.context)
                secure = True
            elif verb == "LOGIN":
                user, password = _login(arguments)
                if (user, password) == (USER, PASSWORD):
                    self.logins.append(user)
                    await say(f"{tag} OK LOGIN completed")
                else:
                    await say(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed")
            elif verb == "SELECT":
                await say("* 0 EXISTS", "* OK [UIDVALIDITY 1] UIDs valid", f"{tag} OK [READ-WRITE] SELECT completed")
            elif verb == "UID":
                await say("* SEARCH", f"{tag} OK UID completed")
            elif verb == "LOGOUT":
                await say("* BYE logging out", f"{tag} OK LOGOUT completed")
                return
            else:
                await say(f"{tag} BAD not served here")


def _login(arguments: str) -> tuple[str, str]:
    """``user "pass\\"word"`` as imaplib sends it: the user an atom, the password quoted."""
    user, _, password = arguments.partition(" ")
    if password.startswith('"') and password.endswith('"'):
        password = password[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return user, password


@asynccontextmanager
async def imap_server(mode: Mode, context: ssl.SSLContext | None = None) -> AsyncIterator[ImapServer]:
    """Serve IMAP on a free port of 127.0.0.1 in this event loop until the block ends."""
    server = ImapServer(mode, context)
    listening = await asyncio.start_server(server.session, "127.0.0.1", 0, ssl=context if mode == "imaps" else None)
    server.port = int(listening.sockets[0].getsockname()[1])
    try:
        yield server
    finally:
        listening.close()
        sessions = list(server._sessions)
        for task in sessions:
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        await listening.wait_closed()
