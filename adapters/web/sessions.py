"""Who is looking at Herald's web pages: sign-in links, the session cookie, CSRF tokens, a trusted proxy header.

Everything is sealed with ``HERALD_LINK_SECRET`` (encrypted and MACed with keys derived
from it, one context string per use, so a sign-in token is never a session and neither is
an acknowledgement link; a token names nobody readably); no table is needed and every
Herald process with the same secret agrees. A sign-in link
names the person and expires after ``SIGN_IN_VALID_FOR``; opening it shows a button, and
only pressing it (a POST) sets the session cookie: link scanners and unfurlers that fetch
URLs never sign in. The cookie is ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the
public URL is https, and expires after ``SESSION_VALID_FOR``. Every POST carries a CSRF
token bound to the session and comes from Herald's own origin.

Behind an authenticating proxy, ``HERALD_WEB_TRUSTED_HEADER`` names the header that
carries the signed-in person (``alice@example.com`` or a full id such as
``slack:U0123``); the proxy must drop that header from what clients send.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlsplit

from aiohttp import web

from adapters.web.tokens import decode, encode

SIGN_IN_VALID_FOR = timedelta(minutes=15)
SESSION_VALID_FOR = timedelta(hours=12)
COOKIE = "herald_session"
_SIGN_IN = b"herald-sign-in-v1\x00"
_SESSION = b"herald-session-v1\x00"
_CSRF = b"herald-csrf-v1\x00"
_MAC_BYTES = 16
_NONCE_BYTES = 16


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid token says: who, for which release (sign-in only), until when (epoch seconds)."""

    person: str
    version: str
    expires: int


class Signer:
    """Seals and reads ``sealed.mac`` tokens that carry a person, a release and an expiry.

    The payload is encrypted, so a link in a proxy's log or a browser's history names nobody:
    a stream cipher from HMAC-SHA256 in counter mode under a fresh 16-byte nonce, then a MAC
    over nonce and ciphertext (encrypt-then-MAC), each with its own key derived from the
    secret. Only the standard library is needed, and any process with the secret reads it.
    """

    def __init__(self, secret: bytes, *, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 32:
            raise ValueError("the link secret must be at least 32 bytes")
        self._mac_key = hmac.new(secret, b"herald-web-mac", hashlib.sha256).digest()
        self._stream_key = hmac.new(secret, b"herald-web-stream", hashlib.sha256).digest()
        self._clock = clock

    def _mac(self, context: bytes, payload: bytes) -> bytes:
        return hmac.new(self._mac_key, context + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def _stream(self, nonce: bytes, length: int) -> bytes:
        blocks = (
            hmac.new(self._stream_key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
            for counter in range(-(-length // 32))
        )
        return b"".join(blocks)[:length]

    def sign(self, context: bytes, person: str, version: str, valid_for: timedelta) -> str:
        """A token for ``person`` (and ``version``), valid for ``valid_for`` from now."""
        expires = int(self._clock() + valid_for.total_seconds())
        plain = json.dumps([person, version, expires], separators=(",", ":")).encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = nonce + bytes(a ^ b for a, b in zip(plain, self._stream(nonce, len(plain)), strict=True))
        return f"{encode(sealed)}.{encode(self._mac(context, sealed))}"

    def read(self, context: bytes, token: str) -> Grant | None:
        """The grant of a token sealed for ``context`` and not yet expired; None otherwise."""
        encoded, dot, mac_text = token.partition(".")
        if not dot or len(token) > 800:
            return None
        try:
            sealed, mac = decode(encoded), decode(mac_text)
        except (binascii.Error, ValueError):
            return None
        if len(sealed) <= _NONCE_BYTES or not hmac.compare_digest(mac, self._mac(context, sealed)):
            return None
        nonce, cipher = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        plain = bytes(a ^ b for a, b in zip(cipher, self._stream(nonce, len(cipher)), strict=True))
        try:
            person, version, expires = json.loads(plain)
        except (ValueError, TypeError):
            return None
        if not (isinstance(person, str) and isinstance(version, str) and isinstance(expires, int)):
            return None
        return Grant(person, version, expires) if expires > self._clock() else None

    def csrf(self, session: str) -> str:
        """The CSRF token of a session: forms carry it, and a POST without it is refused."""
        return encode(self._mac(_CSRF, session.encode()))


class WebLinks:
    """Sign-in links to the dashboard (the desk's ``SignInLinks``)."""

    valid_for = SIGN_IN_VALID_FOR

    def __init__(self, public_url: str, signer: Signer) -> None:
        self._base = public_url.rstrip("/")
        self._signer = signer

    def dashboard_link(self, person: str, version: str) -> str:
        """``PUBLIC_URL/signin/<token>``: signs ``person`` in, then opens ``version``'s dashboard."""
        return f"{self._base}/signin/{self._signer.sign(_SIGN_IN, person, version, self.valid_for)}"


class Viewers:
    """Reads who is signed in to a request, and signs people in and out."""

    def __init__(self, public_url: str, signer: Signer, *, trusted_header: str | None = None) -> None:
        parts = urlsplit(public_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.secure = parts.scheme == "https"
        self._signer = signer
        self._trusted_header = trusted_header

    def sign_in_grant(self, token: str) -> Grant | None:
        """What a sign-in link grants (None: altered, or expired)."""
        return self._signer.read(_SIGN_IN, token)

    def viewer(self, request: web.Request) -> str | None:
        """The signed-in person: the trusted proxy's header when configured, else the session cookie."""
        if self._trusted_header is not None:
            return person_from_header(request.headers.get(self._trusted_header, ""))
        session = request.cookies.get(COOKIE, "")
        grant = self._signer.read(_SESSION, session) if session else None
        return grant.person if grant is not None else None

    def csrf_token(self, request: web.Request) -> str:
        """The token a form on this page must send back."""
        if self._trusted_header is not None:  # no cookie of ours: bind the token to the person instead
            return self._signer.csrf("header:" + (self.viewer(request) or ""))
        return self._signer.csrf(request.cookies.get(COOKIE, ""))

    async def check_post(self, request: web.Request) -> bool:
        """Whether a POST comes from Herald's own pages: its origin, and its form's CSRF token."""
        origin = request.headers.get("Origin")
        if origin is not None and origin != self.origin:
            return False
        form = await request.post()
        sent = str(form.get("csrf", ""))
        return bool(sent) and hmac.compare_digest(sent, self.csrf_token(request))

    def sign_in(self, response: web.StreamResponse, person: str) -> None:
        """Set the session cookie on ``response``."""
        token = self._signer.sign(_SESSION, person, "", SESSION_VALID_FOR)
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(SESSION_VALID_FOR.total_seconds()),
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )

    def sign_out(self, response: web.StreamResponse) -> None:
        """Clear the session cookie."""
        response.del_cookie(COOKIE, path="/")


def person_from_header(value: str) -> str | None:
    """A person id from a proxy's header: ``alice@example.com`` is ``email:alice@example.com``."""
    value = value.strip()
    if not value or len(value) > 200 or any(c.isspace() for c in value):
        return None
    if value.startswith(("slack:", "discord:", "email:", "shell:")):
        return value
    return f"email:{value.lower()}" if "@" in value else None


def dashboard_path(version: str) -> str:
    """Where release ``version``'s dashboard is."""
    return f"/dashboard/{quote(version, safe='')}"
