"""Destinations in the shell workspace: real shell channels and people, everything else simulated."""

from __future__ import annotations

from adapters.shell.world import ShellWorld
from bot.domain.destinations import Destination, Kind, Platform
from bot.service.ports import Resolution, ResolvedTarget


class ShellDirectory:
    """Resolves ``shell:#channel`` to its members and ``shell:@name`` to that person."""

    def __init__(self, world: ShellWorld) -> None:
        self._world = world

    async def resolve(self, destination: Destination) -> Resolution:
        if destination.kind is Kind.CHANNEL:
            members = self._world.channels.get(destination.address)
            if members is None:
                known = ", ".join(f"#{c}" for c in sorted(self._world.channels)) or "none"
                return Resolution(
                    destination,
                    (),
                    problem=f"no channel #{destination.address} in the shell workspace (channels: {known})",
                )
            audience = tuple(f"shell:{m}" for m in members)
            return Resolution(destination, (ResolvedTarget(str(destination), Kind.CHANNEL, audience),))
        return Resolution(destination, (ResolvedTarget(str(destination), Kind.DM, (f"shell:{destination.address}",)),))


class SimulatedDirectory:
    """Stands in for a platform that is not configured, so the plan runs end to end locally.

    Channels and user groups cannot be listed without the platform, so nobody is
    expected from them in advance; DMs and mailboxes expect their one person.
    """

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def resolve(self, destination: Destination) -> Resolution:
        person = destination.person
        audience = (person,) if person else ()
        return Resolution(
            destination,
            (ResolvedTarget(str(destination), destination.kind, audience),),
            note="simulated locally",
        )
