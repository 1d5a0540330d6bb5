"""One communiqué source, rendered for mail and web pages: plain text and HTML from Markdown.

Communiqués are written once for every medium (Markdown, with Slack-style ``:emoji:``
codes and links accepted; see ``adapters.markup``). Here they become what a mail client
or a web page shows: the text with emoji codes turned into emoji, and HTML rendered by
markdown-it-py. Raw HTML in the text is escaped, never passed through, so a template
cannot smuggle a script or a forged button into a message.
"""

from __future__ import annotations

import html
import re

from adapters.emoji import emojize
from adapters.markup import markdown, normalized, plain_links

# A bare URL not already written as a Markdown link or autolink; trailing punctuation is prose.
_BARE_URL = re.compile(r"(?<![<(\[\"'=])\bhttps?://[^\s<>()\[\]]+?(?=[.,;:!?]*(?:\s|$))")


def plain_text(text: str) -> str:
    """The communiqué as the text/plain part shows it (Markdown reads well as text)."""
    return emojize(plain_links(text))


def html_fragment(text: str) -> str:
    """The communiqué as HTML (block elements, no ``<html>`` around them)."""
    linked = _BARE_URL.sub(lambda m: f"<{m.group(0)}>", emojize(normalized(text)))
    return str(markdown().render(linked))


def html_document(title: str, fragment: str, footer: str = "") -> str:
    """A whole, small HTML document around a fragment; ``footer`` is HTML already."""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        '<body style="font-family: sans-serif; line-height: 1.5; max-width: 42em">\n'
        f"{fragment}{footer}</body></html>\n"
    )
