"""GitHub's and GitLab's release APIs over real HTTP (a local fake of each): notes by tag, every failure a sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.forges.config import ForgeSettings
from adapters.forges.releases import ForgeClient
from bot.app.settings import load_settings
from bot.domain.errors import ConfigError, NotesUnavailable
from bot.domain.notes import parse_source
from tests.adapters.web.conftest import free_port
from tests.fakes.forges import FakeForges, fake_forges

GITHUB_TOKEN = "ghp_0123456789abcdefghijklmnopqrstuvwxyz"
GITLAB_TOKEN = "glpat-0123456789abcdefghij"
BODY = "## What's Changed\n* feat: SSO on every plan by @dana in https://github.com/acme/api/pull/7\n"


@pytest.fixture
async def forges() -> AsyncIterator[FakeForges]:
    async with fake_forges() as served:
        yield served


def client(forges: FakeForges, *, github_token: str | None = None, gitlab_token: str | None = None) -> ForgeClient:
    """Herald's client, configured as the environment would configure it."""
    environ = {"GITHUB_API_URL": forges.github_url, "GITLAB_URL": forges.gitlab_url}
    if github_token:
        environ["GITHUB_TOKEN"] = github_token
    if gitlab_token:
        environ["GITLAB_TOKEN"] = gitlab_token
    return ForgeClient(load_settings(environ, env_file=None).forges)


async def test_a_github_release_is_read_by_its_tag_with_the_token(forges: FakeForges) -> None:
    """The body and the page of the release tagged v2.4.1 come back; the token went as a bearer token."""
    forges.github_token = GITHUB_TOKEN
    forges.release_on_github("acme/api", "v2.4.1", BODY)
    release = await client(forges, github_token=GITHUB_TOKEN).release(parse_source("github:acme/api"), "v2.4.1")
    assert release.body == BODY
    assert release.url == "https://github.com/acme/api/releases/tag/v2.4.1"
    assert forges.seen[0].raw_path == "/github/repos/acme/api/releases/tags/v2.4.1"
    assert forges.seen[0].headers["Authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert forges.seen[0].headers["Accept"] == "application/vnd.github+json"


async def test_a_release_without_a_body_has_empty_notes(forges: FakeForges) -> None:
    """GitHub's null body is empty notes, not an error."""
    forges.release_on_github("acme/api", "v2.4.1", None)
    release = await client(forges).release(parse_source("github:acme/api"), "v2.4.1")
    assert release.body == ""


async def test_no_such_tag_on_github_is_one_sentence(forges: FakeForges) -> None:
    """A tag GitHub has no release for says which tag, which repository, and the status."""
    with pytest.raises(NotesUnavailable) as raised:
        await client(forges, github_token=GITHUB_TOKEN).release(parse_source("github:acme/api"), "v2.4.1")
    assert str(raised.value) == "notes: GitHub has no release tagged v2.4.1 in acme/api (404)"


async def test_a_private_repository_without_a_token_says_the_token_may_be_missing(forges: FakeForges) -> None:
    """GitHub answers 404 for a private repository to a caller without a token; the sentence names GITHUB_TOKEN."""
    forges.release_on_github("acme/api", "v2.4.1", BODY)
    forges.private.add("acme/api")
    with pytest.raises(NotesUnavailable) as raised:
        await client(forges).release(parse_source("github:acme/api"), "v2.4.1")
    assert str(raised.value) == (
        "notes: GitHub has no release tagged v2.4.1 in acme/api (404; a private project also needs GITHUB_TOKEN)"
    )
    assert "Authorization" not in forges.seen[0].headers


async def test_a_refused_github_token_names_the_variable(forges: FakeForges) -> None:
    """A token GitHub does not accept is a 401 naming GITHUB_TOKEN, never the token itself."""
    forges.github_token = GITHUB_TOKEN
    forges.release_on_github("acme/api", "v2.4.1", BODY)
    with pytest.raises(NotesUnavailable) as raised:
        await client(forges, github_token="ghp_wrong_wrong_wrong").release(parse_source("github:acme/api"), "v2.4.1")
    assert str(raised.value) == (
        "notes: GitHub refused the token in GITHUB_TOKEN (401); give one that may read acme/api"
    )
    assert "ghp_wrong" not in str(raised.value)


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        (403, "notes: GitHub refused to read acme/api's release v2.4.1 (403: API rate limit exceeded)"),
        (502, "notes: GitHub answered 502 about acme/api's release v2.4.1; announce again to read it again"),
    ],
)
async def test_a_refusal_or_an_outage_is_one_sentence(forges: FakeForges, status: int, sentence: str) -> None:
    """A rate limit or a 5xx says what GitHub answered; nothing is retried behind the person's back."""
    forges.release_on_github("acme/api", "v2.4.1", BODY)
    forges.answers.append(status)
    with pytest.raises(NotesUnavailable) as raised:
        await client(forges).release(parse_source("github:acme/api"), "v2.4.1")
    assert str(raised.value) == sentence
    assert len(forges.seen) == 1


