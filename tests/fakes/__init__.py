"""Fakes shared by the tests: a directory and a messenger that record what happens, and a slow desk."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bot.domain.destinations import Destination, Kind
from bot.domain.errors import DeliveryError
from bot.service.ports import OutgoingMessage, Resolution, ResolvedTarget


@dataclass
class FakeDirectory:
    """Channels with known members, groups with known members, everything else as written."""

    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    calls: int = 0

    async def resolve(self, destination: Destination) -> Resolution:
        self.calls += 1
        text = str(destination)
        if text in self.unreachable:
            return Resolution(destination, (), problem=self.unreachable[text])
        if destination.kind is Kind.GROUP:
            people = self.members.get(text, ())
            targets = tuple(
                ResolvedTarget(f"{destination.platform.value}:@{p.split(':', 1)[1]}", Kind.DM, (p,)) for p in people
            )
            return Resolution(destination, targets)
        if destination.kind is Kind.CHANNEL:
            return Resolution(destination, (ResolvedTarget(text, Kind.CHANNEL, self.members.get(text, ())),))
        person = destination.person
        return Resolution(destination, (ResolvedTarget(text, destination.kind, (person,) if person else ()),))


@dataclass
class FakeMessenger:
    """Records every message; raises the error set for a target."""

    sent: list[OutgoingMessage] = field(default_factory=list)
    errors: dict[str, Exception] = field(default_factory=dict)  # always raised for that target
    script: dict[str, list[Exception]] = field(default_factory=dict)  # raised once each, in order
    calls: list[str] = field(default_factory=list)  # every attempt, successful or not

    async def send(self, message: OutgoingMessage) -> str:
        self.calls.append(message.target)
        error = self.errors.get(message.target)
        if error is not None:
            raise error
        queued = self.script.get(message.target)
        if queued:
            raise queued.pop(0)
        self.sent.append(message)
        return f"ref-{len(self.sent)}"

    def targets(self) -> list[str]:
        """Where messages went, in order."""
        return [m.target for m in self.sent]


def permanent(message: str) -> DeliveryError:
    """A permanent delivery error, as an adapter would raise it."""
    from bot.domain.errors import PermanentDeliveryError

    return PermanentDeliveryError(message)


class VirtualTime:
    """A clock and a timer in one: sleeping moves time forward at once."""

    def __init__(self, clock: object) -> None:
        from bot.service.clock import FixedClock

        assert isinstance(clock, FixedClock)
        self.clock = clock
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        import asyncio
        from datetime import timedelta

        seconds = max(seconds, 1e-6)  # the clock counts microseconds: never stand still
        self.slept += seconds
        self.clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)


class HeldDesk:
    """The real desk, whose commands wait until ``release()``: a ledger that is slow to answer."""

    def __init__(self, desk: Any) -> None:
        self._desk = desk
        self._open = asyncio.Event()
        self.waiting = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._desk, name)

    async def handle(self, command: Any) -> Any:
        self.waiting += 1
        await self._open.wait()
        return await self._desk.handle(command)

    def release(self) -> None:
        self._open.set()
