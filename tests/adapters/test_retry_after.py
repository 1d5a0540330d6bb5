"""Retry-After as servers send it: seconds, fractions, HTTP-dates; junk gives the default; a day at most."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.retry_after import retry_after

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("Mon, 07 Dec 2026 12:02:00 GMT", 120.0),
        ("1e400", 86_400.0),
        ("9" * 400, 86_400.0),
        ("Sun, 07 Dec 2036 12:00:00 GMT", 86_400.0),
        (None, 7.0),
        ("", 7.0),
        ("soon", 7.0),
        ("-5", 7.0),
        ("nan", 7.0),
        ("Mon, 07 Dec 2026 11:00:00 GMT", 7.0),  # already past
        ("1" * 5000, 86_400.0),
    ],
)
def test_a_retry_after_header_becomes_a_bounded_wait(header: str | None, seconds: float) -> None:
    """Each form a server may send gives a wait from zero to a day, or the caller's default."""
    assert retry_after(header, default=7.0, now=NOW) == pytest.approx(seconds)
