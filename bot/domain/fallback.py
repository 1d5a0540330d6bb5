"""Falling back to another medium: a reader who has not met a group's receipt level in time hears again elsewhere.

``fallback = [{ after = "4h", to = "email" }, { after = "8h", to = "discord" }]`` on a group:
whoever is still waiting ``after`` the group was asked gets the communiqué on the medium ``to``,
at the id the plan's ``[people]`` table lists for them there. It is one more copy of the
communiqué, addressed to the person by their canonical id, so they are still expected once and
acknowledge once, whichever copy they answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.domain.destinations import Platform


class Medium(StrEnum):
    """Where a person can be reached on their own: the platforms a ``[people]`` table lists ids on."""

    SLACK = "slack"
    DISCORD = "discord"
    SHELL = "shell"
    EMAIL = "email"


def parse_medium(value: object) -> Medium:
    """The medium named ``value``.

    Raises:
        ValueError: naming the media there are.
    """
    if isinstance(value, str) and value in set(Medium):
        return Medium(value)
    media = ", ".join(f'"{medium}"' for medium in Medium)
    raise ValueError(f"{value!r} is not a medium a person can be reached on; use one of {media}")


@dataclass(frozen=True, slots=True, kw_only=True)
class FallbackStep:
    """One step of a group's ``fallback``: who still waits ``after`` the group was asked gets it on ``to``."""

    after: timedelta
    to: Medium

    @property
    def platform(self) -> Platform:
        """The platform that carries this step's copies."""
        return Platform(self.to.value)

    def reach(self, ids: Iterable[str]) -> str | None:
        """The first of a person's ``ids`` (``platform:id``) on this step's medium (None: they have none there)."""
        return next((i for i in ids if i.partition(":")[0] == self.to.value), None)
