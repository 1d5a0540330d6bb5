"""Herald's words in Slack: people named as Slack names them."""

from __future__ import annotations

from adapters.slack.translate import mention_people


def test_people_in_herald_words_are_named_as_slack_names_them() -> None:
    """A notice saying ``slack:U…`` shows the person's name; channels, DM targets and message refs stay."""
    text = "Approved by slack:U0APPROVE1. To slack:@U0SUP, slack:C0ENG; ref slack:C0ENG:1700000000.0001."
    shown = mention_people(text)
    assert shown == "Approved by <@U0APPROVE1>. To slack:@U0SUP, slack:C0ENG; ref slack:C0ENG:1700000000.0001."
