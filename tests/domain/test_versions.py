"""Release versions as people type them."""

from __future__ import annotations

import re

import pytest

from bot.domain.errors import CommandError
from bot.domain.versions import parse_version


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2.4", "2.4"),
        ("2.4.1", "2.4.1"),
        ("1.2.3.4", "1.2.3.4"),
        ("3.0.0-rc.1", "3.0.0-rc.1"),
        ("v2.4", "2.4"),
        ("V2.4.1", "2.4.1"),
        ("  2.4  ", "2.4"),
    ],
)
def test_a_version_is_returned_in_canonical_form(text: str, canonical: str) -> None:
    """A version loses its ``v`` prefix and surrounding spaces."""
    assert parse_version(text) == canonical


@pytest.mark.parametrize("text", ["", "v", "banana", "x2.4", "2.4-", "1.2.3.4.5", "2..4", ".2.4", "vv2.4", "2,4"])
def test_text_that_is_not_a_version_is_refused(text: str) -> None:
    """Text that is not a version number is refused with examples of versions."""
    with pytest.raises(
        CommandError, match=re.escape("is not a release version; write it like 2.4, 2.4.1 or 3.0.0-rc.1.")
    ):
        parse_version(text)


def test_a_long_refused_version_is_shortened_in_the_message() -> None:
    """The refusal quotes at most 40 characters of what was typed."""
    with pytest.raises(CommandError) as caught:
        parse_version("x" * 100)

    assert "“" + "x" * 40 + "…”" in str(caught.value)
