"""Herald's HTML pages: one Jinja2 environment (autoescaped), the headers every page carries, the static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.domain.people import display_name

HERE = Path(__file__).parent
STATIC = HERE / "static"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # tokens are in URLs: never to another site (forms keep their Origin)
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["person_name"] = display_name


def render(template: str, **context: Any) -> str:
    """``template`` rendered with ``context`` (every value escaped unless marked safe)."""
    return _environment.get_template(template).render(**context)


def page(template: str, *, status: int = 200, **context: Any) -> web.Response:
    """``template`` rendered with ``context``, as an HTML response with Herald's headers."""
    return web.Response(status=status, text=render(template, **context), content_type="text/html", headers=HEADERS)


def message(status: int, title: str, text: str, **context: Any) -> web.Response:
    """A page that only says something (a refusal, a link that expired)."""
    return page("message.html", status=status, title=title, text=text, **context)


async def static_file(request: web.Request) -> web.Response:
    """``/static/NAME``: the stylesheet and the scripts (nothing else is served)."""
    name = request.match_info["name"]
    path = STATIC / name
    kind = _STATIC_TYPES.get(path.suffix)
    if kind is None or path.parent != STATIC or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        content_type=kind,
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def static_routes() -> list[web.RouteDef]:
    """The route of the static files."""
    return [web.get("/static/{name}", static_file)]
