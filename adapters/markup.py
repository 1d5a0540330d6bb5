"""The one syntax communiqués are written in, before each medium renders it.

Communiqués are Markdown (CommonMark with ``~~strike~~``), with Slack-style ``:emoji:``
codes. Slack's own link form, ``<https://…|label>``, is accepted too, because people who
write for Slack write it: it becomes a Markdown link here, so mail, web pages and
Discord show a link rather than angle brackets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from markdown_it import MarkdownIt

_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|<>\s]+)\|([^<>]+)>")
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)  # left as written: code shows what was typed
_LABEL_SPECIALS = re.compile(r"([\[\]\\])")


def normalized(text: str) -> str:
    """``text`` with Slack-style links written as Markdown links, outside code."""
    return _outside_code(text, _as_markdown_link)


def plain_links(text: str) -> str:
    """``text`` with Slack-style links written for plain text: ``label (url)``, outside code."""
    return _outside_code(text, lambda found: f"{found.group(2)} ({found.group(1)})")


def _outside_code(text: str, link: Callable[[re.Match[str]], str]) -> str:
    parts = _CODE.split(text)
    return "".join(part if index % 2 else _SLACK_LINK.sub(link, part) for index, part in enumerate(parts))


def _as_markdown_link(found: re.Match[str]) -> str:
    # The URL in angle brackets keeps a ``)`` in it; brackets and backslashes in the label are text.
    label = _LABEL_SPECIALS.sub(r"\\\1", found.group(2))
    return f"[{label}](<{found.group(1)}>)"


@lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    """The parser every medium uses: raw HTML is text, and a line break is a line break, as in chat.

    Link reference definitions are off: a line such as ``[TL;DR]: https://…`` is text to
    show, not a definition to drop silently.
    """
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough").disable("reference")
