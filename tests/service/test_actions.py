"""The walkthrough's buttons are defined once and drawn by every platform: Slack, Discord and the shell."""

from __future__ import annotations

import pytest

from adapters.discord import render as discord_render
from adapters.shell.render import render_communique, render_release
from adapters.slack.blocks import as_dicts, communique_blocks, release_blocks
from bot.domain.commands import (
    ApproveCommunique,
    ApproveRelease,
    CancelRelease,
    EditCommunique,
    RemindNow,
    RetractRelease,
    SendBackCommunique,
)
from bot.domain.communique import ReviewState
from bot.domain.release import ReleaseState
from bot.service.actions import Act, Asks, command_for, communique_actions, missing_answer, release_actions
from bot.service.views import CommuniqueView, ReleaseView

WHY = "the rollout broke single sign-on"


def _release(
    state: ReleaseState, confirmed: bool = True, retraction: str | None = None, waiting: bool = False
) -> ReleaseView:
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
        retraction=retraction,
        retraction_waiting=waiting,
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
        (ReleaseState.SENDING, True, [Act.REMIND, Act.RETRACT]),
        (ReleaseState.SENT, True, [Act.REMIND, Act.RETRACT]),
        (ReleaseState.CANCELLED, True, []),
    ],
)
def test_the_release_offers_the_buttons_for_where_it_stands(
    state: ReleaseState, confirmed: bool, acts: list[Act]
) -> None:
    """Confirm and Send while validating, Approve and send while waiting, Remind now and Retract once sent."""
    assert [a.act for a in release_actions(_release(state, confirmed))] == acts


@pytest.mark.parametrize("state", [ReleaseState.SENDING, ReleaseState.SENT])
def test_a_waiting_retraction_is_approved_or_dropped_instead_of_proposed_again(state: ReleaseState) -> None:
    """While a retraction waits: Remind now, Approve retraction and Drop retraction, each with its look."""
    shown = [(a.act, a.label, a.style.value) for a in release_actions(_release(state, retraction=WHY, waiting=True))]
    assert shown == [
        (Act.REMIND, "Remind now", "plain"),
        (Act.FINAL, "Approve retraction", "primary"),
        (Act.DROP, "Drop retraction", "plain"),
    ]


def test_a_retracted_release_offers_no_button() -> None:
    """Once the retraction is in effect there is nothing left to press on the release."""
    assert release_actions(_release(ReleaseState.RETRACTED, retraction=WHY)) == ()


def test_retract_looks_dangerous_and_asks_why_first() -> None:
    """Retract… is red and asks its own question (not Send back's), and an empty answer is refused."""
    retract = release_actions(_release(ReleaseState.SENT))[-1]
    assert (retract.label, retract.style.value, retract.asks) == ("Retract…", "danger", Asks.WHY)
    assert missing_answer(Act.RETRACT, "  \n ") == "Say why it is withdrawn; nothing was changed."
    assert missing_answer(Act.RETRACT, WHY) is None
    assert missing_answer(Act.REJECT, "") == "Say what must change; the communiqué was not sent back."
    assert missing_answer(Act.DROP, "") is None


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
    assert command_for(Act.RETRACT, actor="a", version="2.4", text=WHY) == RetractRelease(
        actor="a", version="2.4", reason=WHY
    )
    assert command_for(Act.DROP, actor="a", version="2.4") == CancelRelease(actor="a", version="2.4")
    assert [a.asks for a in communique_actions(_communique(ReviewState.PENDING))] == [
        Asks.NOTHING,
        Asks.TEXT,
        Asks.REASON,
    ]
    with pytest.raises(ValueError, match="needs the communiqué's group"):
        command_for(Act.APPROVE, actor="a", version="2.4")


def _slack_ids(view: ReleaseView) -> list[str]:
    return [e["action_id"] for b in release_blocks(view) if b.type == "actions" for e in b.to_dict()["elements"]]


def _discord_ids(view: ReleaseView) -> list[str | None]:
    _content, _embed, drawn = discord_render.release(view)
    assert drawn is not None
    return [getattr(item, "custom_id", None) for item in drawn.children]


def test_remind_now_appears_on_slack_discord_and_the_shell_from_its_one_definition() -> None:
    """The sent release's buttons, defined in bot.service.actions, are drawn by all three front doors."""
    sent = _release(ReleaseState.SENT)
    assert _slack_ids(sent) == ["herald:remind", "herald:retract"]
    assert _discord_ids(sent) == ["herald:remind:2.4", "herald:retract:2.4"]
    assert "[Remind now] /release remind 2.4   [Retract…] /release retract 2.4 REASON" in render_release(sent)


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


def test_the_retraction_buttons_are_typed_as_the_commands_that_do_the_same() -> None:
    """Retract is /release retract VERSION REASON; approving and dropping it are /release approve and cancel."""
    waiting = _release(ReleaseState.SENT, retraction=WHY, waiting=True)
    assert [a.typed for a in release_actions(waiting)] == [
        "/release remind 2.4",
        "/release approve 2.4",
        "/release cancel 2.4",
    ]
    assert "[Approve retraction] /release approve 2.4   [Drop retraction] /release cancel 2.4" in render_release(
        waiting
    )


def test_approve_and_drop_retraction_appear_on_slack_and_discord() -> None:
    """While a retraction waits, Slack's action ids and Discord's custom ids come from the same list, in its order."""
    waiting = _release(ReleaseState.SENDING, retraction=WHY, waiting=True)
    assert _slack_ids(waiting) == ["herald:remind", "herald:final", "herald:drop"]
    assert _discord_ids(waiting) == ["herald:remind:2.4", "herald:final:2.4", "herald:drop:2.4"]


@pytest.mark.parametrize(
    ("waiting", "state", "line"),
    [
        (True, ReleaseState.SENT, f"Retraction proposed: {WHY}. An approver approves it or drops it."),
        (False, ReleaseState.RETRACTED, f"Retracted: {WHY}"),
    ],
)
def test_the_release_message_says_whether_a_retraction_waits_or_is_in_effect(
    waiting: bool, state: ReleaseState, line: str
) -> None:
    """One line on the release's message, on every platform: proposed and waiting, or in effect."""
    view = _release(state, retraction=WHY, waiting=waiting)
    _content, embed, _buttons = discord_render.release(view)
    assert line in str(as_dicts(release_blocks(view)))
    assert line in (embed.description or "")
    assert line in render_release(view)


def test_without_a_retraction_the_release_message_says_nothing_of_one() -> None:
    """A sent release never retracted shows the Retract… button and no retraction line."""
    sent = _release(ReleaseState.SENT)
    _content, embed, _buttons = discord_render.release(sent)
    for shown in (str(as_dicts(release_blocks(sent))), embed.description or "", render_release(sent)):
        assert "Retraction proposed" not in shown
        assert "Retracted:" not in shown
