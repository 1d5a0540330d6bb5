"""Scopes through the release API: a pipeline scoped to engineering may not announce a release that reaches support."""

from __future__ import annotations

import tests.adapters.web.test_release_api as api
from bot.domain.audit import Outcome
from tests.adapters.web.test_release_api import ApiWorld

SCOPED = api.API_PLAN.replace(
    'approvers = ["slack:U0APPROVE1"]', 'approvers = ["slack:U0APPROVE1"]\nscopes = { "api:ci" = ["engineering"] }'
)


async def test_a_scoped_pipeline_is_refused_with_403_the_sentence_and_an_audit_entry() -> None:
    """api:ci may act for engineering only: announcing 2.4 (engineering and support) is refused and recorded."""
    async with api.serving(SCOPED) as world:
        await _refused(world)


async def _refused(world: ApiWorld) -> None:
    status, answer = await world.call("POST", "/api/releases", {"version": "2.4"})
    assert status == 403
    assert "your scope in the plan is engineering, and this touches support" in answer["error"]
    [entry] = world.store.audit
    assert (entry.actor, entry.action, entry.outcome) == ("api:ci", "announce_release", Outcome.REFUSED)
    assert world.store.releases == {}
    assert world.posts() == 0
