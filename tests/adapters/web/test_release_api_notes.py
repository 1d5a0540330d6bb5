"""The release API takes the release's notes in its body: a pipeline hands over what it already wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.notes import MAX_NOTES
from tests.adapters.web.test_release_api import API_PLAN, ApiWorld, serving

ENGINEERING = (
    'message = ":rocket: **Acme Cloud {{ version }}** is live. Notes: https://example.com/releases/{{ version }}"'
)
NOTES_PLAN = API_PLAN.replace(
    ENGINEERING,
    'message = """:rocket: **Acme Cloud {{ version }}** is live.\n'
    '{% for entry in notes.entries("Added", "Fixed") %}\n- {{ entry }}\n{% endfor %}"""',
)
NOTES = "## What's Changed\n* feat: SSO on every plan by @dana in #7\n* fix: a 500 on empty filters by @sam in #8\n"


@pytest.fixture
async def notes_world() -> AsyncIterator[ApiWorld]:
    assert ENGINEERING in API_PLAN
    async with serving(NOTES_PLAN) as world:
        yield world


async def test_notes_in_the_body_are_the_releases_notes(notes_world: ApiWorld) -> None:
    """POST {"version", "notes"}: the communiqués are rendered from the notes, which are kept with the release."""
    status, answer = await notes_world.call("POST", "/api/releases", {"version": "2.4", "notes": NOTES})
    assert status == 201, answer
    release = notes_world.store.releases["2.4"]
    assert release.communiques["engineering"].text == (
        ":rocket: **Acme Cloud 2.4** is live.\n- feat: SSO on every plan by @dana in #7\n"
        "- fix: a 500 on empty filters by @sam in #8"
    )
    assert release.notes is not None
    assert release.notes.origin == "the notes given with the announcement"


async def test_without_notes_a_template_that_uses_them_says_so(notes_world: ApiWorld) -> None:
    """No [notes] in the plan and none in the body: the communiqué fails to render, the announcement goes on."""
    status, _ = await notes_world.call("POST", "/api/releases", {"version": "2.4"})
    assert status == 201
    assert notes_world.store.releases["2.4"].communiques["engineering"].render_error == (
        "group 'engineering' message: 'notes' is undefined"
    )


@pytest.mark.parametrize(
    ("notes", "said"),
    [
        (["### Added", "- SSO"], "notes must be the release notes as one Markdown string."),
        (
            "x" * (MAX_NOTES + 1),
            f"notes are {MAX_NOTES + 1:,} characters long; Herald takes at most {MAX_NOTES:,} (GitHub's own limit).",
        ),
    ],
)
async def test_notes_herald_cannot_take_are_400(notes_world: ApiWorld, notes: object, said: str) -> None:
    """Notes that are no string, or longer than a GitHub release may be, are refused before anything is announced."""
    status, answer = await notes_world.call("POST", "/api/releases", {"version": "2.4", "notes": notes})
    assert status == 400
    assert answer["error"] == said
    assert notes_world.store.releases == {}
