"""`herald resend VERSION [GROUP] WHICH`: a pipeline sends a release again on a running Herald through its API."""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.app.actions import EXIT_RECORDED as EXIT_ACCEPTED
from bot.app.actions import resend
from bot.app.announce import ApiClient
from bot.app.cli import main
from bot.domain.delivery import DeliveryStatus
from tests.adapters.web.conftest import free_port
from tests.adapters.web.test_release_api import CI_TOKEN, INTRUDER_TOKEN
from tests.adapters.web.test_release_api_resend import FAILING, delivery_to, failed_once, posted_to
from tests.adapters.web.test_release_api_retract import NO_APPROVERS, serving


async def test_resend_prints_herald_s_sentence_and_exits_0_once_sending_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The group and the set after the version: the failed copy goes out once more, and the exit is 0."""
    async with serving(NO_APPROVERS) as world:
        await failed_once(world)
        monkeypatch.setenv("HERALD_API_URL", world.base)
        monkeypatch.setenv("HERALD_API_TOKEN", CI_TOKEN)

        exited = await asyncio.to_thread(main, ["resend", "v2.4", "support", "failed"])

        assert exited == 0
        assert capsys.readouterr().out == "Sending again to 1 failed, once each.\n"
        await world.herald.engine.run_until_idle()
        assert delivery_to(world, FAILING).status is DeliveryStatus.SENT
        assert posted_to(world, FAILING) == 1


async def test_resend_run_twice_exits_0_and_says_nobody_is_left() -> None:
    """A pipeline retried: the second run sends nothing, says so, and still exits 0."""
    async with serving(NO_APPROVERS) as world:
        await failed_once(world)
        client = ApiClient(world.base, CI_TOKEN)
        await resend(client, "2.4", "failed", out=io.StringIO())
        await world.herald.engine.run_until_idle()
        out = io.StringIO()

        assert await resend(client, "2.4", "failed", out=out) == EXIT_ACCEPTED

        assert out.getvalue() == "Nobody of release 2.4 was failed; nothing to send again.\n"
        await world.herald.engine.run_until_idle()
        assert posted_to(world, FAILING) == 1


async def test_resend_exits_1_with_herald_s_sentence_when_refused() -> None:
    """A caller the plan does not name, a release never announced, a set Herald does not know: exit 1 and why."""
    async with serving(NO_APPROVERS) as world:
        await failed_once(world)
        out = io.StringIO()

        assert await resend(ApiClient(world.base, INTRUDER_TOKEN), "2.4", "failed", out=out) == 1
        assert await resend(ApiClient(world.base, CI_TOKEN), "9.9", "failed", out=out) == 1
        assert await resend(ApiClient(world.base, CI_TOKEN), "2.4", "everyone", out=out) == 1

        said = out.getvalue().splitlines()
        assert said[0].startswith("herald: Herald refused (HTTP 403): Only announcers and approvers can ")
        assert said[1].startswith("herald: Herald refused (HTTP 404): ")
        assert said[2].startswith("herald: Herald refused (HTTP 400): Say whom to send to again.")
        assert delivery_to(world, FAILING).status is DeliveryStatus.FAILED


async def test_resend_says_in_one_sentence_when_no_server_answers() -> None:
    """Nothing listening at HERALD_API_URL: exit 1 and where it looked."""
    out = io.StringIO()
    url = f"http://127.0.0.1:{free_port()}"
    assert await resend(ApiClient(url, CI_TOKEN), "2.4", "missed", out=out) == 1
    assert f"herald: cannot reach Herald at {url}/api/releases/2.4/resend" in out.getvalue()


def test_resend_without_a_token_says_which_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`herald resend` with no HERALD_API_TOKEN exits 1 naming it, without reading the server's settings."""
    monkeypatch.setenv("HERALD_API_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("HERALD_API_TOKEN", raising=False)
    monkeypatch.setenv("HERALD_LINK_SECRET", "short")  # a server setting that is wrong: none of the client's business
    assert main(["resend", "2.4", "missed"]) == 1
    assert "Set HERALD_API_TOKEN" in capsys.readouterr().err


def test_resend_needs_the_set(capsys: pytest.CaptureFixture[str]) -> None:
    """`herald resend 2.4` alone is a usage error: a resend says whom to send to."""
    with pytest.raises(SystemExit) as exited:
        main(["resend", "2.4"])
    assert exited.value.code == 2
    assert "missed|failed|unread" in capsys.readouterr().err


def test_resend_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`herald resend --help` describes the command and its exit status."""
    with pytest.raises(SystemExit) as exited:
        main(["resend", "--help"])
    assert exited.value.code == 0
    assert "0 accepted (sending again, or nobody left to send to), 1 refused" in " ".join(
        capsys.readouterr().out.split()
    )
