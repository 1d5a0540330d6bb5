"""`herald announce 2.4 --component api` and `herald announce api-v2.4.0`: a pipeline names what it released."""

from __future__ import annotations

import asyncio

import pytest

from bot.app.announce import EXIT_REFUSED, EXIT_SENT
from bot.app.cli import main
from tests.adapters.web.test_release_api import API_PLAN, CI_TOKEN, serving

PLAN = API_PLAN.replace('id = "support"', 'id = "support"\ncomponents = ["web"]')


@pytest.mark.parametrize(
    ("words", "components"),
    [
        (["2.4", "--component", "api"], ("api",)),
        (["2.4", "--component", "api", "--component", "db"], ("api", "db")),
        (["api-v2.4"], ("api",)),
        (["api-v2.4", "--component", "db"], ("api", "db")),
    ],
)
async def test_the_release_is_of_the_components_named_and_groups_of_others_skip_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], words: list[str], components: tuple[str, ...]
) -> None:
    async with serving(PLAN) as world:
        monkeypatch.setenv("HERALD_API_URL", world.base)
        monkeypatch.setenv("HERALD_API_TOKEN", CI_TOKEN)

        exited = await asyncio.to_thread(main, ["announce", *words])

        assert exited == EXIT_SENT, capsys.readouterr()
        release = world.store.releases["2.4"]
        assert release.components == components
        assert list(release.skipped) == ["support"]


def test_a_component_herald_cannot_read_is_refused_before_calling(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HERALD_API_URL", "http://127.0.0.1:9")  # nothing listens: it must not be called
    monkeypatch.setenv("HERALD_API_TOKEN", CI_TOKEN)
    assert main(["announce", "2.4", "--component", "API/v1"]) == EXIT_REFUSED
    assert "is not a component name" in capsys.readouterr().err
