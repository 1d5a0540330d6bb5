"""Delivering communiqués inside the shell workspace: printed where they land."""

from __future__ import annotations

from collections.abc import Callable

from adapters.shell.world import Posted, ShellWorld
from bot.domain.destinations import Kind, Platform
from bot.domain.plan import AckPolicy
from bot.service.ports import OutgoingMessage


class ShellMessenger:
    """Posts to the local log and shows each delivery as it arrives."""

    def __init__(self, world: ShellWorld, show: Callable[[Posted], None]) -> None:
        self._world = world
        self._show = show

    async def send(self, message: OutgoingMessage) -> str:
        where = message.to.id if message.to.platform is Platform.SHELL else message.target
        posted = self._world.post(
            key=message.delivery_key,
            where=where,
            text=message.text + _way_out(message.unsubscribe),
            group_id=message.group_id,
            group_name=message.group_name,
            version=message.version,
            ack_hint=message.ack is not AckPolicy.NONE and message.kind is not Kind.WEBHOOK,
            purpose=message.purpose.value,
        )
        self._show(posted)
        return posted.ref


def _way_out(component: str | None) -> str:
    """A subscriber's one step out, under the text in the workspace."""
    if component is None:
        return ""
    return f"\n(you subscribed; to stop: /release unsubscribe{'' if component == '*' else ' ' + component})"
