"""The plan as the domain sees it: its groups, the order they are sent in, and who approves."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.domain.errors import NotFound
from bot.domain.plan import Group, Plan

MakeGroup = Callable[..., Group]  # the make_group fixture of conftest.py
MakePlan = Callable[..., Plan]  # the make_plan fixture of conftest.py


def test_send_order_keeps_file_order_without_dependencies(make_plan: MakePlan, make_group: MakeGroup) -> None:
    """Groups that wait for nobody go out in the order the plan lists them."""
    plan = make_plan(groups=(make_group("engineering"), make_group("support"), make_group("sales")))

    assert plan.send_order() == ["engineering", "support", "sales"]


def test_send_order_puts_a_group_after_those_it_waits_for(make_plan: MakePlan, make_group: MakeGroup) -> None:
    """A group listed first but waiting for another is sent after it."""
    plan = make_plan(groups=(make_group("support", after=("engineering",)), make_group("engineering")))

    assert plan.send_order() == ["engineering", "support"]


def test_send_order_follows_a_chain_written_backwards(make_plan: MakePlan, make_group: MakeGroup) -> None:
    """A chain c after b after a comes out as a, b, c, with independent groups early."""
    plan = make_plan(
        groups=(
            make_group("customers", after=("support",)),
            make_group("support", after=("engineering",)),
            make_group("engineering"),
            make_group("sales"),
        )
    )

    order = plan.send_order()

    assert order.index("engineering") < order.index("support") < order.index("customers")
    assert sorted(order) == ["customers", "engineering", "sales", "support"]


def test_send_order_waits_for_every_group_named(make_plan: MakePlan, make_group: MakeGroup) -> None:
    """A group waiting for two others comes after both."""
    plan = make_plan(
        groups=(make_group("customers", after=("support", "sales")), make_group("support"), make_group("sales"))
    )

    assert plan.send_order()[-1] == "customers"


def test_send_order_still_lists_every_group_of_a_cycle(make_plan: MakePlan, make_group: MakeGroup) -> None:
    """A cycle (which the loader refuses) does not lose groups: they follow in file order."""
    plan = make_plan(groups=(make_group("a", after=("b",)), make_group("b", after=("a",)), make_group("c")))

    assert plan.send_order() == ["c", "a", "b"]


def test_a_group_is_found_by_id(make_plan: MakePlan) -> None:
    """``plan.group`` returns the group with that id."""
    assert make_plan().group("support").id == "support"


def test_an_unknown_group_names_the_groups_that_exist(make_plan: MakePlan) -> None:
    """Asking for a group the plan lacks lists the ones it has."""
    with pytest.raises(NotFound, match="no group “sales”; its groups are engineering, support"):
        make_plan().group("sales")


def test_iterating_a_plan_gives_its_groups_in_order(make_plan: MakePlan) -> None:
    """A plan iterates over its groups in file order."""
    assert [g.id for g in make_plan()] == ["engineering", "support"]


def test_approvers_mean_a_second_approval_is_needed(make_plan: MakePlan) -> None:
    """A plan with approvers needs a second person's approval before sending."""
    assert make_plan(approvers=frozenset({"shell:lead"})).needs_second_approval


def test_no_approvers_means_no_second_approval(make_plan: MakePlan) -> None:
    """A plan without approvers lets the announcer send alone."""
    assert not make_plan(approvers=frozenset()).needs_second_approval