async def test_an_unreachable_forge_is_one_sentence() -> None:
    """Nothing listening at GITHUB_API_URL: the sentence names where Herald looked."""
    base = f"http://127.0.0.1:{free_port()}"
    settings = ForgeSettings.model_validate({"GITHUB_API_URL": base})
    with pytest.raises(NotesUnavailable) as raised:
        await ForgeClient(settings).release(parse_source("github:acme/api"), "v2.4.1")
    assert str(raised.value) == f"notes: GitHub could not be reached at {base} (ClientConnectorError)"


async def test_a_server_that_is_not_github_is_said_to_be_so(forges: FakeForges) -> None:
    """An answer that is not GitHub's JSON (a proxy's page, a wrong path) is not taken for a missing release."""
    base = f"http://127.0.0.1:{forges.port}/nowhere"
    settings = ForgeSettings.model_validate({"GITHUB_API_URL": base})
    with pytest.raises(NotesUnavailable) as raised:
        await ForgeClient(settings).release(parse_source("github:acme/api"), "v2.4.1")
    assert str(raised.value) == f"notes: {base} answered 404, but not as GitHub's API does; check GITHUB_API_URL"


async def test_a_gitlab_release_is_read_with_the_project_path_encoded(forges: FakeForges) -> None:
    """GitLab's project id is its path, URL-encoded; the token goes as PRIVATE-TOKEN."""
    forges.gitlab_token = GITLAB_TOKEN
    forges.release_on_gitlab("acme/platform/api", "v2.4.1", BODY)
    found = await client(forges, gitlab_token=GITLAB_TOKEN).release(parse_source("gitlab:acme/platform/api"), "v2.4.1")
    assert found.body == BODY
    assert found.url == "https://gitlab.com/acme/platform/api/-/releases/v2.4.1"
    assert forges.seen[0].raw_path == "/gitlab/api/v4/projects/acme%2Fplatform%2Fapi/releases/v2.4.1"
    assert forges.seen[0].headers["PRIVATE-TOKEN"] == GITLAB_TOKEN


async def test_no_such_tag_on_gitlab_is_one_sentence(forges: FakeForges) -> None:
    """GitLab's 404 is the same sentence in GitLab's name."""
    with pytest.raises(NotesUnavailable) as raised:
        await client(forges, gitlab_token=GITLAB_TOKEN).release(parse_source("gitlab:acme/api"), "v9.9.9")
    assert str(raised.value) == "notes: GitLab has no release tagged v9.9.9 in acme/api (404)"


async def test_a_refused_gitlab_token_names_the_variable(forges: FakeForges) -> None:
    """GitLab's 401 names GITLAB_TOKEN."""
    forges.gitlab_token = GITLAB_TOKEN
    with pytest.raises(NotesUnavailable) as raised:
        await client(forges, gitlab_token="glpat-wrong").release(parse_source("gitlab:acme/api"), "v2.4.1")
    assert str(raised.value) == "notes: GitLab refused the token in GITLAB_TOKEN (401); give one that may read acme/api"


def test_the_defaults_are_github_com_and_gitlab_com() -> None:
    """With nothing set, Herald reads github.com's and gitlab.com's APIs."""
    settings = load_settings({}, env_file=None).forges
    assert (settings.github_api_url, settings.gitlab_url) == ("https://api.github.com", "https://gitlab.com")


def test_a_token_is_never_sent_over_plain_http_to_another_machine() -> None:
    """http:// is refused for a forge elsewhere (the token would travel in the clear); this machine is fine."""
    with pytest.raises(ConfigError) as raised:
        load_settings({"GITHUB_API_URL": "http://github.example.com/api/v3"}, env_file=None)
    assert "GITHUB_API_URL must start with https://" in str(raised.value)


def test_the_tokens_never_print() -> None:
    """The tokens are secrets: a repr of the settings hides them."""
    settings = load_settings({"GITHUB_TOKEN": GITHUB_TOKEN, "GITLAB_TOKEN": GITLAB_TOKEN}, env_file=None)
    assert GITHUB_TOKEN not in repr(settings)
    assert GITLAB_TOKEN not in repr(settings)


async def test_the_client_keeps_no_session_open(forges: FakeForges) -> None:
    """Each read opens and closes its own connection: nothing is left for Herald to close at shutdown."""
    forges.release_on_github("acme/api", "v2.4.1", BODY)
    reader = client(forges)
    for _ in range(2):
        await reader.release(parse_source("github:acme/api"), "v2.4.1")
    assert not [a for a in vars(reader).values() if isinstance(a, aiohttp.ClientSession)]
