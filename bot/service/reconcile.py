"""Who was meant, who was reached, who confirmed: each intended person of a group in exactly one state.

A group's intended people are everyone in the audience of one of its communiqué copies,
whatever became of it (sent, failed, never attempted), and anyone who acknowledged it. Each
is counted once, at their strongest state: acknowledged, read (a read receipt), delivered (a
copy sent), pending, failed (why), never attempted (why: a deactivated account, a bot, DMs
closed), or stopped (the release was retracted first). The states add up to the intended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.receipt import Receipt


class State(IntEnum):
    """A person's state for one group, strongest last."""

    STOPPED = 0
    NEVER_ATTEMPTED = 1
    FAILED = 2
    PENDING = 3
    DELIVERED = 4
    READ = 5
    ACKNOWLEDGED = 6

    @property
    def words(self) -> str:
        """How status names it."""
        return self.name.lower().replace("_", " ")


_BY_STATUS = {
    DeliveryStatus.CANCELLED: State.STOPPED,
    DeliveryStatus.UNREACHABLE: State.NEVER_ATTEMPTED,
    DeliveryStatus.FAILED: State.FAILED,
    DeliveryStatus.PENDING: State.PENDING,
    DeliveryStatus.SENDING: State.PENDING,
    DeliveryStatus.SENT: State.DELIVERED,
}


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """One group's intended people by state, and why each who was not reached was not."""

    states: dict[State, int] = field(default_factory=dict)
    missed: tuple[tuple[str, str], ...] = ()  # (person, why) never attempted or failed, by person
    people: tuple[tuple[str, State], ...] = ()  # every intended person and their strongest state, by person

    @property
    def intended(self) -> int:
        """How many people the group meant to reach: the sum of the states."""
        return sum(self.states.values())


def reconcile(deliveries: Iterable[Delivery], receipts: Iterable[Receipt]) -> dict[str, Reconciliation]:
    """Per group, its intended people reconciled (groups whose copies name nobody: absent)."""
    best: dict[str, dict[str, tuple[State, str]]] = {}
    for delivery in deliveries:
        if delivery.purpose is not Purpose.COMMUNIQUE:
            continue
        state = _BY_STATUS[delivery.status]
        if state is State.DELIVERED and delivery.read_at is not None:
            state = State.READ
        for person in delivery.audience:
            _better(best.setdefault(delivery.group_id, {}), person, state, delivery.error or "")
    for receipt in receipts:
        if not receipt.outside and receipt.superseded is None:
            _better(best.setdefault(receipt.group_id, {}), receipt.person, State.ACKNOWLEDGED, "")
    found: dict[str, Reconciliation] = {}
    for group, people in best.items():
        states: dict[State, int] = {}
        for state, _ in people.values():
            states[state] = states.get(state, 0) + 1
        missed = tuple(
            sorted((p, why) for p, (state, why) in people.items() if state in (State.NEVER_ATTEMPTED, State.FAILED))
        )
        found[group] = Reconciliation(states, missed, tuple(sorted((p, state) for p, (state, _) in people.items())))
    return found


def _better(people: dict[str, tuple[State, str]], person: str, state: State, why: str) -> None:
    if person not in people or state > people[person][0]:
        people[person] = (state, why)
