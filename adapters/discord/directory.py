"""Discord destinations resolved into targets and their audience: channels, users, and roles' members."""

from __future__ import annotations

import discord

from adapters.discord import translate
from adapters.discord.errors import FAILURES, delivery_error
from adapters.discord.gateway import DiscordGateway
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.service.ports import Resolution, ResolvedTarget


class DiscordDirectory:
    """Resolves Discord destinations: channels, users, and roles into their members."""

    def __init__(self, gateway: DiscordGateway) -> None:
        self._gateway = gateway

    async def resolve(self, destination: Destination) -> Resolution:
        try:
            return await self._resolve(destination)
        except (PermanentDeliveryError, RetryableDeliveryError, RateLimited) as error:
            return Resolution.failed(destination, error)

    async def _resolve(self, destination: Destination) -> Resolution:
        gateway = self._gateway
        if destination.kind is Kind.CHANNEL:
            channel = int(destination.address)
            try:
                await gateway.patiently(lambda: gateway.client.fetch_channel(channel), f"discord:channel:{channel}")
            except (discord.NotFound, discord.Forbidden):
                return Resolution(
                    destination,
                    (),
                    problem=f"no channel {channel} that Herald can see (invite the bot, check its role)",
                )
            except FAILURES as error:
                raise delivery_error(error) from None
            # Reading a channel's members needs the privileged intent; anyone who reacts counts.
            return Resolution(destination, (ResolvedTarget(str(destination), Kind.CHANNEL, ()),))
        if destination.kind is Kind.GROUP:
            guild, _, role = destination.address.partition("/")
            users = await gateway.role_members(int(guild), int(role))
            if not users:
                return Resolution(destination, (), problem="nobody holds that role (or it does not exist)")
            return Resolution(
                destination,
                tuple(ResolvedTarget(f"discord:user:{u}", Kind.DM, (translate.person(u),)) for u in sorted(set(users))),
            )
        return Resolution(
            destination, (ResolvedTarget(str(destination), Kind.DM, (translate.person(destination.address),)),)
        )
