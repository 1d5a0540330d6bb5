"""The one syntax communiqués are written in, before each medium renders it.

Communiqués are Markdown (CommonMark with ``~~strike~~``), with Slack-style ``:emoji:``
codes. Slack's own link form, ``<https://…|label>``, is accepted too, because people who
write for Slack write it: it becomes a Markdown link here, so mail, web pages and
Discord show a link rather than angle brackets.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt

_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|<>\s]+)\|([^<>]+)>")


def normalized(text: str) -> str:
    """``text`` with Slack-style links written as Markdown links."""
    return _SLACK_LINK.sub(lambda m: f"[{m.group(2)}]({m.group(1)})", text)


@lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    """The parser every medium uses: raw HTML is text, and a line break is a line break, as in chat."""
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")
