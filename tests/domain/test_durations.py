"""Durations as the plan writes them: a whole number and one of s, m, h, d."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("90m", timedelta(minutes=90)),
        (" 4h ", timedelta(hours=4)),
        ("4 h", timedelta(hours=4)),
    ],
)
def test_a_number_and_a_unit_is_a_duration(text: str, expected: timedelta) -> None:
    """``30s``, ``30m``, ``4h`` and ``2d`` are durations, spaces around them allowed."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["4", "h", "", "4H", "4hours", "1.5h", "-4h", "4h30m", "4w", "four hours"])
def test_anything_else_is_refused_with_the_accepted_forms(text: str) -> None:
    """A malformed duration is refused with a sentence naming the accepted forms."""
    with pytest.raises(ValueError, match="write a number and a unit: 30s, 30m, 4h, 2d"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0s", "0m", "0h", "0d", "000h"])
def test_a_zero_duration_is_refused(text: str) -> None:
    """A zero duration is refused: a deadline or a reminder interval must be positive."""
    with pytest.raises(ValueError, match="is zero; a duration must be positive"):
        parse_duration(text)


@pytest.mark.parametrize("value", [4, 4.0, None, ["4h"]])
def test_a_value_that_is_not_text_is_refused(value: object) -> None:
    """A TOML number or list where a duration belongs is refused as a ValueError."""
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(days=2), "2d"),
        (timedelta(hours=24), "1d"),
        (timedelta(hours=4), "4h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=3601), "3601s"),
    ],
)
def test_a_duration_is_written_in_its_largest_exact_unit(value: timedelta, text: str) -> None:
    """Formatting picks the largest unit that divides the duration exactly."""
    assert format_duration(value) == text
