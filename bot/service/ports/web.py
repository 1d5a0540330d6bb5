"""What the desk asks of Herald's web pages: a private sign-in link for one person."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol


class SignInLinks(Protocol):
    """Makes short-lived, signed links that sign one person in to the web pages."""

    @property
    def valid_for(self) -> timedelta:
        """How long a link works once made."""
        ...

    def dashboard_link(self, person: str, version: str) -> str:
        """A link that signs ``person`` in and opens release ``version``'s dashboard."""
        ...
