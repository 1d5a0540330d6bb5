"""Release version strings."""

from __future__ import annotations

import re

from bot.domain.errors import CommandError

_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){0,3}([-+][0-9A-Za-z][0-9A-Za-z.\-]{0,40})?\Z")


def parse_version(text: str) -> str:
    """Return the canonical form of a release version (``v2.4`` -> ``2.4``).

    Raises:
        CommandError: when the text is not a version number.
    """
    candidate = text.strip()
    if candidate[:1] in ("v", "V") and candidate[1:2].isdigit():
        candidate = candidate[1:]
    if not _VERSION.match(candidate):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise CommandError(f"“{shown}” is not a release version; write it like 2.4, 2.4.1 or 3.0.0-rc.1.")
    return candidate
