"""``ForgeClient``: one release's notes from GitHub's or GitLab's REST API, every failure one sentence.

GitHub: ``GET {GITHUB_API_URL}/repos/OWNER/REPO/releases/tags/TAG`` with ``Authorization:
Bearer GITHUB_TOKEN`` (when set); the notes are its ``body``, the page its ``html_url``.
GitLab: ``GET {GITLAB_URL}/api/v4/projects/GROUP%2FPROJECT/releases/TAG`` with
``PRIVATE-TOKEN: GITLAB_TOKEN``; the notes are its ``description``, the page ``_links.self``.
One call each, made when a release is announced: no session is kept between them, and
nothing is retried (the walkthrough says what failed; announcing again reads them again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.forges.config import ForgeSettings
from bot.domain.errors import NotesUnavailable
from bot.domain.notes import NotesSource, SourceKind
from bot.service.ports.forges import ForgeRelease

MAX_ANSWER_BYTES = 1_000_000  # a release's body is at most 125,000 characters on GitHub
_TIMEOUT = aiohttp.ClientTimeout(total=15)
_USER_AGENT = "Herald (release communications)"


@dataclass(frozen=True, slots=True)
class _Forge:
    """One forge as a sentence names it, and the variable that holds its token."""

    name: str  # "GitHub"
    token_variable: str  # "GITHUB_TOKEN"
    url_variable: str  # "GITHUB_API_URL"
    base: str  # the URL the request went to, for "could not be reached at …"


class ForgeClient:
    """The ``ForgeReleases`` port over GitHub's and GitLab's REST APIs."""

    def __init__(self, settings: ForgeSettings, *, timeout: aiohttp.ClientTimeout = _TIMEOUT) -> None:
        self._settings = settings
        self._timeout = timeout

    async def release(self, source: NotesSource, tag: str) -> ForgeRelease:
        """The release tagged ``tag`` in ``source``'s project.

        Raises:
            NotesUnavailable: no such release, a refused token, the forge unreachable or answering nonsense.
        """
        if source.kind is SourceKind.GITHUB:
            return await self._github(source.location, tag)
        if source.kind is SourceKind.GITLAB:
            return await self._gitlab(source.location, tag)
        raise NotesUnavailable(f"notes: {source} is not a release on GitHub or GitLab")

    async def _github(self, project: str, tag: str) -> ForgeRelease:
        settings = self._settings
        forge = _Forge("GitHub", "GITHUB_TOKEN", "GITHUB_API_URL", settings.github_api_url)
        owner, _, repo = project.partition("/")
        url = f"{settings.github_api_url}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/releases/tags/"
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if settings.github_token is not None:
            headers["Authorization"] = f"Bearer {settings.github_token.reveal()}"
        token = "Authorization" in headers
        found = await self._get(url + quote(tag, safe=""), headers, forge, project, tag, token=token)
        return ForgeRelease(body=_text(found.get("body")), url=_text(found.get("html_url")) or None)

    async def _gitlab(self, project: str, tag: str) -> ForgeRelease:
        settings = self._settings
        forge = _Forge("GitLab", "GITLAB_TOKEN", "GITLAB_URL", settings.gitlab_url)
        url = f"{settings.gitlab_url}/api/v4/projects/{quote(project, safe='')}/releases/{quote(tag, safe='')}"
        headers = {"Accept": "application/json"}
        if settings.gitlab_token is not None:
            headers["PRIVATE-TOKEN"] = settings.gitlab_token.reveal()
        found = await self._get(url, headers, forge, project, tag, token=settings.gitlab_token is not None)
        links = found.get("_links")
        page = _text(links.get("self")) if isinstance(links, dict) else ""
        return ForgeRelease(body=_text(found.get("description")), url=page or None)

    async def _get(
        self, url: str, headers: dict[str, str], forge: _Forge, project: str, tag: str, *, token: bool
    ) -> dict[str, Any]:
        """The JSON object at ``url``, or ``NotesUnavailable`` saying in the forge's words why not."""
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout, headers={"User-Agent": _USER_AGENT}) as http,
                http.get(url, headers=headers) as response,
            ):
                status = response.status
                raw = await _bounded(response, forge, project)
        except (aiohttp.ClientError, TimeoutError) as error:
            why = "it did not answer in time" if isinstance(error, TimeoutError) else type(error).__name__
            raise NotesUnavailable(f"notes: {forge.name} could not be reached at {forge.base} ({why})") from None
        found = _json(raw)
        if status == 200 and found is not None:
            return found
        raise NotesUnavailable(_refusal(status, found, forge, project, tag, token=token))


async def _bounded(response: aiohttp.ClientResponse, forge: _Forge, project: str) -> bytes:
    body = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise NotesUnavailable(
                f"notes: {forge.name}'s answer about {project} is larger than {MAX_ANSWER_BYTES:,} bytes"
            )
    return bytes(body)


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _refusal(status: int, found: dict[str, Any] | None, forge: _Forge, project: str, tag: str, *, token: bool) -> str:
    """One sentence for a forge's answer that is not the release."""
    said = _text((found or {}).get("message")) or _text((found or {}).get("error"))
    said = " ".join(said.split())[:160]
    if status >= 500:
        return f"notes: {forge.name} answered {status} about {project}'s release {tag}; announce again to read it again"
    if found is None or status == 200:  # a proxy's page, a wrong path: not the forge's API
        return f"notes: {forge.base} answered {status}, but not as {forge.name}'s API does; check {forge.url_variable}"
    if status == 404:
        private = "" if token else f"; a private project also needs {forge.token_variable}"
        return f"notes: {forge.name} has no release tagged {tag} in {project} (404{private})"
    if status == 401:
        return (
            f"notes: {forge.name} refused the token in {forge.token_variable} (401); give one that may read {project}"
        )
    if status in (403, 429):
        return f"notes: {forge.name} refused to read {project}'s release {tag} ({status}{': ' + said if said else ''})"
    return f"notes: {forge.name} answered {status} about {project}'s release {tag}{': ' + said if said else ''}"
