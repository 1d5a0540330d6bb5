"""Receipt gates, decided on the store's counts: which of a group's ``after`` tables still hold it.

The engine asks before it claims a group's deliveries (a held delivery is simply not
claimable: nothing is written, so a crash or a second worker changes nothing), and
``status`` asks to say why a group waits; both read the same ``Tally``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.order import Hold
from bot.domain.plan import Group, Plan, ReceiptLevel
from bot.service.ports import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Per group of one release: when its communiqué first went out, who acknowledged it, who was expected to."""

    went_out: Mapping[str, datetime] = field(default_factory=dict)
    acknowledged: Mapping[str, int] = field(default_factory=dict)
    expected: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    async def read(cls, uow: UnitOfWork, version: str, plan: Plan | None = None) -> Tally:
        """The release's tally, counted by the store (nothing of the ledger is loaded); with ``plan``, a group
        whose level is below acknowledged (``require``) counts who met that level."""
        acknowledged = await uow.receipts.counts(version)
        if plan is not None and below_acknowledged(plan):
            acknowledged = met(acknowledged, await uow.receipts.met_counts(version), plan)
        return cls(
            went_out=await uow.deliveries.went_out(version),
            acknowledged=acknowledged,
            expected=await uow.receipts.expected(version),
        )


def below_acknowledged(plan: Plan) -> bool:
    """Whether a group of the plan is complete with less than an acknowledgement (``require``): only then are
    the people reached counted, which reads every audience of the release."""
    return any(group.require is not ReceiptLevel.ACKNOWLEDGED for group in plan.groups)


def levels(plan: Plan) -> dict[str, ReceiptLevel]:
    """Each group's level, for the store's ``waiting``."""
    return {group.id: group.require for group in plan.groups}


def met(
    acknowledged: Mapping[str, int], counts: Mapping[str, Mapping[ReceiptLevel, int]], plan: Plan
) -> dict[str, int]:
    """Per group, how many met its level: acknowledged, or (``require`` below it) read or delivered."""
    found = dict(acknowledged)
    for group in plan.groups:
        if group.require is not ReceiptLevel.ACKNOWLEDGED:
            found[group.id] = counts.get(group.id, {}).get(group.require, 0)
    return found


def holds(group: Group, tally: Tally, now: datetime) -> list[Hold]:
    """What of ``group``'s receipt gates holds it now, of the earlier groups that went out.

    Whether an earlier group went out at all (its deliveries settled, one sent) is the
    plain ``after``'s question, asked by the caller; a gate on a group not yet out is skipped.
    """
    found: list[Hold] = []
    for gate in group.gates:
        went_out = tally.went_out.get(gate.group)
        if went_out is None:
            continue
        hold = gate.hold(
            went_out=went_out,
            acknowledged=tally.acknowledged.get(gate.group, 0),
            expected=tally.expected.get(gate.group, 0),
            now=now,
        )
        if hold is not None:
            found.append(hold)
    return found
