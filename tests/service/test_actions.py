"""The walkthrough's buttons are defined once and drawn by every platform: Slack, Discord and the shell."""

from __future__ import annotations

import pytest

from adapters.discord import render as discord_render
from adapters.shell.render import render_communique, render_release
from adapters.slack.blocks import communique_blocks, release_blocks
from bot.domain.commands import ApproveCommunique, ApproveRelease, EditCommunique, RemindNow, SendBackCommunique
from bot.domain.communique import ReviewState
from bot.domain.release import ReleaseState
from bot.service.actions import Act, Asks, command_for, communique_actions, release_actions
from bot.service.views import CommuniqueView, ReleaseView


def _release(state: ReleaseState, confirmed: bool = True) -> ReleaseView:
    return ReleaseView(
        version="2.4",
        product="Acme Cloud",
        state=state,
        announced_by="shell:deployer",
        confirmed_by="shell:deployer" if confirmed else None,
        approved_by=None,
        approvers=(),
        checks=(),
        communiques=(),
        next_step="",
    )


def _communique(review: ReviewState) -> CommuniqueView:
    return CommuniqueView(
        version="2.4",
        group_id="support",
        group_name="Support",
        destinations=("slack:#support",),
        text="Acme Cloud 2.4 is live.",
        review=review,
        revision=1,
        reviewed_by=None,
        note=None,
        checks=(),
    )


@pytest.mark.parametrize(
    ("state", "confirmed", "acts"),
    [
        (ReleaseState.VALIDATING, False, [Act.CONFIRM, Act.SEND]),
        (ReleaseState.VALIDATING, True, [Act.SEND]),
        (ReleaseState.AWAITING_APPROVAL, True, [Act.FINAL]),
        (ReleaseState.SENDING, True, [Act.REMIND]),
        (ReleaseState.SENT, True, [Act.REMIND]),
        (ReleaseState.CANCELLED, True, []),
    ],
)
def test_the_release_offers_the_buttons_for_where_it_stands(
    state: ReleaseState, confirmed: bool, acts: list[Act]
) -> None:
    """Confirm and Send while validating, Approve and send while waiting, Remind now once sent."""
    assert [a.act for a in release_actions(_release(state, confirmed))] == acts


@pytest.mark.parametrize(
    ("review", "acts"),
    [
        (ReviewState.PENDING, [Act.APPROVE, Act.EDIT, Act.REJECT]),
        (ReviewState.APPROVED, [Act.EDIT, Act.REJECT]),
        (ReviewState.SENT_BACK, [Act.APPROVE, Act.EDIT]),
    ],
)
def test_a_communique_offers_approve_edit_and_send_back_as_its_review_allows(
    review: ReviewState, acts: list[Act]
) -> None:
    """An approved revision is not approved again; one sent back is not sent back again."""
    assert [a.act for a in communique_actions(_communique(review))] == acts


def test_a_press_becomes_the_command_a_typed_line_would_give() -> None:
    """Each act maps to its command, with the group, and the text or reason it asked for."""
    assert command_for(Act.APPROVE, actor="a", version="2.4", group_id="g") == ApproveCommunique(
        actor="a", version="2.4", group_id="g"
    )
    assert command_for(Act.EDIT, actor="a", version="2.4", group_id="g", text="new") == EditCommunique(
        actor="a", version="2.4", group_id="g", text="new"
    )
    assert command_for(Act.REJECT, actor="a", version="2.4", group_id="g", text="why") == SendBackCommunique(
        actor="a", version="2.4", group_id="g", reason="why"
    )
    assert command_for(Act.FINAL, actor="a", version="2.4") == ApproveRelease(actor="a", version="2.4")
    assert command_for(Act.REMIND, actor="a", version="2.4") == RemindNow(actor="a", version="2.4")
    assert [a.asks for a in communique_actions(_communique(ReviewState.PENDING))] == [
        Asks.NOTHING,
        Asks.TEXT,
        Asks.REASON,
    ]
    with pytest.raises(ValueError, match="needs the communiqué's group"):
        command_for(Act.APPROVE, actor="a", version="2.4")


def test_remind_now_appears_on_slack_discord_and_the_shell_from_its_one_definition() -> None:
    """The sent release's one new button, defined in bot.service.actions, is drawn by all three front doors."""
    sent = _release(ReleaseState.SENT)
    slack = [e["action_id"] for b in release_blocks(sent) if b.type == "actions" for e in b.to_dict()["elements"]]
    assert slack == ["herald:remind"]
    _content, _embed, view = discord_render.release(sent)
    assert view is not None
    assert [getattr(item, "custom_id", None) for item in view.children] == ["herald:remind:2.4"]
    assert "[Remind now] /release remind 2.4" in render_release(sent)


def test_the_same_communique_buttons_on_every_platform() -> None:
    """Slack's action ids, Discord's custom ids and the shell's hints come from the same list, in its order."""
    pending = _communique(ReviewState.PENDING)
    slack = [e["action_id"] for b in communique_blocks(pending) if b.type == "actions" for e in b.to_dict()["elements"]]
    _content, _embed, view = discord_render.communique(pending)
    assert view is not None
    discord_ids = [getattr(item, "custom_id", None) for item in view.children]
    assert slack == ["herald:approve", "herald:edit", "herald:reject"]
    assert discord_ids == ["herald:approve:2.4", "herald:edit:2.4", "herald:reject:2.4"]
    assert render_communique(pending).endswith(
        "[Approve] /release approve 2.4 support   [Edit] /release edit 2.4 support TEXT   "
        "[Send back] /release reject 2.4 support REASON"
    )
