"""Sending communiqués through Apprise to the services it knows (PagerDuty, Teams, Opsgenie, …).

Apprise answers one yes or no per notification: yes marks the delivery sent; no is
treated as a failure that may pass (most are a service briefly down), so the engine
tries again with backoff and, after its last attempt, records the delivery as failed.
A URL Apprise cannot read fails at once. ``apprise:env:NAME`` reads the URL from the
environment at send time, so a service's key need not be written in the plan. Nobody
acknowledges through these services: they carry no personal link or button.

Apprise checks every service's TLS certificate unless its URL says ``verify=no``; Herald
refuses such a URL (a permanent failure, nothing sent) unless the operator allowed it with
``HERALD_APPRISE_INSECURE=on``, which ``herald run`` logs at start.
"""

from __future__ import annotations

import hashlib

import apprise

from adapters import env_urls
from adapters.email.content import plain_text
from bot.domain.destinations import Destination, Kind, Target
from bot.domain.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.service.limits import Limits, Rate
from bot.service.ports import OutgoingMessage, Resolution, ResolvedTarget

APPRISE_LIMITS = Limits(name="apprise", per_target=Rate(1.0, burst=1.0), ceiling=Rate(5.0, burst=5.0))


class AppriseDirectory:
    """An Apprise URL is one target; nobody there acknowledges."""

    async def resolve(self, destination: Destination) -> Resolution:
        problem = env_urls.missing(destination.address)
        if problem is not None:
            return Resolution(destination, (), problem=problem)
        return Resolution(destination, (ResolvedTarget(str(destination), Kind.WEBHOOK, ()),))


class AppriseMessenger:
    """Notifies one Apprise URL per message."""

    def __init__(self, *, timeout: float = 30.0, allow_unverified: bool = False) -> None:
        self._timeout = timeout
        self._allow_unverified = allow_unverified

    def _url(self, target: Target) -> str:
        return env_urls.url_of(target.id, "apprise")

    async def send(self, message: OutgoingMessage) -> str:
        notifier = apprise.Apprise()
        if not notifier.add(self._url(message.to)):
            # The URL is not repeated: it may hold the service's key.
            raise PermanentDeliveryError("apprise: not a URL Apprise can notify (check its scheme and fields)")
        if not self._allow_unverified and any(not service.verify_certificate for service in notifier):
            raise PermanentDeliveryError(
                "apprise: the URL turns off the service's certificate check (verify=no), "
                "which Herald refuses unless HERALD_APPRISE_INSECURE=on"
            )
        title = f"{message.product} {message.version} · {message.group_name}"
        result = await notifier.async_notify(body=plain_text(message.text), title=title, timeout=self._timeout)
        if not result:
            raise RetryableDeliveryError("apprise: the service did not accept the notification")
        return f"apprise:{hashlib.sha256(message.delivery_key.encode()).hexdigest()[:32]}"
