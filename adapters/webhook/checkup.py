"""``herald doctor`` for webhooks: each receiver's URL is usable, and its host answers on its port."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from urllib.parse import urlsplit

from adapters import env_urls
from adapters.checkup import Finding, failed, ok
from adapters.webhook.gateway import insecure_problem
from bot.domain.destinations import Destination


async def webhook_findings(destinations: list[Destination], *, allow_insecure: bool = False) -> list[Finding]:
    """Per ``webhook:`` destination: its URL is usable (never shown if it comes from the environment); a TCP connect."""
    found: list[Finding] = []
    for destination in destinations:
        name = f"webhook {destination.address if destination.address.startswith('env:') else '#' + str(len(found) + 1)}"
        problem = env_urls.missing(destination.address)
        url = "" if problem else env_urls.url_of(destination.address, "webhook")
        problem = problem or insecure_problem(url, allow_insecure=allow_insecure)
        if problem is not None:
            found.append(failed(name, problem, "fix the destination in the plan, or the variable it names"))
            continue
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=5)
        except (OSError, TimeoutError) as error:
            found.append(failed(name, f"{host}:{port} does not answer ({type(error).__name__})", "check the receiver"))
            continue
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
        found.append(ok(name, f"{host}:{port} answers"))
    return found
