"""`herald export`: the evidence pack of the scripted demo, read back from its SQLite ledger."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PLAN = EXAMPLES / "release-comms.toml"


def _herald(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` with the example plan and the SQLite ledger in ``cwd``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DATABASE_URL", "SLACK_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, "HERALD_PLAN": str(PLAN), "DATABASE_URL": f"sqlite:///{cwd / 'herald.db'}"},
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose herald.db holds release 2.4 after `herald run < examples/shell-demo.txt`."""
    folder = tmp_path_factory.mktemp("demo")
    run = _herald("run", cwd=folder, stdin=(EXAMPLES / "shell-demo.txt").read_text())
    assert run.returncode == 0, run.stderr
    return folder


def _exported(demo: Path, fmt: str) -> str:
    result = _herald("export", "2.4", "--format", fmt, cwd=demo)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_json_pack_is_one_object_whose_counts_are_those_of_status(demo: Path) -> None:
    """`herald export 2.4 --format json` prints one object; its status equals `herald status 2.4 --json`."""
    status = _herald("status", "2.4", "--json", cwd=demo)
    assert status.returncode == 0, status.stderr

    pack = json.loads(_exported(demo, "json"))

    assert pack["status"] == json.loads(status.stdout)
    assert pack["plan"]["as_announced"] is True
    assert [(r["actor"], r["action"]) for r in pack["refusals"]] == [("shell:deployer", "approve_release")]
    assert len(pack["receipts"]) == 5


def test_the_csv_has_one_row_per_delivery_in_the_ledger(demo: Path) -> None:
    """The CSV parses with DictReader into exactly one row per delivery the database holds."""
    with sqlite3.connect(demo / "herald.db") as db:
        keys = [key for (key,) in db.execute("SELECT key FROM deliveries WHERE version = '2.4' ORDER BY id")]

    rows = list(csv.DictReader(io.StringIO(_exported(demo, "csv"), newline="")))

    assert [row["key"] for row in rows] == keys
    assert len(keys) == 9
    assert {row["status"] for row in rows} == {"sent"}


def test_the_markdown_names_every_group_the_plan_hash_and_the_audit_head(demo: Path) -> None:
    """The report names each group, the SHA-256 of the plan file as announced, and the audit chain's head."""
    report = _exported(demo, "md")
    head = json.loads(_exported(demo, "json"))["audit_head"]

    assert "Engineering" in report
    assert "Customer Support" in report
    assert f"`{hashlib.sha256(PLAN.read_bytes()).hexdigest()}` (as announced)" in report
    assert head
    assert f"`{head}`" in report


def test_with_out_the_pack_is_written_into_the_folder(demo: Path) -> None:
    """`--out DIR` writes herald-<product>-<version>.<format> there and says where; `all` writes the three."""
    one = _herald("export", "2.4", "--format", "csv", "--out", "packs", cwd=demo)
    every = _herald("export", "2.4", "--format", "all", "--out", "all", cwd=demo)

    assert one.returncode == every.returncode == 0, one.stderr + every.stderr
    assert one.stdout == "Wrote packs/herald-acme-cloud-2.4.csv\n"
    assert sorted(p.name for p in (demo / "all").iterdir()) == [
        "herald-acme-cloud-2.4.csv",
        "herald-acme-cloud-2.4.json",
        "herald-acme-cloud-2.4.md",
    ]
    written = (demo / "packs" / "herald-acme-cloud-2.4.csv").read_text(encoding="utf-8-sig")
    assert written == _exported(demo, "csv")


def test_an_unknown_release_is_one_sentence_and_exit_1(demo: Path) -> None:
    """Exporting a release never announced says so in a sentence, without a traceback."""
    result = _herald("export", "9.9", "--format", "json", cwd=demo)
    assert result.returncode == 1
    assert result.stderr == "herald: Release 9.9 has not been announced, so there is no evidence to export.\n"
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["--format", "xls"], ["--format", "all"]])
def test_a_bad_format_is_a_usage_error(args: list[str], tmp_path: Path) -> None:
    """An unknown format, or all without a folder, is refused by the argument parser (exit 2)."""
    result = _herald("export", "2.4", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: herald" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_has_help_that_says_people_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    """`herald export --help` lists the formats and says the pack names people, as status does."""
    with pytest.raises(SystemExit) as exited:
        main(["export", "--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "{md,csv,json,all}" in out
    assert "People are named" in out
