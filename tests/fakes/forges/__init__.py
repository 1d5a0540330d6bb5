"""A fake GitHub REST API and a fake GitLab REST API on 127.0.0.1 (aiohttp), serving releases by tag.

Both answer as the real ones do for the calls Herald makes: GitHub's
``GET /repos/{owner}/{repo}/releases/tags/{tag}`` (``body``, ``html_url``; 404
``{"message": "Not Found"}``; 401 ``{"message": "Bad credentials"}``) and GitLab's
``GET /api/v4/projects/{url-encoded path}/releases/{tag}`` (``description``,
``_links.self``; 404 ``{"message": "404 Not Found"}``; 401 ``{"message": "401 Unauthorized"}``).
A private project answers 404 to a caller without a token, as both forges do. Every request
is recorded with its raw path and headers, so a test sees the token and the encoding that
were sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Seen:
    """One request the fake was sent."""

    forge: str  # "github" | "gitlab"
    raw_path: str
    headers: dict[str, str]


@dataclass
class FakeForges:
    """GitHub's and GitLab's release endpoints; ``github_url`` and ``gitlab_url`` are what Herald's settings take."""

    port: int = 0
    github: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (owner/repo, tag) -> release
    gitlab: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (group/project, tag) -> release
    github_token: str | None = None  # set: only this token is accepted (others: 401)
    gitlab_token: str | None = None
    private: set[str] = field(default_factory=set)  # projects a caller without a token gets 404 for
    answers: list[int] = field(default_factory=list)  # statuses answered first, once each (then as usual)
    seen: list[Seen] = field(default_factory=list)

    @property
    def github_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/github"

    @property
    def gitlab_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gitlab"

    def release_on_github(self, project: str, tag: str, body: str | None) -> None:
        """A published release of ``project`` tagged ``tag``, as GitHub's API shows it."""
        self.github[(project, tag)] = {
            "tag_name": tag,
            "name": tag,
            "draft": False,
            "prerelease": False,
            "body": body,
            "html_url": f"https://github.com/{project}/releases/tag/{tag}",
        }

    def release_on_gitlab(self, project: str, tag: str, description: str | None) -> None:
        """A release of ``project`` tagged ``tag``, as GitLab's API shows it."""
        self.gitlab[(project, tag)] = {
            "tag_name": tag,
            "name": tag,
            "description": description,
            "_links": {"self": f"https://gitlab.com/{project}/-/releases/{tag}"},
        }

    async def github_release(self, request: web.Request) -> web.Response:
        self.seen.append(Seen("github", request.raw_path, dict(request.headers)))
        project = f"{request.match_info['owner']}/{request.match_info['repo']}"
        given = request.headers.get("Authorization")
        scripted = self._scripted()
        if scripted is not None:
            return scripted
        if given is not None and self.github_token is not None and given != f"Bearer {self.github_token}":
            return web.json_response({"message": "Bad credentials"}, status=401)
        found = self.github.get((project, request.match_info["tag"]))
        if found is None or (project in self.private and given is None):
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response(found)

    async def gitlab_release(self, request: web.Request) -> web.Response:
        self.seen.append(Seen("gitlab", request.raw_path, dict(request.headers)))
        given = request.headers.get("PRIVATE-TOKEN")
        scripted = self._scripted()
        if scripted is not None:
            return scripted
        if given is not None and self.gitlab_token is not None and given != self.gitlab_token:
            return web.json_response({"message": "401 Unauthorized"}, status=401)
        project = request.match_info["project"]
        found = self.gitlab.get((project, request.match_info["tag"]))
        if found is None or (project in self.private and given is None):
            return web.json_response({"message": "404 Not Found"}, status=404)
        return web.json_response(found)

    def _scripted(self) -> web.Response | None:
        if not self.answers:
            return None
        status = self.answers.pop(0)
        return web.json_response({"message": "API rate limit exceeded" if status in (403, 429) else "x"}, status=status)


@asynccontextmanager
async def fake_forges() -> AsyncIterator[FakeForges]:
    """Serve both fakes on one port until the block ends."""
    forges = FakeForges()
    application = web.Application()
    application.router.add_get("/github/repos/{owner}/{repo}/releases/tags/{tag}", forges.github_release)
    # The project's path arrives encoded (acme%2Fapi); aiohttp matches on the decoded path, so it may hold a /.
    application.router.add_get("/gitlab/api/v4/projects/{project:.+}/releases/{tag}", forges.gitlab_release)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    forges.port = int(runner.addresses[0][1])
    try:
        yield forges
    finally:
        await runner.cleanup()
