"""Posting communiqués to ``webhook:URL`` destinations as JSON signed with HMAC-SHA256.

The body is the release, the group and the communiqué as text and HTML. The signature,
``X-Herald-Signature: sha256=<hex>``, is HMAC-SHA256 over the raw body with
``HERALD_WEBHOOK_SECRET``, so the receiver can check the post came from Herald and was
not altered. ``X-Herald-Delivery`` carries the delivery key: the same on every retry,
so a receiver can drop a repeat. 2xx is delivered; 429 waits for Retry-After; any other
4xx (and a redirect, which is not followed) is permanent; 5xx, timeouts and connection
errors are retried by the engine. An ``https://`` receiver's certificate is verified
(aiohttp's default: the system's CAs, or ``SSL_CERT_FILE``); one that does not verify gets
nothing, and the failure is not in doubt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import aiohttp

from adapters import env_urls
from adapters.email.content import html_fragment
from adapters.retry_after import retry_after as parse_retry_after
from adapters.tls import certificate_failure, why_untrusted
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.service.limits import Limits, Rate
from bot.service.ports import OutgoingMessage, Resolution, Target

SIGNATURE_HEADER = "X-Herald-Signature"
DELIVERY_HEADER = "X-Herald-Delivery"
WEBHOOK_LIMITS = Limits(name="webhook", per_target=Rate(1.0, burst=2.0), ceiling=Rate(20.0, burst=20.0))


def signature(secret: bytes, body: bytes) -> str:
    """The ``X-Herald-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


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

    async def resolve(self, destination: Destination) -> Resolution:
        problem = env_urls.missing(destination.address)
        if problem is not None:
            return Resolution(destination, (), problem=problem)
        return Resolution(destination, (Target(str(destination), Kind.WEBHOOK, ()),))


class WebhookMessenger:
    """POSTs each message in its own short-lived HTTP session."""

    def __init__(self, secret: bytes, *, timeout: float = 10.0) -> None:
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: OutgoingMessage) -> str:
        url = env_urls.url_of(message.target.split(":", 1)[1], "webhook")
        body = json.dumps(payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Herald",
            SIGNATURE_HEADER: signature(self._secret, body),
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
            return f"webhook:{hashlib.sha256(message.delivery_key.encode()).hexdigest()[:32]}"
        if status == 429:
            raise RateLimited(
                "webhook: HTTP 429", retry_after=parse_retry_after(retry_after, default=5.0), scope="target"
            )
        if status >= 500:
            raise RetryableDeliveryError(f"webhook: HTTP {status}")
        if 300 <= status < 400:
            raise PermanentDeliveryError(f"webhook: HTTP {status} (redirects are not followed; give the final URL)")
        raise PermanentDeliveryError(f"webhook: HTTP {status}")
