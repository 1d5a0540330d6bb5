"""Communiqués in Slack's own markup ("mrkdwn"), from the Markdown they are written in.

Slack does not read Markdown: ``**bold**`` shows its asterisks, ``*this*`` is bold rather
than italic, a ``[label](url)`` link stays as typed and headings and numbered lists are
plain text. The text is parsed as Markdown (``adapters.markup``) and written back as
mrkdwn: ``*bold*``, ``_italic_``, ``~struck~``, ``<url|label>``, a heading in bold, ``•``
bullets. Everything that is text is escaped as Slack asks (``&``, ``<``, ``>``), so no
template can forge a mention or a link, unless the group allows broadcast mentions,
in which case ``<!here>`` and ``<@U…>`` pass through as written.
"""

from __future__ import annotations

from markdown_it.tree import SyntaxTreeNode

from adapters.markup import markdown, normalized
from adapters.slack.translate import escape

_RULE = "───"


def render(text: str, *, mentions: bool = False) -> str:
    """``text`` (Markdown) as Slack mrkdwn; ``mentions`` leaves Slack's ``<…>`` forms working."""
    tree = SyntaxTreeNode(markdown().parse(normalized(text)))
    return _Writer(mentions).blocks(tree.children, loose=True)


class _Writer:
    def __init__(self, mentions: bool) -> None:
        self._mentions = mentions

    def _text(self, text: str) -> str:
        return text if self._mentions else escape(text)

    # -- blocks ----------------------------------------------------------------------

    def blocks(self, nodes: list[SyntaxTreeNode], *, loose: bool) -> str:
        return ("\n\n" if loose else "\n").join(self.block(node) for node in nodes)

    def block(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "paragraph":
            return self.inline(node.children)
        if kind == "heading":
            return f"*{self.inline(node.children)}*"
        if kind in ("bullet_list", "ordered_list"):
            return self._list(node)
        if kind == "blockquote":
            inner = self.blocks(node.children, loose=True)
            return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
        if kind in ("fence", "code_block"):
            return f"```\n{escape(node.content.rstrip(chr(10)))}\n```"
        if kind == "hr":
            return _RULE
        return self._text(node.content)  # html_block cannot occur (html is off); keep anything else as text

    def _list(self, node: SyntaxTreeNode) -> str:
        number = int(str(node.attrs.get("start", 1)))
        lines: list[str] = []
        for item in node.children:
            marker = "•" if node.type == "bullet_list" else f"{number}."
            number += 1
            body = self.blocks(item.children, loose=False).split("\n")
            pad = " " * (len(marker) + 1)
            lines.append(f"{marker} {body[0]}")
            lines.extend(f"{pad}{line}" if line else "" for line in body[1:])
        return "\n".join(lines)

    # -- inline ----------------------------------------------------------------------

    def inline(self, nodes: list[SyntaxTreeNode]) -> str:
        return "".join(self._span(node) for node in nodes)

    def _span(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "inline":
            return self.inline(node.children)
        if kind == "text":
            return self._text(node.content)
        if kind in ("softbreak", "hardbreak"):
            return "\n"
        if kind == "strong":
            return f"*{self.inline(node.children)}*"
        if kind == "em":
            return f"_{self.inline(node.children)}_"
        if kind == "s":
            return f"~{self.inline(node.children)}~"
        if kind == "code_inline":
            return f"`{escape(node.content)}`"
        if kind in ("link", "image"):
            href = escape(str(node.attrs.get("href") or node.attrs.get("src") or "")).replace("|", "%7C")
            # A label is always text: a mention or a ``>`` in it would break the link open.
            plain = _Writer(mentions=False)
            label = plain.inline(node.children) if kind == "link" else escape(node.content)
            if not label or label == href or node.markup == "autolink":
                return f"<{href}>"
            return f"<{href}|{label.replace('|', '¦')}>"
        return self._text(node.content)
