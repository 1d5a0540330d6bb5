"""Slack destinations resolved into targets and their audience: channels, user groups and e-mail addresses."""

from __future__ import annotations

from adapters.slack import translate
from adapters.slack.gateway import SlackGateway
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.service.ports import Resolution, ResolvedTarget


class SlackDirectory:
    """Resolves Slack destinations: channels to their members, user groups and e-mail addresses to users."""

    def __init__(self, gateway: SlackGateway) -> None:
        self._gateway = gateway

    async def resolve(self, destination: Destination) -> Resolution:
        try:
            return await self._resolve(destination)
        except (PermanentDeliveryError, RetryableDeliveryError) as error:
            return Resolution.failed(destination, error)

    async def _resolve(self, destination: Destination) -> Resolution:
        gateway = self._gateway
        if destination.kind is Kind.CHANNEL:
            channel = destination.address
            if channel.startswith("#"):
                found = await gateway.channel_id(channel[1:])
                if found is None:
                    return Resolution(
                        destination, (), problem=f"no channel {channel} that Herald can see (invite the app)"
                    )
                channel = found
            members = tuple(translate.person(m) for m in await gateway.members(channel))
            return Resolution(destination, (ResolvedTarget(f"slack:{channel}", Kind.CHANNEL, members),))
        if destination.kind is Kind.GROUP:
            data = await gateway.call("usergroups.users.list", usergroup=destination.address)
            users = [str(u) for u in data.get("users", [])]
            if not users:
                return Resolution(destination, (), problem="the user group has no members")
            bots = await gateway.bots()  # deactivated accounts and bots: named by the group, never messaged
            return Resolution(
                destination,
                tuple(_dm(u) for u in users if u not in bots),
                excluded=tuple((_dm(u), bots[u]) for u in users if u in bots),
            )
        if destination.address.startswith("email:"):
            user = await gateway.user_by_email(destination.address[len("email:") :])
            return Resolution(destination, (ResolvedTarget(f"slack:@{user}", Kind.DM, (translate.person(user),)),))
        return Resolution(
            destination, (ResolvedTarget(str(destination), Kind.DM, (translate.person(destination.address),)),)
        )


def _dm(user: str) -> ResolvedTarget:
    """A DM to ``user``, meant for them."""
    return ResolvedTarget(f"slack:@{user}", Kind.DM, (translate.person(user),))
