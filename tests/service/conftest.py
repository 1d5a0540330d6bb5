"""A small plan, in-memory storage and fake platforms, wired as the app wires them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app.bootstrap import Herald, memory_storage, wire
from bot.domain.commands import Command, parse_release_command
from bot.domain.destinations import Platform
from bot.service.clock import FixedClock
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from bot.service.views import Notice, Reply
from storage.memory import MemoryStore
from tests.fakes import FakeDirectory, FakeMessenger

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer", "shell:dana"]
approvers = ["shell:lead"]

[[group]]
id = "engineering"
name = "Engineering"
to = ["shell:#engineering", "shell:@kim"]
ack = "optional"
message = "Acme Cloud {{ version }} is live. Notes: https://example.com/releases/{{ version }}"

[[group]]
id = "support"
name = "Customer Support"
to = ["shell:@sam", "slack:usergroup:S0SUPPORT", "shell:#support"]
after = ["engineering"]
message = "Support: Acme Cloud {{ version }} is live."
"""


@dataclass
class World:
    """Everything a service test touches."""

    herald: Herald
    store: MemoryStore
    messenger: FakeMessenger
    directory: FakeDirectory
    clock: FixedClock

    async def say(self, text: str, actor: str = "shell:deployer") -> Reply:
        """Type a /release command as ``actor``."""
        return await self.herald.desk.handle(parse_release_command(text, actor))

    async def do(self, command: Command) -> Reply:
        """Hand a command to the desk."""
        return await self.herald.desk.handle(command)

    async def ready_to_send(self, version: str = "2.4") -> None:
        """Announce, confirm and approve every communiqué."""
        for line in (f"announce {version}", f"confirm {version}", f"approve {version} all"):
            reply = await self.say(line)
            assert not reply.failed, notices(reply)


def notices(reply: Reply) -> list[str]:
    """The sentences of a reply."""
    return [v.text for v in reply.views if isinstance(v, Notice)]


def make_world(
    plan_text: str = PLAN,
    *,
    tmp: Path | None = None,
    configured: tuple[Platform, ...] = (Platform.SHELL, Platform.SLACK),
) -> World:
    """Wire a Herald over memory storage and fakes."""
    plan = parse_plan(plan_text, base_dir=tmp)
    store = MemoryStore()
    messenger = FakeMessenger()
    directory = FakeDirectory(
        members={
            "shell:#engineering": ("shell:alex", "shell:kim"),
            "shell:#support": ("shell:sam", "shell:jo"),
            "slack:usergroup:S0SUPPORT": ("slack:U1", "slack:U2"),
        }
    )
    links = {p: PlatformLink(directory, messenger) for p in configured}
    clock = FixedClock()

    storage = memory_storage(store)
    return World(wire(plan=plan, storage=storage, links=links, clock=clock), store, messenger, directory, clock)


@pytest.fixture
def world() -> World:
    return make_world()
