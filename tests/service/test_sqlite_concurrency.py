"""SQLite under concurrent writers: acknowledgements, commands and the engine at once, no lock errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app.bootstrap import open_storage, wire
from bot.app.settings import load_settings
from bot.domain.commands import Acknowledge, parse_release_command
from bot.domain.destinations import Platform
from bot.domain.receipt import ReceiptSource
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from tests.fakes import FakeDirectory, FakeMessenger


async def test_concurrent_writers_on_sqlite_get_answers_not_lock_errors(tmp_path: Path) -> None:
    """Sixty people acknowledging while two engines send: every reply is an answer, every receipt kept."""
    people = ", ".join(f'"shell:@u{i}"' for i in range(60))
    plan = parse_plan(
        f'product = "P"\n[access]\nannouncers = ["shell:a"]\n[[group]]\nid = "all-hands"\nto = [{people}]\n'
        'message = "P {{ version }} is live"\n'
    )
    storage = await open_storage(
        load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/h.db"}, env_file=None), migrate=True
    )
    messenger = FakeMessenger()
    links = {Platform.SHELL: PlatformLink(FakeDirectory(), messenger)}
    first = wire(plan=plan, storage=storage, links=links)
    second = wire(plan=plan, storage=storage, links=links)
    try:
        for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
            assert not (await first.desk.handle(parse_release_command(line, "shell:a"))).failed
        await first.engine.run_once()  # the first batch goes out; the rest is sent while people acknowledge
        async with storage.uow() as uow:
            sent = [d for d in await uow.deliveries.for_release("2.4") if d.message_ref]
        acks = [
            first.desk.handle(
                Acknowledge(
                    actor=f"shell:u{d.target.split('@')[1][1:]}",
                    message_ref=d.message_ref or "",
                    source=ReceiptSource.BUTTON,
                )
            )
            for d in sent
        ]
        replies = await asyncio.gather(
            *acks, first.engine.run_until_idle(), second.engine.run_until_idle(), first.desk.status("2.4")
        )
        failures = [r for r in replies[: len(acks)] if r.failed]
        assert failures == []
        status = await first.desk.status("2.4")
        assert (status.groups[0].sent, status.groups[0].acknowledged) == (60, len(sent))
        assert len(messenger.sent) == 60
    finally:
        await storage.close()
