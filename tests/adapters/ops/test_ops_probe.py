"""The container's health check: Python's urllib asking the operations endpoint, its answer an exit code."""

from __future__ import annotations

import asyncio

import pytest

from adapters.ops.probe import main, probe_url
from tests.adapters.ops.conftest import Switch, running


async def test_a_live_endpoint_passes_the_check() -> None:
    """The probe exits 0 when /healthz answers 200."""
    async with running() as server:
        code = await asyncio.to_thread(main, ["/healthz"], {"HERALD_OPS_PORT": str(server.port)})
    assert code == 0


async def test_a_503_fails_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    """Asked for /readyz while a check fails, the probe exits 1 and says what it got."""
    async with running([Switch("database: no Herald tables yet")]) as server:
        code = await asyncio.to_thread(main, ["/readyz"], {"HERALD_OPS_PORT": str(server.port)})
    assert code == 1
    assert "answered 503" in capsys.readouterr().err


async def test_nothing_listening_fails_the_check() -> None:
    """With no endpoint on the port the probe exits 1 rather than hang."""
    async with running() as server:
        port = server.port
    assert await asyncio.to_thread(main, [], {"HERALD_OPS_PORT": str(port)}, 1.0) == 1


def test_an_endpoint_switched_off_passes() -> None:
    """With HERALD_OPS_PORT=off there is nothing to ask: the check passes."""
    assert main([], {"HERALD_OPS_PORT": "off"}) == 0


def test_every_interface_is_asked_on_loopback() -> None:
    """A host of 0.0.0.0 or :: is asked on 127.0.0.1 or ::1; a named host is asked as named."""
    assert probe_url({"HERALD_OPS_HOST": "0.0.0.0"}) == "http://127.0.0.1:9090/healthz"
    assert probe_url({"HERALD_OPS_HOST": "::", "HERALD_OPS_PORT": "9100"}, "/readyz") == "http://[::1]:9100/readyz"
    assert probe_url({"HERALD_OPS_HOST": "10.0.0.5"}) == "http://10.0.0.5:9090/healthz"
