"""The shell workspace's people and channels, and everything posted in them."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.errors import ConfigError

_DEFAULT_CHANNELS = {"releases": ("deployer", "lead")}


@dataclass(frozen=True, slots=True)
class Posted:
    """One message as it landed in the workspace."""

    ref: str
    where: str  # "#engineering", "@sam", or a simulated destination such as "slack:#eng-announce"
    text: str
    group_id: str
    group_name: str
    version: str
    ack_hint: bool
    purpose: str = "communique"


@dataclass(slots=True)
class ShellWorld:
    """Channels with their members, and the log of what was delivered where."""

    channels: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(_DEFAULT_CHANNELS))
    posted: list[Posted] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None) -> ShellWorld:
        """Read ``[channels] name = ["member", ...]`` from a TOML file (optional).

        Raises:
            ConfigError: when the file exists but is not usable.
        """
        if path is None or not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"The shell workspace file {path} cannot be read: {error}") from None
        channels = data.get("channels", {})
        if not isinstance(channels, dict) or not all(
            isinstance(m, list) and all(isinstance(x, str) for x in m) for m in channels.values()
        ):
            raise ConfigError(f"{path}: [channels] must map each channel name to a list of people.")
        return cls(channels={name.lstrip("#"): tuple(members) for name, members in channels.items()})

    def post(
        self,
        *,
        key: str,
        where: str,
        text: str,
        group_id: str,
        group_name: str,
        version: str,
        ack_hint: bool,
        purpose: str = "communique",
    ) -> Posted:
        """Record a delivered message; its ref is stable for the same delivery key."""
        ref = "m-" + hashlib.sha256(key.encode()).hexdigest()[:6]
        posted = Posted(ref, where, text, group_id, group_name, version, ack_hint, purpose)
        self.posted.append(posted)
        return posted
