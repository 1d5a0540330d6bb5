"""Logged-in SMTP sessions to one server, reused: at most a few at once, each for a while.

A new session costs a TCP connection, STARTTLS's handshake, two EHLOs and a login, six
round trips or more before the first message; relays also cap how many connections a
client may hold (Office 365: 3 for SMTP AUTH) and how many it may open a minute. So a
session goes back to the pool after a message and serves the next, up to
``per_session`` messages and ``idle`` seconds unused. Before a message on a session that
has been idle, a NOOP checks the server still holds it (it may have timed it out); a
session that fails in any way is dropped, never reused, except one whose server refused a
message and then accepted RSET (``MessageRefused``): it is in step, and a relay that
greylists or refuses one recipient in a thousand should not cost a thousandth of the
campaign a new connection, TLS handshake and login.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import aiosmtplib


class MessageRefused(aiosmtplib.SMTPResponseException):
    """The server refused one message (``refusal``, its reply) and has reset the transaction: the session is usable."""

    def __init__(self, refusal: aiosmtplib.SMTPResponseException) -> None:
        super().__init__(refusal.code, refusal.message)
        self.refusal = refusal


@dataclass(slots=True)
class _Session:
    client: aiosmtplib.SMTP
    sent: int = 0
    idle_since: float = 0.0


class SmtpSessions:
    """A pool of sessions made by ``connect`` (connected and logged in)."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[aiosmtplib.SMTP]],
        *,
        connections: int = 3,
        per_session: int = 50,
        idle: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._slots = asyncio.Semaphore(connections)
        self._per_session = per_session
        self._idle = idle
        self._clock = clock
        self._free: list[_Session] = []
        self.opened = 0  # sessions opened so far, for tests and benchmarks

    @asynccontextmanager
    async def session(self) -> AsyncIterator[aiosmtplib.SMTP]:
        """A ready session for one message; back to the pool after it, unless the block raised (but MessageRefused)."""
        async with self._slots:
            session = await self._take()
            try:
                yield session.client
            except MessageRefused:
                await self._put_back(session)
                raise
            except BaseException:
                await _close(session.client)
                raise
            await self._put_back(session)

    async def _put_back(self, session: _Session) -> None:
        """A session after a message: into the pool, or QUIT once it has carried its share."""
        session.sent += 1
        if session.sent >= self._per_session or not session.client.is_connected:
            await _quit(session.client)
        else:
            session.idle_since = self._clock()
            self._free.append(session)

    async def _take(self) -> _Session:
        while self._free:
            session = self._free.pop()
            idle = self._clock() - session.idle_since
            if idle > self._idle or not session.client.is_connected:
                await _quit(session.client)
                continue
            if idle > 1.0:  # a session just used is surely still there; a resting one may not be
                try:
                    await session.client.noop()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    await _close(session.client)
                    continue
            return session
        client = await self._connect()
        self.opened += 1
        return _Session(client)

    async def close(self) -> None:
        """Say QUIT on every idle session."""
        free, self._free = self._free, []
        for session in free:
            await _quit(session.client)


async def _quit(client: aiosmtplib.SMTP) -> None:
    with suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
        await client.quit()
    await _close(client)


async def _close(client: aiosmtplib.SMTP) -> None:
    with suppress(Exception):
        client.close()
