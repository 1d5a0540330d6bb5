"""The message a delivery carries, as every messenger and every redraw of a copy sees it."""

from __future__ import annotations

from bot.domain.delivery import Delivery, Purpose
from bot.domain.destinations import Kind, Platform, parse_destination
from bot.domain.plan import AckPolicy, Plan
from bot.service.ports import OutgoingMessage


def outgoing(plan: Plan, delivery: Delivery, text: str) -> OutgoingMessage | None:
    """What ``delivery`` sends: ``text`` with its group's receipt policy; None if the group left the plan."""
    group = next((g for g in plan.groups if g.id == delivery.group_id), None)
    if group is None:
        return None
    ack = group.ack
    if delivery.kind is Kind.WEBHOOK or delivery.purpose in (Purpose.ESCALATION, Purpose.RETRACTION):
        ack = AckPolicy.NONE  # nobody acknowledges a web page, a note to a manager, or a withdrawal
    return OutgoingMessage(
        delivery_key=delivery.key,
        version=delivery.version,
        product=plan.product,
        group_id=group.id,
        group_name=group.name,
        target=delivery.target,
        kind=delivery.kind,
        text=text,
        ack=ack,
        purpose=delivery.purpose,
        attempt=delivery.attempts,
        allow_mentions=group.allow_broadcast_mentions,
        sender=group.sender,
        unsubscribe=_subscribed_by(delivery),
    )


def _subscribed_by(delivery: Delivery) -> str | None:
    """The component whose subscribers ``delivery`` reached (``*``: any), if it came through subscriptions."""
    if not delivery.via.startswith(f"{Platform.SUBSCRIBERS.value}:") or delivery.purpose is Purpose.ESCALATION:
        return None
    return parse_destination(delivery.via).address


def tally_text(acknowledged: int, expected: int) -> str:
    """A copy's own count, as shown under it."""
    return f"{acknowledged} of {expected} acknowledged" if expected else f"{acknowledged} acknowledged"
