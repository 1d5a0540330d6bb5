"""`herald announce VERSION --notes FILE`: a pipeline hands Herald the notes it already wrote."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.app.announce import EXIT_SENT, ApiClient, announce, read_notes_file
from bot.app.cli import main
from bot.domain.errors import ConfigError
from bot.domain.notes import MAX_NOTES
from tests.adapters.web.conftest import free_port
from tests.adapters.web.test_release_api import CI_TOKEN, serving
from tests.adapters.web.test_release_api_notes import NOTES, NOTES_PLAN

NOTES_MD = """# Acme Cloud 2.4

### Features

* **api:** SSO on every plan ([#7](https://github.com/acme/api/issues/7))

### Bug Fixes

* a 500 on empty filters ([#8](https://github.com/acme/api/issues/8))
"""


async def test_the_notes_file_overrides_the_plans_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`herald announce 2.4 --notes notes.md` announces with that file's notes (here a semantic-release section)."""
    notes = tmp_path / "notes.md"
    notes.write_text(NOTES_MD, encoding="utf-8")
    async with serving(NOTES_PLAN) as world:
        monkeypatch.setenv("HERALD_API_URL", world.base)
        monkeypatch.setenv("HERALD_API_TOKEN", CI_TOKEN)

        exited = await asyncio.to_thread(main, ["announce", "2.4", "--notes", str(notes)])

        assert exited == EXIT_SENT, capsys.readouterr()
        assert world.store.releases["2.4"].communiques["engineering"].text == (
            ":rocket: **Acme Cloud 2.4** is live.\n"
            "- **api:** SSO on every plan ([#7](https://github.com/acme/api/issues/7))\n"
            "- a 500 on empty filters ([#8](https://github.com/acme/api/issues/8))"
        )


async def test_the_client_sends_the_notes_in_the_body() -> None:
    """announce(…, notes=…) is the same call a pipeline's curl makes with "notes"."""
    async with serving(NOTES_PLAN) as world:
        out = io.StringIO()
        assert await announce(ApiClient(world.base, CI_TOKEN), "2.4", notes=NOTES, out=out) == EXIT_SENT
        kept = world.store.releases["2.4"].notes
        assert kept is not None
        assert kept.text == NOTES


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "cannot read the notes file {path}: No such file or directory"),
        (b"\xff\xfe not utf-8", "the notes file {path} is not UTF-8 text"),
        (b"  \n", "the notes file {path} is empty"),
        (
            b"x" * (MAX_NOTES + 1),
            f"the notes file {{path}} is {MAX_NOTES + 1:,} characters long; Herald takes at most {MAX_NOTES:,}",
        ),
    ],
)
def test_a_notes_file_herald_cannot_send_exits_1_before_calling(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    said: str,
) -> None:
    """A missing, binary, empty or too long file is one sentence and exit 1; Herald is never called."""
    path = tmp_path / "notes.md"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("HERALD_API_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens: never reached
    monkeypatch.setenv("HERALD_API_TOKEN", CI_TOKEN)
    assert main(["announce", "2.4", "--notes", str(path)]) == 1
    assert capsys.readouterr().err == f"herald: {said.format(path=path)}\n"


def test_a_dash_reads_the_notes_from_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--notes -` reads what a previous step pipes in (gh release view --json body -q .body | herald …)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(NOTES))
    assert read_notes_file("-") == NOTES


def test_read_notes_file_raises_a_config_error() -> None:
    """The reader's refusal is Herald's ConfigError (one sentence), not an OSError."""
    with pytest.raises(ConfigError):
        read_notes_file("/nonexistent/notes.md")
