"""`herald retract VERSION REASON...`: a rollback job withdraws a release on a running Herald through its API."""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.app.actions import EXIT_RECORDED, retract
from bot.app.announce import ApiClient
from bot.app.cli import main
from bot.domain.release import ReleaseState
from tests.adapters.web.conftest import free_port
from tests.adapters.web.test_release_api import API_PLAN, CI_TOKEN, INTRUDER_TOKEN
from tests.adapters.web.test_release_api_retract import NO_APPROVERS, REASON, sent_in_chat, serving


async def test_retract_prints_herald_s_sentence_and_exits_0_once_in_effect(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The words after the version are the reason; without approvers the release is retracted and the exit is 0."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)
        monkeypatch.setenv("HERALD_API_URL", world.base)
        monkeypatch.setenv("HERALD_API_TOKEN", CI_TOKEN)

        exited = await asyncio.to_thread(main, ["retract", "v2.4", *REASON.split()])

        assert exited == 0
        out = capsys.readouterr().out
        assert out.startswith(f"Retracted 2.4: {REASON}.")
        assert out.count("\n") == 1
        assert world.store.releases["2.4"].state is ReleaseState.RETRACTED


async def test_retract_exits_0_and_says_it_waits_when_the_plan_names_approvers() -> None:
    """With approvers the retraction is recorded, waiting: exit 0, and the sentence says an approver must approve."""
    async with serving(API_PLAN) as world:
        await sent_in_chat(world, approver=True)
        out = io.StringIO()

        assert await retract(ApiClient(world.base, CI_TOKEN), "2.4", REASON, out=out) == EXIT_RECORDED

        assert "Nothing changes until an approver other than you approves it: /release approve 2.4" in out.getvalue()
        assert world.store.releases["2.4"].retraction_waiting


async def test_retract_run_twice_exits_0_and_says_where_it_stands() -> None:
    """A rollback job retried: the second run changes nothing and says the release was retracted."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)
        client = ApiClient(world.base, CI_TOKEN)
        await retract(client, "2.4", REASON, out=io.StringIO())
        out = io.StringIO()

        assert await retract(client, "2.4", "again", out=out) == EXIT_RECORDED

        assert out.getvalue() == f"Release 2.4 was retracted: {REASON}\n"


async def test_retract_exits_1_with_herald_s_sentence_when_refused() -> None:
    """A caller the plan does not name, or a release never announced: exit 1 and Herald's reason."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)
        out = io.StringIO()

        assert await retract(ApiClient(world.base, INTRUDER_TOKEN), "2.4", REASON, out=out) == 1
        assert await retract(ApiClient(world.base, CI_TOKEN), "9.9", REASON, out=out) == 1

        said = out.getvalue().splitlines()
        assert said[0] == "herald: Herald refused (HTTP 403): Only announcers and approvers can retract a release."
        assert said[1].startswith("herald: Herald refused (HTTP 404): ")
        assert world.store.releases["2.4"].state is ReleaseState.SENT


async def test_retract_says_in_one_sentence_when_no_server_answers() -> None:
    """Nothing listening at HERALD_API_URL: exit 1 and where it looked."""
    out = io.StringIO()
    url = f"http://127.0.0.1:{free_port()}"
    assert await retract(ApiClient(url, CI_TOKEN), "2.4", REASON, out=out) == 1
    assert f"herald: cannot reach Herald at {url}/api/releases/2.4/retract" in out.getvalue()


def test_retract_without_a_token_says_which_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`herald retract` with no HERALD_API_TOKEN exits 1 naming it, without reading the server's settings."""
    monkeypatch.setenv("HERALD_API_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("HERALD_API_TOKEN", raising=False)
    monkeypatch.setenv("HERALD_LINK_SECRET", "short")  # a server setting that is wrong: none of the client's business
    assert main(["retract", "2.4", "rolled", "back"]) == 1
    assert "Set HERALD_API_TOKEN" in capsys.readouterr().err


def test_retract_needs_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """`herald retract 2.4` alone is a usage error: a retraction says why."""
    with pytest.raises(SystemExit) as exited:
        main(["retract", "2.4"])
    assert exited.value.code == 2
    assert "REASON" in capsys.readouterr().err


def test_retract_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`herald retract --help` describes the command and its exit status."""
    with pytest.raises(SystemExit) as exited:
        main(["retract", "--help"])
    assert exited.value.code == 0
    assert "0 recorded (in effect or waiting for approval), 1 refused" in " ".join(capsys.readouterr().out.split())
