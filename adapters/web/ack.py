"""``/ack/<token>``: the page a personal acknowledgement link opens.

GET shows the page and records nothing: mail scanners and link previews fetch links
before people do, and must never count as a reader. Only the form's POST, a person
pressing *Acknowledge*, hands a receipt to the desk; a second POST records nothing and
says so. A token that was altered, or that this Herald did not sign, gets a 404 page; one
older than the group's ``ack_link_valid_for`` a 410 page that points to the chat (where
a late acknowledgement still counts). A link opened after the group's deadline still
counts, as a late click on a chat button does: the page says it is late, and the receipt
is recorded with its time.
"""

from __future__ import annotations

import html

from aiohttp import web

from adapters.email.message import message_ref
from adapters.web.tokens import AckTokens
from bot.domain.commands import Acknowledge
from bot.domain.receipt import ReceiptSource
from bot.service.desk import ReleaseDesk
from bot.service.views import AckLinkView, Notice

ACK_PATH = "/ack/{token}"
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never pass it on
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _page(status: int, title: str, body: str) -> web.Response:
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>\n"
        '<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; line-height: 1.5">\n'
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
    return web.Response(status=status, text=document, content_type="text/html", headers=_HEADERS)


def _what(view: AckLinkView) -> str:
    return html.escape(f"the {view.group_name} communiqué about {view.product} {view.version}")


def _invalid() -> web.Response:
    return _page(
        404,
        "This link is not valid",
        "<p>This acknowledgement link is incomplete or has been altered. "
        "Open the link from the e-mail again, exactly as it was sent.</p>",
    )


def _due(view: AckLinkView) -> str:
    """The deadline as the page says it: when it has passed, that it has."""
    if view.deadline is None:
        return ""
    when = f"{view.deadline:%Y-%m-%d %H:%M UTC}"
    return f" (it was due by {when}; it still counts)" if view.past_deadline else f" by {when}"


def _already(view: AckLinkView) -> web.Response:
    return _page(200, "Already acknowledged", f"<p>Your acknowledgement of {_what(view)} was already recorded.</p>")


def ack_routes(desk: ReleaseDesk, tokens: AckTokens) -> list[web.RouteDef]:
    """The GET and POST routes of acknowledgement links, answered through ``desk``."""

    async def check(request: web.Request) -> AckLinkView | web.Response:
        grant = tokens.verify(request.match_info["token"])
        if grant is None:
            return _invalid()
        view = await desk.ack_link(message_ref(grant.envid))
        if not view.found:
            return _invalid()
        if not view.recorded:
            return _page(
                503,
                "Not ready yet",
                "<p>Herald is still recording that this e-mail was sent. Please open the link again in a minute.</p>",
            )
        if view.expired:
            return _page(
                410,
                "This link has expired",
                f"<p>This link to acknowledge {_what(view)} is no longer valid. "
                "Acknowledge it in the team's chat, or ask the release team for a new link; "
                "an acknowledgement after the deadline still counts there.</p>",
            )
        if not view.asked:
            return _page(200, "Nothing to acknowledge", f"<p>No acknowledgement is asked for {_what(view)}.</p>")
        if view.replaced_by is not None:
            return _page(
                200,
                "Replaced by a correction",
                f"<p>This e-mail carries an earlier text of {_what(view)}, which a correction has since replaced "
                f"(revision {view.replaced_by}). Please read the correction Herald sent you, and acknowledge it "
                "with the link in that e-mail.</p>",
            )
        if view.acknowledged:
            return _already(view)
        return view

    async def show(request: web.Request) -> web.Response:
        view = await check(request)
        if isinstance(view, web.Response):
            return view
        return _page(
            200,
            f"{view.product} {view.version}",
            f"<p>Please confirm that you have read {_what(view)}{html.escape(_due(view))}.</p>\n"
            '<form method="post"><button type="submit" style="font-size: 1.1em; padding: 0.5em 1.5em">'
            "Acknowledge</button></form>",
        )

    async def acknowledge(request: web.Request) -> web.Response:
        view = await check(request)
        if isinstance(view, web.Response):
            return view
        reply = await desk.handle(
            Acknowledge(
                actor=view.person,
                message_ref="",
                delivery_key=view.delivery_key,
                source=ReceiptSource.LINK,
                with_tally=False,
            )
        )
        if reply.recorded is None:
            sentence = next((v.text for v in reply.views if isinstance(v, Notice)), "Nothing was recorded.")
            status = 503 if "problem on its side" in sentence else 403
            return _page(status, "Not recorded", f"<p>{html.escape(sentence)}</p>")
        if not reply.recorded:
            return _already(view)
        late = " It came after the deadline; the release team sees when it came." if view.past_deadline else ""
        return _page(200, "Thank you", f"<p>Your acknowledgement of {_what(view)} is recorded.{late}</p>")

    return [web.get(ACK_PATH, show, allow_head=False), web.post(ACK_PATH, acknowledge)]
