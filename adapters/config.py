"""What every adapter's configuration section is made of: secrets that never print, and two shared readers.

Each adapter owns its section of the settings (``adapters/<name>/config.py``: the type and
the function that reads it from the environment); ``bot.settings`` composes them and hands
each adapter only its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


class Secret:
    """A token or secret: usable by the code that needs it, never shown in a repr or a log."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one call that sends it to the platform."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def switch(values: Mapping[str, str], name: str, problems: list[str]) -> bool:
    """An ``on``/``off`` setting that is off unless set."""
    text = values.get(name, "").strip().lower() or "off"
    if text not in ("on", "off"):
        problems.append(f"{name} must be on or off (got {text[:10]!r})")
    return text == "on"


def ca_file(values: Mapping[str, str], name: str, problems: list[str]) -> Path | None:
    """A file of PEM CA certificates to trust instead of the system's; None for the system's."""
    text = values.get(name, "").strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        problems.append(f"{name} must name a file of PEM CA certificates ({text[:80]!r} is not a file)")
        return None
    return path
