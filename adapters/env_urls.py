"""URLs that hold a secret, kept out of the plan: ``webhook:env:NAME``, ``apprise:env:NAME``.

A web hook's or a paging service's URL often carries its key. The plan (which lives in a
repository) may name an environment variable instead; the URL is read when the message
is sent, and no message, log line or status ever repeats it.
"""

from __future__ import annotations

import os

from bot.domain.errors import PermanentDeliveryError

_PREFIX = "env:"


def missing(address: str) -> str | None:
    """For ``env:NAME`` whose variable is unset: the sentence saying so; else None."""
    if not address.startswith(_PREFIX):
        return None
    name = address.removeprefix(_PREFIX)
    return None if os.environ.get(name, "").strip() else f"the environment variable {name} is not set"


def url_of(address: str, medium: str) -> str:
    """The URL an address stands for: itself, or the value of ``env:NAME``.

    Raises:
        PermanentDeliveryError: when the variable is not set.
    """
    problem = missing(address)
    if problem is not None:
        raise PermanentDeliveryError(f"{medium}: {problem}")
    if address.startswith(_PREFIX):
        return os.environ[address.removeprefix(_PREFIX)].strip()
    return address
