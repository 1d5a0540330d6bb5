"""The desk is split in parts (review, sending, reading); every command still reaches one of them."""

from __future__ import annotations

import inspect

from bot.domain import commands
from bot.service.desk import ReleaseDesk


def test_every_command_has_a_handler_on_the_desk() -> None:
    """A new command without a handler, or a handler renamed in one part, fails here, not in a user's chat."""
    kinds = {
        cls
        for _, cls in inspect.getmembers(commands, inspect.isclass)
        if issubclass(cls, commands.Command) and cls is not commands.Command
    }
    assert set(ReleaseDesk._HANDLERS) == kinds
    missing = [
        name
        for name in ReleaseDesk._HANDLERS.values()
        if not inspect.iscoroutinefunction(getattr(ReleaseDesk, name, None))
    ]
    assert missing == []
