"""The desk's view of the audit chain: what `herald audit verify` and the evidence pack ask for."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.audit import GENESIS, Flaw
from bot.domain.errors import AuditChainBroken
from tests.service.conftest import World


async def test_every_step_and_refusal_of_a_release_is_chained(world: World) -> None:
    """Commands, including a refused one, leave a chain that verifies; its head is the last entry's hash."""
    await world.ready_to_send()
    await world.say("send 2.4", actor="shell:mallory")

    report = await world.herald.desk.audit_chain("2.4")

    entries = await world.herald.desk.audit_log("2.4")
    assert (report.intact, report.entries, report.head) == (True, len(entries), entries[-1].hash)
    assert await world.herald.desk.audit_head("2.4") == report.head


async def test_a_release_with_nothing_recorded_has_the_genesis_head(world: World) -> None:
    """No entries: an intact, empty chain whose head is the genesis value."""
    report = await world.herald.desk.audit_chain("9.9")

    assert (report.intact, report.entries, report.head) == (True, 0, GENESIS)
    assert await world.herald.desk.audit_head("9.9") == GENESIS


async def test_the_head_of_a_broken_chain_is_never_given(world: World) -> None:
    """audit_head refuses a chain that does not verify, naming where it breaks."""
    await world.ready_to_send()
    world.store.audit[1] = replace(world.store.audit[1], actor="shell:lead")

    report = await world.herald.desk.audit_chain("2.4")

    assert report.broken is not None
    assert (report.broken.position, report.broken.flaw) == (2, Flaw.ALTERED)
    with pytest.raises(AuditChainBroken, match=r"broken at entry 2 of \d+ \(.*, shell:lead, confirm_release, done\)"):
        await world.herald.desk.audit_head("2.4")
