"""`herald audit verify`, run as a user runs it: intact after the demo, and naming the row someone edited."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.domain.audit import AuditEntry, Outcome, entry_hash
from tests.test_cli import EXAMPLES, _herald

PLAN = str(EXAMPLES / "release-comms.toml")
INTACT = "Audit log of 2.4 is intact: {count} entries, head {head}…\n"


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding what `herald run < examples/shell-demo.txt` recorded (run once for the module)."""
    folder = tmp_path_factory.mktemp("demo")
    run = _herald("run", cwd=folder, stdin=(EXAMPLES / "shell-demo.txt").read_text(), env=_env(folder / "herald.db"))
    assert run.returncode == 0, run.stderr
    return folder / "herald.db"


@pytest.fixture
def database(demo_database: Path, tmp_path: Path) -> Path:
    """This test's own copy of the demo's database, to tamper with."""
    for suffix in ("", "-wal", "-shm"):
        if (source := demo_database.with_name(demo_database.name + suffix)).exists():
            shutil.copy(source, tmp_path / source.name)
    return tmp_path / demo_database.name


def _env(database: Path) -> dict[str, str]:
    return {"HERALD_PLAN": PLAN, "DATABASE_URL": f"sqlite:///{database}"}


def _verify(database: Path, *more: str) -> tuple[int, str]:
    result = _herald("audit", "verify", "2.4", *more, cwd=database.parent, env=_env(database))
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout


def _rows(database: Path) -> list[sqlite3.Row]:
    """The 2.4 rows of audit_log, in chain order."""
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute("SELECT * FROM audit_log WHERE version = '2.4' ORDER BY id").fetchall()


def _refused_approval(rows: list[sqlite3.Row]) -> tuple[int, sqlite3.Row]:
    """The 1-based position and row of the deployer's refused final approval."""
    return next(
        (i, r) for i, r in enumerate(rows, start=1) if (r["action"], r["outcome"]) == ("approve_release", "refused")
    )


def _edit(database: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute(sql, params)


def test_the_demo_leaves_an_intact_chain(database: Path) -> None:
    """After the demo, verify exits 0 with the entry count and the start of the head hash."""
    rows = _rows(database)

    code, out = _verify(database)

    assert code == 0
    assert out == INTACT.format(count=len(rows), head=rows[-1]["hash"][:16])


def test_verify_as_json_gives_the_whole_head(database: Path) -> None:
    """--json prints one object: intact, the count and the full head, nothing broken."""
    rows = _rows(database)

    code, out = _verify(database, "--json")

    assert code == 0
    assert json.loads(out) == {
        "version": "2.4",
        "intact": True,
        "entries": len(rows),
        "head": rows[-1]["hash"],
        "broken": None,
    }


def test_an_edited_row_is_named(database: Path) -> None:
    """Changing one row's detail with sqlite3 makes verify exit 1, naming that entry and why."""
    rows = _rows(database)
    position, row = _refused_approval(rows)
    _edit(database, "UPDATE audit_log SET detail = 'approved' WHERE id = ?", row["id"])

    code, out = _verify(database)

    assert code == 1
    assert out.startswith(f"The audit log of 2.4 is broken at entry {position} of {len(rows)} (")
    assert "shell:deployer, approve_release, refused): its hash does not match its content" in out


def test_an_edited_row_with_its_hash_redone_is_caught_at_the_next(database: Path) -> None:
    """A forger who rehashes the edited row breaks the link of the entry after it, which verify names."""
    rows = _rows(database)
    position, row = _refused_approval(rows)
    forged = AuditEntry(
        at=datetime.fromisoformat(row["at"]).replace(tzinfo=UTC),
        actor=row["actor"],
        action=row["action"],
        version=row["version"],
        outcome=Outcome.DONE,
        detail="approved",
    )
    _edit(
        database,
        "UPDATE audit_log SET outcome = 'done', detail = 'approved', hash = ? WHERE id = ?",
        entry_hash(forged, row["prev_hash"]),
        row["id"],
    )
    after = rows[position]  # the entry that follows, at position + 1

    code, out = _verify(database, "--json")

    assert code == 1
    broken = json.loads(out)["broken"]
    assert (broken["position"], broken["flaw"], broken["actor"], broken["action"]) == (
        position + 1,
        "unlinked",
        after["actor"],
        after["action"],
    )
    assert f"does not match the hash of entry {position}" in broken["reason"]


def test_a_deleted_row_is_caught_at_the_entry_after_it(database: Path) -> None:
    """Removing a row leaves the next entry pointing at a hash that is no longer there."""
    rows = _rows(database)
    position, row = _refused_approval(rows)
    _edit(database, "DELETE FROM audit_log WHERE id = ?", row["id"])

    code, out = _verify(database)

    assert code == 1
    assert f"broken at entry {position} of {len(rows) - 1}" in out
    assert "an entry was removed, added or moved before it" in out


def test_a_release_with_nothing_recorded_does_not_verify(database: Path) -> None:
    """There is no chain to vouch for: verify says so and exits 1."""
    result = _herald("audit", "verify", "9.9", cwd=database.parent, env=_env(database))

    assert result.returncode == 1
    assert result.stdout == "Nothing is recorded about release 9.9, so there is no audit log to verify.\n"


def test_the_audit_log_itself_still_reads_and_shows_each_link(database: Path) -> None:
    """`herald audit 2.4` and `herald audit --json 2.4` list the log as before; the JSON adds each entry's hashes."""
    rows = _rows(database)

    plain = _herald("audit", "2.4", cwd=database.parent, env=_env(database))
    as_json = _herald("audit", "--json", "2.4", cwd=database.parent, env=_env(database))

    assert (plain.returncode, as_json.returncode) == (0, 0)
    assert len(plain.stdout.splitlines()) == len(as_json.stdout.splitlines()) == len(rows)
    entries = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert (entries[0]["action"], entries[0]["prev_hash"]) == ("announce_release", "")
    assert [(e["prev_hash"], e["hash"]) for e in entries] == [(r["prev_hash"], r["hash"]) for r in rows]


@pytest.mark.parametrize(
    ("words", "complaint"),
    [
        (["verify"], "verify needs the release version"),
        (["2.4", "2.5"], "unexpected 2.4 2.5"),
        (["verify", "2.4", "2.5"], "unexpected verify 2.4 2.5"),
    ],
)
def test_a_wrong_audit_form_is_a_usage_error(
    words: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anything but VERSION or verify VERSION exits 2 with the usage and what was wrong."""
    with pytest.raises(SystemExit) as exited:
        main(["audit", *words])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: herald audit [-h] [--json] [verify] VERSION" in err
    assert complaint in err
