"""``herald mail explain --json`` on real mail from public corpora: bounces, reports, read receipts, auto-replies.

Each folder under ``samples/`` holds mail from one public source, byte for byte, with a
README (origin, commit, licence) and ``expected.json`` (what a reader must find in each).
flufl.bounce's 117 samples carry flufl.bounce's own expectations: 111 name a failing
address, 18 of them in RFC 3464 reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.app.cli import main

SAMPLES = Path(__file__).parent / "samples"
FAILURES = {"failed", "expired"}


def _expectations() -> list[Any]:
    cases = []
    for folder in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        for entry in json.loads((folder / "expected.json").read_text()):
            cases.append(pytest.param(folder.name, entry, id=f"{folder.name}/{entry['file']}"))
    return cases


@pytest.fixture
def explain(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Runs ``herald mail explain --json`` on a sample and returns its one JSON object."""
    monkeypatch.setenv("DATABASE_URL", "memory://")

    def run(path: Path) -> dict[str, Any]:
        assert main(["mail", "explain", "--json", str(path)]) == 0
        found: dict[str, Any] = json.loads(capsys.readouterr().out)
        return found

    return run


@pytest.mark.parametrize(("source", "expected"), _expectations())
def test_each_real_sample_is_read_as_what_it_is(source: str, expected: dict[str, Any], explain: Any) -> None:
    """Every sample gives its addresses, with the kind and action its corpus says; none matches a delivery here."""
    found = explain(SAMPLES / source / expected["file"])
    addresses = {entry["address"] for entry in found["recipients"]}
    assert set(expected["addresses"]) <= addresses
    assert all(entry["delivery"] is None and entry["why"] for entry in found["recipients"])
    if source == "flufl-bounce":  # flufl.bounce's table names addresses and nothing else
        if expected["addresses"]:
            assert found["kind"] in ("dsn", "bounce")
        return
    kinds = {"dsn", "bounce"} if expected["kind"] in ("dsn", "bounce") else {expected["kind"]}
    assert found["kind"] in kinds
    actions = {entry["action"] for entry in found["recipients"] if entry["address"] in expected["addresses"]}
    assert actions == ({"failed"} if expected["action"] in FAILURES else {expected["action"]})
    if expected["kind"] == "dsn" and expected["status"]:
        assert {entry["status"] for entry in found["recipients"]} == {expected["status"]}


def test_the_corpus_is_the_one_the_figures_are_about() -> None:
    """flufl.bounce's corpus holds 117 mails: 111 naming a failing address, 18 of them RFC 3464 reports."""
    entries = json.loads((SAMPLES / "flufl-bounce" / "expected.json").read_text())
    named = [e for e in entries if e["addresses"]]
    assert (len(entries), len(named), sum(e["file"].startswith("dsn_") for e in named)) == (117, 111, 18)


@pytest.mark.parametrize(
    ("name", "action", "status", "temporary"),
    [
        ("dsn_02.txt", "failed", "4.4.7", True),  # "Action: failed", but the MTA gave up on a transient failure
        ("dsn_03.txt", "failed", "5.0.0", False),  # "Action: failure", "Status: 553 ..." (a basic reply code)
        ("dsn_05.txt", "delayed", "4.4.1", True),
        ("dsn_12.txt", "failed", "5.1.1", False),  # "Action: failed (Bad destination mailbox address)"
        ("dsn_18.txt", "failed", "5.0.0", False),  # "Action: error"
    ],
)
def test_a_failure_is_temporary_by_its_status_class_not_its_word(
    name: str, action: str, status: str, temporary: bool, explain: Any
) -> None:
    """Whether a report's failure may pass follows 4.x.x vs 5.x.x, whatever word the server chose."""
    [entry] = explain(SAMPLES / "flufl-bounce" / name)["recipients"]
    assert (entry["action"], entry["status"], entry["temporary"]) == (action, status, temporary)


def test_a_quoted_printable_status_part_is_decoded(explain: Any) -> None:
    """dsn_14's delivery-status part is quoted-printable: its recipient and diagnostic still read."""
    [entry] = explain(SAMPLES / "flufl-bounce" / "dsn_14.txt")["recipients"]
    assert (entry["address"], entry["status"]) == ("userx@example.com.dk", "5.1.1")
    assert "User unknown" in entry["diagnostic"]


def test_the_address_sent_to_wins_over_the_one_it_was_forwarded_to(explain: Any) -> None:
    """Original-Recipient names the address Herald sent to; Final-Recipient an alias it expanded to."""
    [entry] = explain(SAMPLES / "flufl-bounce" / "dsn_17.txt")["recipients"]
    assert entry["address"] == "userx@example.fi"


def test_mail_that_is_no_bounce_is_not_read_as_one(explain: Any) -> None:
    """A mail flufl.bounce's authors keep as "not a bounce" gives no failing address."""
    found = explain(SAMPLES / "flufl-bounce" / "groupwise_03.txt")
    assert (found["kind"], found["recipients"]) == ("other", [])


def test_the_text_explanation_says_why_nothing_changes(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """Without --json a person reads the kind, each address with its action, and why no delivery changes."""
    monkeypatch.setenv("DATABASE_URL", "memory://")
    assert main(["mail", "explain", str(SAMPLES / "flufl-bounce" / "qmail_01.txt")]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "bounce (a non-delivery notice): 'failure notice'"
    assert "  userx@example.de: failed 5.0.0 (permanent)" in text
    assert "no delivery changes: it names no mail of Herald's" in text


def test_an_unreadable_file_is_one_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A mail file that is not there ends in a sentence and exit status 1."""
    assert main(["mail", "explain", str(tmp_path / "nope.eml")]) == 1
    assert capsys.readouterr().err.startswith(f"herald: Cannot read the mail {tmp_path / 'nope.eml'}:")
