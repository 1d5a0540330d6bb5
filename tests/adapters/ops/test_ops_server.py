"""The operations endpoint: alive, ready only when the database and every platform are, and honest about why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.ops.server import OpsServer
from bot.app.bootstrap import memory_storage
from bot.app.platforms import chat_herald
from bot.app.serve import Watched
from bot.app.settings import OpsSettings, load_settings
from bot.domain.errors import ConfigError
from bot.service.planfile import parse_plan
from storage.health import SchemaProbe
from storage.migrate import head, upgrade
from tests.adapters.ops.conftest import SlowService, Switch, ask, readiness, running

PLAN = """
product = "Acme Cloud"
[access]
announcers = ["slack:U0ANNOUNCE1"]
[[group]]
id = "engineering"
to = ["slack:#eng"]
message = "Acme Cloud {{ version }} is live."
"""


async def test_healthz_answers_while_the_process_runs() -> None:
    """/healthz is 200 {"ok": true} whatever the checks say: the process is up."""
    async with running([Switch("database: unreachable (OSError)")]) as server:
        assert await ask(server, "/healthz") == (200, '{"ok": true}')


async def test_readyz_is_ready_when_every_check_passes() -> None:
    """With every check passing /readyz answers 200 {"ready": true}."""
    async with running([Switch(), Switch()]) as server:
        assert await readiness(server) == (200, {"ready": True})


async def test_readyz_lists_every_reason_it_is_not_ready() -> None:
    """Each failing check adds its reason to a 503's list, in the order the checks were given."""
    checks = [Switch("database: no Herald tables yet"), Switch(), Switch("slack: starting")]
    async with running(checks) as server:
        assert await readiness(server) == (
            503,
            {"ready": False, "reasons": ["database: no Herald tables yet", "slack: starting"]},
        )


async def test_readyz_turns_ready_as_the_database_is_migrated(tmp_path: Path) -> None:
    """No file, then an older schema, answer 503 with the way out; migrated to head, 200."""
    url = f"sqlite:///{tmp_path / 'herald.db'}"
    probe = SchemaProbe(url)
    async with running([probe], on_close=[probe.close]) as server:
        status, answer = await readiness(server)
        assert (status, answer["reasons"]) == (
            503,
            ["database: there is no database file yet (run `herald db upgrade`)"],
        )
        await upgrade(url, "0006")
        status, answer = await readiness(server)
        assert status == 503
        assert answer["reasons"] == [
            f"database: at schema revision 0006, older than {head()} (run `herald db upgrade`)"
        ]
        await upgrade(url)
        assert await readiness(server) == (200, {"ready": True})


async def test_an_unreachable_database_is_named_without_its_address() -> None:
    """A PostgreSQL that refuses the connection makes /readyz 503, naming the error's kind but no host or password."""
    probe = SchemaProbe("postgresql://herald:hunter2-db@127.0.0.1:9/herald", timeout=10)
    try:
        reason = await probe.ready()
    finally:
        await probe.close()
    assert reason is not None
    assert reason.startswith("database: unreachable (")
    assert "hunter2" not in reason
    assert "127.0.0.1" not in reason


async def test_readyz_waits_for_a_platform_to_connect() -> None:
    """A platform's service is not ready before it starts nor while it connects; once it serves, it is."""
    service = SlowService()
    slack = Watched("slack", service)
    async with running([slack]) as server:
        assert (await readiness(server))[1]["reasons"] == ["slack: not started"]
        starting = asyncio.create_task(slack.start())
        await asyncio.sleep(0)
        assert (await readiness(server))[1]["reasons"] == ["slack: starting"]
        service.connect()
        await starting
        assert await readiness(server) == (200, {"ready": True})
        await slack.close()
        assert (await readiness(server))[1]["reasons"] == ["slack: stopped"]


async def test_a_service_that_reports_its_own_connection_is_asked() -> None:
    """Once started, a service with a ready() of its own (a socket that reconnects) is ready only when it says so."""
    connection = Switch("slack: Socket Mode is not connected (reconnecting)")
    service = SlowService(own_ready=connection.ready)
    service.connect()
    slack = Watched("slack", service)
    await slack.start()
    async with running([slack]) as server:
        assert (await readiness(server))[1]["reasons"] == ["slack: Socket Mode is not connected (reconnecting)"]
        connection.reason = None
        assert (await readiness(server))[0] == 200
    await slack.close()


async def test_slack_in_socket_mode_is_not_ready_until_its_socket_is_up() -> None:
    """Herald on Slack over Socket Mode names Slack in /readyz until started, and its socket until connected."""
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1-test", "SLACK_APP_TOKEN": "xapp-1-test"}, env_file=None)
    served = chat_herald(plan=parse_plan(PLAN), storage=memory_storage(), settings=settings)
    try:
        [slack] = served.watched()
        assert await slack.ready() == "slack: not started"
        assert await served.services[0].ready() == "slack: Socket Mode is not connected (reconnecting)"  # type: ignore[attr-defined]
    finally:
        for service in served.services:  # never started: closing releases the Socket Mode client's session
            await service.close()


async def test_a_check_that_hangs_or_raises_is_not_ready() -> None:
    """A check that does not answer in time, or raises, makes /readyz 503 with a reason, never a 500."""

    class Hangs:
        name = "discord"

        async def ready(self) -> str | None:
            await asyncio.Event().wait()
            return None

    class Raises:
        name = "e-mail reports"

        async def ready(self) -> str | None:
            raise RuntimeError("boom")

    async with running([Hangs(), Raises()], check_timeout=0.05) as server:
        assert await readiness(server) == (
            503,
            {"ready": False, "reasons": ["discord: did not answer within 0.05 s", "e-mail reports: RuntimeError"]},
        )


async def test_metrics_are_served_only_when_there_are_metrics() -> None:
    """Without metrics wired the endpoint has no /metrics (404), only /healthz and /readyz."""
    async with running() as server:
        assert (await ask(server, "/metrics"))[0] == 404


async def test_a_port_already_taken_is_one_sentence_naming_the_setting() -> None:
    """Starting on a port another server holds raises ConfigError naming HERALD_OPS_PORT."""
    async with running() as first:
        second = OpsServer(OpsSettings("127.0.0.1", first.port), [], None)
        with pytest.raises(
            ConfigError, match=rf"Herald ops cannot listen on 127\.0\.0\.1:{first.port}: .*HERALD_OPS_PORT"
        ):
            await second.start()
