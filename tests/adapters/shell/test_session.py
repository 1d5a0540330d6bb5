"""The shell workspace, driven line by line as a person would type."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from adapters.shell.session import ShellSession
from adapters.shell.world import ShellWorld
from bot.app.bootstrap import memory_storage, shell_links, wire
from bot.service.clock import FixedClock
from bot.service.planfile import load_plan
from storage.memory import MemoryStore

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


class Terminal:
    """A shell session over the example plan, with its output captured."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.store = MemoryStore()
        world = ShellWorld.load(EXAMPLES / "shell-workspace.toml")
        boxed: list[ShellSession] = []
        links = shell_links(world, lambda posted: boxed[0].show_delivery(posted))

        storage = memory_storage(self.store)
        herald = wire(plan=load_plan(EXAMPLES / "release-comms.toml"), storage=storage, links=links, clock=FixedClock())
        self.session = ShellSession(herald=herald, world=world, out=self.out, echo=True)
        boxed.append(self.session)

    async def type(self, *lines: str) -> str:
        """Type lines; return what the terminal printed for them."""
        start = self.out.tell()
        pending = list(lines)
        await self.session.run(lambda: pending.pop(0) + "\n" if pending else "")
        self.out.seek(start)
        return self.out.read()


@pytest.fixture
def terminal() -> Terminal:
    return Terminal()


async def test_help_lists_what_can_be_typed(terminal: Terminal) -> None:
    """/help names the release commands and the shell's own commands."""
    output = await terminal.type("/help")
    for command in ("/release", "/as NAME", "/ack MESSAGE", "/react MESSAGE", "/inbox", "/quit"):
        assert command in output


async def test_an_unknown_command_gets_a_sentence_not_a_traceback(terminal: Terminal) -> None:
    """Typing nonsense prints one sentence pointing at /help."""
    output = await terminal.type("/frobnicate now", "/release annonce 2.4", "/release announce two")
    assert "“/frobnicate” is not something I understand. Type /help" in output
    assert "“annonce” is not a /release command" in output
    assert "“two” is not a release version" in output
    assert "Traceback" not in output


async def test_deliveries_land_in_local_channels_and_dms(terminal: Terminal) -> None:
    """After the final approval, the local channel and DM show the communiqués."""
    output = await terminal.type(
        "/release announce 2.4",
        "/release confirm 2.4",
        "/release approve 2.4 all",
        "/release send 2.4",
        "/as lead",
        "/release approve 2.4",
    )
    assert "📨 #engineering · Engineering" in output
    assert "📨 @sam · Customer Support" in output
    assert "📨 slack:#eng-announce (simulated) · Engineering" in output
    assert output.index("📨 #engineering") < output.index("📨 @sam")


async def test_a_multi_line_edit_ends_at_a_single_dot(terminal: Terminal) -> None:
    """An edit typed over several lines keeps its line breaks."""
    await terminal.type(
        "/release announce 2.4",
        "/release edit 2.4 engineering",
        "Acme Cloud 2.4 is live.",
        "Notes: https://example.com/releases/2.4",
        ".",
    )
    text = terminal.store.releases["2.4"].communiques["engineering"].text
    assert text == "Acme Cloud 2.4 is live.\nNotes: https://example.com/releases/2.4"


async def test_acknowledging_by_reaction_and_button_counts_each_person_once(terminal: Terminal) -> None:
    """sam's click and double click count once; alex's reaction counts for engineering."""
    await terminal.type(
        "/release announce 2.4",
        "/release confirm 2.4",
        "/release approve 2.4 all",
        "/release send 2.4",
        "/as lead",
        "/release approve 2.4",
    )
    output = await terminal.type(
        "/as sam", "/ack 2.4 support", "/ack 2.4 support", "/as alex", "/react 2.4 engineering :tada:"
    )
    assert "acknowledgement recorded (Customer Support: 1 of 5 acknowledged)" in output
    assert "already recorded" in output
    assert "acknowledgement recorded (Engineering: 1 of 4 acknowledged)" in output
    assert sorted(terminal.store.receipts) == [("2.4", "engineering", "shell:alex"), ("2.4", "support", "shell:sam")]


async def test_nothing_delivered_means_nothing_to_acknowledge(terminal: Terminal) -> None:
    """Acknowledging before anything was sent says so."""
    output = await terminal.type("/as sam", "/ack 2.4 support")
    assert "No support message of release 2.4 was delivered to you." in output
