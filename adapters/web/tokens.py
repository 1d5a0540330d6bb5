"""Personal acknowledgement tokens: a delivery and a person, signed with HMAC-SHA256.

``<payload>.<mac>``, both base64url without padding: the payload is the delivery key and
the person it was addressed to; the MAC is HMAC-SHA256 over them with ``HERALD_LINK_SECRET``
(256 bits; guessing a valid one is as hard as forging the MAC). No table is needed and
every Herald process with the same secret accepts the same links. The token does not
carry its own expiry: the deadline is the group's, read from the ledger when the link is
used, so a link stops working exactly when reminders stop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

_CONTEXT = b"herald-ack-v1\x00"  # domain separation: this MAC means only "acknowledgement link"


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class LinkGrant:
    """What a valid token grants: acknowledging one delivery, as one person."""

    delivery_key: str
    person: str


class AckTokens:
    """Signs and verifies acknowledgement tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the link secret must be at least 32 bytes")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, _CONTEXT + payload, hashlib.sha256).digest()

    def sign(self, delivery_key: str, person: str) -> str:
        """The token for ``person`` acknowledging the delivery ``delivery_key``."""
        payload = delivery_key.encode() + b"\x00" + person.encode()
        return f"{_encode(payload)}.{_encode(self._mac(payload))}"

    def verify(self, token: str) -> LinkGrant | None:
        """The grant a token carries, or None when it was not signed with this secret or was altered."""
        encoded, dot, mac_text = token.partition(".")
        if not dot or len(token) > 2000:
            return None
        try:
            payload, mac = _decode(encoded), _decode(mac_text)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        key, sep, person = payload.partition(b"\x00")
        if not sep:
            return None
        try:
            return LinkGrant(key.decode(), person.decode())
        except UnicodeDecodeError:
            return None
