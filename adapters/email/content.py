"""One communiqué source, rendered for mail and web pages: plain text and HTML from Markdown.

Communiqués are written once for every medium (Markdown, with the odd Slack-style
``:emoji:``). Here they become what a mail client or a web page shows: the text with
emoji codes turned into emoji, and HTML rendered by markdown-it-py. Raw HTML in the
text is escaped, never passed through, so a template cannot smuggle a script or a
forged button into a message.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from markdown_it import MarkdownIt

from adapters.emoji import emojize

# A bare URL not already written as a Markdown link or autolink; trailing punctuation is prose.
_BARE_URL = re.compile(r"(?<![<(\[\"'=])\bhttps?://[^\s<>()\[\]]+?(?=[.,;:!?]*(?:\s|$))")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # commonmark with html off: raw HTML is shown as text. ``breaks``: a line break in the
    # source is one in the message, as in chat.
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")


def plain_text(text: str) -> str:
    """The communiqué as the text/plain part shows it."""
    return emojize(text)


def html_fragment(text: str) -> str:
    """The communiqué as HTML (block elements, no ``<html>`` around them)."""
    linked = _BARE_URL.sub(lambda m: f"<{m.group(0)}>", plain_text(text))
    return str(_markdown().render(linked))


def html_document(title: str, fragment: str, footer: str = "") -> str:
    """A whole, small HTML document around a fragment; ``footer`` is HTML already."""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        '<body style="font-family: sans-serif; line-height: 1.5; max-width: 42em">\n'
        f"{fragment}{footer}</body></html>\n"
    )
