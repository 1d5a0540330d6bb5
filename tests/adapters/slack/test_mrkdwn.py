"""Communiqués written in Markdown arrive in Slack formatted as the author meant."""

from __future__ import annotations

import pytest

from adapters.slack import translate
from adapters.slack.blocks import acknowledged_copy
from adapters.slack.mrkdwn import render


@pytest.mark.parametrize(
    ("markdown", "slack"),
    [
        ("**2.4** is *live*, _really_, ~~not~~ `now`", "*2.4* is _live_, _really_, ~not~ `now`"),
        ("# Acme 2.4\n\nShipped.", "*Acme 2.4*\n\nShipped."),
        ("[release notes](https://acme.example/notes)", "<https://acme.example/notes|release notes>"),
        ("<https://acme.example/notes>", "<https://acme.example/notes>"),
        ("see https://acme.example/notes.", "see https://acme.example/notes."),
        ("[**bold** notes](https://acme.example/n?a=1&b=2)", "<https://acme.example/n?a=1&amp;b=2|*bold* notes>"),
        ("<https://acme.example/notes|release notes>", "<https://acme.example/notes|release notes>"),
        ("Done :white_check_mark: at 10:00", "Done :white_check_mark: at 10:00"),
        ("line one\nline two", "line one\nline two"),
        ("- one\n- two\n  - nested\n- three", "• one\n• two\n  • nested\n• three"),
        ("3. third\n4. fourth", "3. third\n4. fourth"),
        ("> quoted\n> twice", "> quoted\n> twice"),
        ("```\nif a < b && c:\n```", "```\nif a &lt; b &amp;&amp; c:\n```"),
        ("above\n\n---\n\nbelow", "above\n\n───\n\nbelow"),
        ("", ""),
    ],
)
def test_markdown_becomes_slack_mrkdwn(markdown: str, slack: str) -> None:
    assert render(markdown) == slack


def test_text_cannot_forge_a_mention_or_a_link() -> None:
    """Without broadcast mentions, Slack's control characters are escaped wherever they are, labels included."""
    shown = render("Hi <!channel> & <@U0BOSS>, [<!here>](https://acme.example) <script>")
    assert shown == "Hi &lt;!channel&gt; &amp; &lt;@U0BOSS&gt;, <https://acme.example|&lt;!here&gt;> &lt;script&gt;"


def test_a_group_that_allows_mentions_keeps_them() -> None:
    assert render("**Heads up** <!here>: ask <@U0LEAD>", mentions=True) == "*Heads up* <!here>: ask <@U0LEAD>"


def test_the_shipped_support_template_reads_as_meant() -> None:
    """Bullets typed as text stay bullets; a blank line stays a paragraph break."""
    text = "Hi Support team,\n\n**Acme 2.4** is now live.\n\n• Faster search\n\n• Dark mode\n"
    assert render(text) == "Hi Support team,\n\n*Acme 2.4* is now live.\n\n• Faster search\n\n• Dark mode"


@pytest.mark.parametrize(
    ("written", "slack"),
    [
        ("<https://acme.example/a_(b)|notes>", "<https://acme.example/a_(b)|notes>"),
        ("<https://acme.example/a)b|notes>", "<https://acme.example/a)b|notes>"),
        ("<https://acme.example|a]b>", "<https://acme.example|a]b>"),
        ("`<https://acme.example|as typed>`", "`&lt;https://acme.example|as typed&gt;`"),
        ("[TL;DR]: https://acme.example/tldr", "[TL;DR]: https://acme.example/tldr"),
    ],
    ids=["parens in url", "unbalanced paren", "bracket in label", "inside code", "looks like a definition"],
)
def test_nothing_the_author_wrote_is_lost_or_rewired(written: str, slack: str) -> None:
    assert render(written) == slack


def test_a_link_label_cannot_carry_a_mention_even_where_mentions_are_allowed() -> None:
    assert render("[<!here> > all](https://acme.example)", mentions=True) == (
        "<https://acme.example|&lt;!here&gt; &gt; all>"
    )


def test_an_acknowledged_dm_loses_its_request_even_if_sent_before_blocks_had_ids() -> None:
    old_copy = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*2.4* is live."}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Please acknowledge: press the button"}]},
        {"type": "actions", "elements": [{"type": "button", "action_id": translate.ACK, "value": "k"}]},
    ]
    shown = acknowledged_copy(old_copy, "Thanks: acknowledgement recorded.")
    assert [block["type"] for block in shown] == ["section", "context"]
    assert "recorded" in str(shown[1])
