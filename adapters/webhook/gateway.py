"""Posting communiqués to ``webhook:URL`` destinations as JSON signed the Standard Webhooks way.

The body is the release, the group and the communiqué as text and HTML. Each post
carries ``webhook-id`` (the same on every retry of a delivery, so a receiver drops a
repeat), ``webhook-timestamp`` (when it was sent, Unix seconds) and ``webhook-signature:
v1,<base64>``, the HMAC-SHA256 of ``{id}.{timestamp}.{body}``
(<https://www.standardwebhooks.com>): a receiver that checks the signature and refuses a
timestamp more than five minutes off cannot be fooled by a captured post replayed later.
The key is the receiver's own secret where there is one (``webhook:env:NAME`` reads
``NAME_SECRET``), else ``HERALD_WEBHOOK_SECRET``; a secret written ``whsec_<base64>``
(as the Standard Webhooks libraries make them) is its decoded bytes. ``X-Herald-Delivery``
still carries the delivery key. Plain ``http://`` is refused except to this machine
(``HERALD_WEBHOOK_INSECURE=on`` allows it): the communiqué and its signature would travel
in the clear. 2xx is delivered; 429 waits for Retry-After; any other
4xx (and a redirect, which is not followed) is permanent; 5xx, timeouts and connection
errors are retried by the engine. An ``https://`` receiver's certificate is verified
(aiohttp's default: the system's CAs, or ``SSL_CERT_FILE``); one that does not verify gets
nothing, and the failure is not in doubt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from adapters import env_urls
from adapters.email.content import html_fragment
from adapters.retry_after import retry_after as parse_retry_after
from adapters.tls import certificate_failure, why_untrusted
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.service.limits import Limits, Rate
from bot.service.ports import OutgoingMessage, Resolution, ResolvedTarget

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DELIVERY_HEADER = "X-Herald-Delivery"
WEBHOOK_LIMITS = Limits(name="webhook", per_target=Rate(1.0, burst=2.0), ceiling=Rate(20.0, burst=20.0))
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def key_of(secret: str) -> bytes:
    """The HMAC key a secret stands for: ``whsec_<base64>`` decoded, anything else as its UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` and the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_id(delivery_key: str) -> str:
    """The post's ``webhook-id``: the same for every attempt of one delivery."""
    return "msg_" + hashlib.sha256(delivery_key.encode()).hexdigest()[:32]


def receiver_secret(address: str) -> str | None:
    """The receiver's own secret, for ``env:NAME`` addresses whose ``NAME_SECRET`` is set."""
    if not address.startswith("env:"):
        return None
    return os.environ.get(address.removeprefix("env:") + "_SECRET", "").strip() or None


def insecure_problem(url: str, *, allow_insecure: bool) -> str | None:
    """Why a receiver URL may not be posted to, or None."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return None
    if parts.scheme != "http":
        return f"a webhook URL must start with https:// (got {parts.scheme or 'no'} scheme)"
    if allow_insecure or (parts.hostname or "") in _LOOPBACK:
        return None
    return (
        "http:// would send the communiqué and its signature in the clear; use https:// "
        "(or set HERALD_WEBHOOK_INSECURE=on for a receiver on a trusted network)"
    )


def payload(message: OutgoingMessage) -> dict[str, Any]:
    """What a receiver gets, as JSON."""
    return {
        "release": message.version,
        "product": message.product,
        "group": message.group_id,
        "group_name": message.group_name,
        "purpose": message.purpose.value,
        "text": message.text,
        "html": html_fragment(message.text),
        "delivery": message.delivery_key,
        "attempt": message.attempt,
    }


class WebhookDirectory:
    """A web page or service is one target; nobody there acknowledges."""

    def __init__(self, *, allow_insecure: bool = False) -> None:
        self._allow_insecure = allow_insecure

    async def resolve(self, destination: Destination) -> Resolution:
        problem = env_urls.missing(destination.address) or insecure_problem(
            env_urls.url_of(destination.address, "webhook"), allow_insecure=self._allow_insecure
        )
        if problem is not None:
            return Resolution(destination, (), problem=problem)
        return Resolution(destination, (ResolvedTarget(str(destination), Kind.WEBHOOK, ()),))


class WebhookMessenger:
    """POSTs each message in its own short-lived HTTP session."""

    def __init__(
        self,
        secret: str,
        *,
        timeout: float = 10.0,
        allow_insecure: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._allow_insecure = allow_insecure
        self._clock = clock

    async def send(self, message: OutgoingMessage) -> str:
        url = env_urls.url_of(message.to.id, "webhook")
        refused = insecure_problem(url, allow_insecure=self._allow_insecure)
        if refused is not None:
            raise PermanentDeliveryError(f"webhook: {refused}")
        body = json.dumps(payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        key = key_of(receiver_secret(message.to.id) or self._secret)
        post_id, timestamp = webhook_id(message.delivery_key), int(self._clock())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Herald",
            ID_HEADER: post_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(key, post_id, timestamp, body),
            DELIVERY_HEADER: message.delivery_key,
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(url, data=body, headers=headers, allow_redirects=False) as response,
            ):
                status = response.status
                retry_after = response.headers.get("Retry-After", "")
        except (TimeoutError, aiohttp.ClientError) as error:
            untrusted = certificate_failure(error)
            if untrusted is not None:  # refused before a byte of the post left: not in doubt
                why = why_untrusted(untrusted, ca_setting="SSL_CERT_FILE")
                refused = f"webhook: the server was not trusted, so nothing was sent to it: {why}"
                raise RetryableDeliveryError(refused) from None
            # The receiver may have it (in doubt): X-Herald-Delivery lets it drop the repeat.
            raise RetryableDeliveryError(f"webhook did not answer: {type(error).__name__}", uncertain=True) from None
        if 200 <= status < 300:
            return f"webhook:{post_id.removeprefix('msg_')}"
        if status == 429:
            raise RateLimited(
                "webhook: HTTP 429", retry_after=parse_retry_after(retry_after, default=5.0), scope="target"
            )
        if status >= 500:
            raise RetryableDeliveryError(f"webhook: HTTP {status}")
        if 300 <= status < 400:
            raise PermanentDeliveryError(f"webhook: HTTP {status} (redirects are not followed; give the final URL)")
        raise PermanentDeliveryError(f"webhook: HTTP {status}")
