"""How a mail of Herald's is named on the wire, so that what comes back finds its delivery.

Two names, both derived from the delivery's key:

- the **envelope id**, 32 hex digits: the DSN ``ENVID`` and the left part of the
  Message-ID. With a secret it is an HMAC of the key, so nobody can work out the
  envelope id of someone else's mail from the address and the version (they would need
  the secret); without one it is a plain hash, which is enough to match reports but not
  to trust them.
- the **return path** (VERP): with ``HERALD_BOUNCE_ADDRESS=bounces@lists.example.com``
  each mail's envelope sender is ``bounces+<ref>@lists.example.com``, where ``<ref>`` is
  the envelope id and a MAC over it, in lower-case base32 (39 characters, so the local
  part stays under SMTP's 64). A bounce goes back to that address whatever else it
  forgets to say, and a ref whose MAC does not verify was forged or altered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import getaddresses

_ENVID_CONTEXT = b"herald-envid-v1\x00"
_RETURN_CONTEXT = b"herald-return-path-v1\x00"
_ENVID_BYTES = 16
_MAC_BYTES = 8
_REF_LENGTH = 39  # base32 of 16 + 8 bytes, without padding


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _unb32(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


@dataclass(frozen=True, slots=True)
class ReturnPathRef:
    """What a mail's return path says about it: the envelope id it carries, or that it was forged."""

    envid: str | None  # the envelope id a verified ref names
    address: str  # the return-path address it was found in
    forged: bool = False  # it has the form of Herald's return path, but its MAC does not verify


class MailRefs:
    """Names Herald's mails (envelope ids, return paths) and checks the names that come back."""

    def __init__(self, secret: bytes | None = None, bounce_address: Address | None = None) -> None:
        """``bounce_address`` needs ``secret``: a return path nobody can forge is the point of it.

        Raises:
            ValueError: a bounce address without a secret, or a secret shorter than 32 bytes.
        """
        if secret is not None and len(secret) < 32:
            raise ValueError("the secret that signs return paths must be at least 32 bytes")
        if bounce_address is not None and secret is None:
            raise ValueError("a bounce address needs a secret to sign its return paths")
        self._secret = secret
        self._bounce = bounce_address

    @property
    def keyed(self) -> bool:
        """Whether envelope ids are keyed, so that a report naming one can be trusted."""
        return self._secret is not None

    @property
    def bounce_address(self) -> Address | None:
        """The base address of the return paths (``HERALD_BOUNCE_ADDRESS``), if VERP is on."""
        return self._bounce

    def envelope_id(self, delivery_key: str) -> str:
        """The delivery's envelope id: 32 lower-case hex digits."""
        if self._secret is None:
            return hashlib.sha256(delivery_key.encode()).hexdigest()[: _ENVID_BYTES * 2]
        mac = hmac.new(self._secret, _ENVID_CONTEXT + delivery_key.encode(), hashlib.sha256)
        return mac.hexdigest()[: _ENVID_BYTES * 2]

    def _mac(self, envid: bytes) -> bytes:
        assert self._secret is not None
        return hmac.new(self._secret, _RETURN_CONTEXT + envid, hashlib.sha256).digest()[:_MAC_BYTES]

    def return_path(self, envid: str) -> str | None:
        """``bounces+<ref>@domain`` for the mail ``envid``; None when no bounce address is set."""
        if self._bounce is None:
            return None
        raw = bytes.fromhex(envid)
        return f"{self._bounce.username}+{_b32(raw + self._mac(raw))}@{self._bounce.domain}"

    def returned(self, addresses: Iterable[str]) -> ReturnPathRef | None:
        """The return-path ref among the addresses a mail was delivered to; None if it names none.

        A ref that verifies wins over one that does not, so a forged address in ``Cc``
        cannot hide the real one in ``Delivered-To``.
        """
        if self._bounce is None:
            return None
        base = self._bounce.username.lower() + "+"
        domain = self._bounce.domain.lower()
        forged: ReturnPathRef | None = None
        for address in addresses:
            local, at, host = address.strip().lower().rpartition("@")
            if not at or host != domain or not local.startswith(base):
                continue
            envid = self._verified(local[len(base) :])
            if envid is not None:
                return ReturnPathRef(envid, address)
            forged = forged or ReturnPathRef(None, address, forged=True)
        return forged

    def _verified(self, ref: str) -> str | None:
        if len(ref) != _REF_LENGTH:
            return None
        try:
            raw = _unb32(ref)
        except (binascii.Error, ValueError):
            return None
        envid, mac = raw[:_ENVID_BYTES], raw[_ENVID_BYTES:]
        return envid.hex() if hmac.compare_digest(mac, self._mac(envid)) else None


def delivered_to(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The addresses a mail was delivered to, from the headers MTAs write them in."""
    wanted = {"to", "cc", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-delivered-to"}
    values = [value for name, value in headers if name.lower() in wanted]
    return [address for _name, address in getaddresses(values) if "@" in address]
