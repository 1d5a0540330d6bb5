"""Personal acknowledgement tokens: an opaque mail id, signed with HMAC-SHA256.

``<id>.<mac>``, both base64url without padding. The id is the mail's envelope id (16
bytes: a hash of the delivery, keyed with the mail secret when there is one, so it says
nothing readable about who the mail went to); the MAC is HMAC-SHA256, truncated to 128
bits, over it with ``HERALD_LINK_SECRET``. Guessing a valid token is as hard as forging
the MAC; no table is needed, and every Herald process with the same secrets accepts the
same links. How long a link works is the group's (``ack_link_valid_for``, from when its
mail was sent), read from the plan when the link is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

_CONTEXT = b"herald-ack-v2\x00"  # domain separation: this MAC means only "acknowledgement link"
_ID_BYTES = 16
_MAC_BYTES = 16


def encode(data: bytes) -> str:
    """base64url without padding, as tokens carry their parts."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(text: str) -> bytes:
    """The bytes of an ``encode``d part.

    Raises:
        binascii.Error: it is not base64url.
    """
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class LinkGrant:
    """What a valid token grants: acknowledging the mail ``envid``, as its recipient, while the link is valid."""

    envid: str  # 32 hex digits: the mail's envelope id, recorded as its message reference


class AckTokens:
    """Signs and verifies acknowledgement tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the link secret must be at least 32 bytes")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, _CONTEXT + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def sign(self, envid: str) -> str:
        """The token for the mail ``envid``."""
        payload = bytes.fromhex(envid)
        return f"{encode(payload)}.{encode(self._mac(payload))}"

    def verify(self, token: str) -> LinkGrant | None:
        """The grant a token carries, or None when it was not signed with this secret or was altered."""
        encoded, dot, mac_text = token.partition(".")
        if not dot or len(token) > 200:
            return None
        try:
            payload, mac = decode(encoded), decode(mac_text)
        except (binascii.Error, ValueError):
            return None
        if len(payload) != _ID_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        return LinkGrant(payload.hex())
