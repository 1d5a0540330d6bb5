"""Sign-in tokens and sessions: sealed (nobody's name readable), bound to their use, short-lived."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from adapters.web.sessions import Signer, person_from_header

SECRET = b"a-test-secret-that-is-long-enough-0123456789"
SIGN_IN, SESSION = b"herald-sign-in-v1\x00", b"herald-session-v1\x00"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _bytes_of(token: str) -> bytes:
    sealed = token.split(".")[0]
    return base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))


def test_a_token_names_nobody_readably_and_differs_each_time() -> None:
    """The person and release are encrypted: neither the text nor its base64 shows them; two links differ."""
    signer = Signer(SECRET)
    first = signer.sign(SIGN_IN, "email:alice@example.com", "2.4", timedelta(minutes=15))
    second = signer.sign(SIGN_IN, "email:alice@example.com", "2.4", timedelta(minutes=15))
    assert first != second
    for token in (first, second):
        assert b"alice" not in _bytes_of(token)
        assert "alice" not in token
        grant = signer.read(SIGN_IN, token)
        assert grant is not None
        assert (grant.person, grant.version) == ("email:alice@example.com", "2.4")


def test_a_token_is_good_for_its_use_its_secret_and_its_time_only() -> None:
    """Another use, another secret, an altered byte or a passed expiry: nothing is granted."""
    clock = Clock()
    signer = Signer(SECRET, clock=clock)
    token = signer.sign(SIGN_IN, "shell:dana", "2.4", timedelta(minutes=15))
    assert signer.read(SESSION, token) is None  # a sign-in link is not a session cookie
    assert Signer(SECRET[::-1], clock=clock).read(SIGN_IN, token) is None
    sealed, mac = token.split(".")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert signer.read(SIGN_IN, f"{flipped}.{mac}") is None
    assert signer.read(SIGN_IN, "not-a-token") is None
    clock.now += 15 * 60 + 1
    assert signer.read(SIGN_IN, token) is None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Signer(b"short")


@pytest.mark.parametrize(
    ("header", "person"),
    [
        ("Alice@Example.com", "email:alice@example.com"),
        ("slack:U0123ABC", "slack:U0123ABC"),
        ("", None),
        ("alice", None),  # not an address, not an id: nobody
        ("a b@example.com", None),
    ],
)
def test_a_proxy_header_names_a_person(header: str, person: str | None) -> None:
    assert person_from_header(header) == person
