"""The release walkthrough: who may take each step, and in which state."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from bot.domain.communique import Communique, ReviewState
from bot.domain.errors import InvalidState, NotAllowed, NotFound
from bot.domain.plan import Plan
from bot.domain.release import Release, ReleaseState

MakePlan = Callable[..., Plan]  # the make_plan fixture of conftest.py

ANNOUNCER = "shell:deployer"
SECOND_ANNOUNCER = "shell:dana"  # an announcer who is also an approver
APPROVER = "shell:lead"
OUTSIDER = "shell:eve"


@pytest.fixture
def plan(make_plan: MakePlan) -> Plan:
    """Two groups, two announcers and two approvers: sending needs a second person."""
    return make_plan(
        announcers=frozenset({ANNOUNCER, SECOND_ANNOUNCER}),
        approvers=frozenset({APPROVER, SECOND_ANNOUNCER}),
    )


@pytest.fixture
def solo_plan(make_plan: MakePlan) -> Plan:
    """The same plan without approvers: the announcer alone may send."""
    return make_plan(announcers=frozenset({ANNOUNCER, SECOND_ANNOUNCER}), approvers=frozenset())


def _announce(plan: Plan, now: datetime, actor: str = ANNOUNCER) -> Release:
    communiques = {g.id: Communique(group_id=g.id, text=f"Acme Cloud 2.4 for {g.name}.") for g in plan}
    return Release.announce(version="2.4", plan=plan, actor=actor, now=now, communiques=communiques)


@pytest.fixture
def release(plan: Plan, now: datetime) -> Release:
    """Release 2.4, just announced."""
    return _announce(plan, now)


@pytest.fixture
def awaiting(release: Release, plan: Plan, now: datetime) -> Release:
    """Release 2.4 after the announcer asked to send: waiting for the final approval."""
    release.request_send(plan, ANNOUNCER, now, [])
    return release


@pytest.fixture
def sending(awaiting: Release, plan: Plan, now: datetime) -> Release:
    """Release 2.4 after the final approval: being sent."""
    awaiting.approve_release(plan, APPROVER, now)
    return awaiting


# -- announce ----------------------------------------------------------------------------


def test_an_announcer_starts_a_release_in_validation(plan: Plan, now: datetime) -> None:
    """Announcing starts the walkthrough, records who and when, and takes the plan's product."""
    release = _announce(plan, now)

    assert release.state is ReleaseState.VALIDATING
    assert (release.announced_by, release.announced_at, release.product) == (ANNOUNCER, now, "Acme Cloud")
    assert set(release.communiques) == {"engineering", "support"}


@pytest.mark.parametrize("actor", [APPROVER, OUTSIDER])
def test_only_an_announcer_may_announce(plan: Plan, now: datetime, actor: str) -> None:
    """An approver or an outsider cannot announce a release."""
    with pytest.raises(NotAllowed, match="not an announcer in the plan, so you cannot announce a release"):
        _announce(plan, now, actor)


def test_an_unknown_group_is_not_found_and_the_known_ones_are_named(release: Release) -> None:
    """Asking for a group the release lacks names the groups it has."""
    with pytest.raises(NotFound, match="no communiqué for “sales”; it has engineering, support"):
        release.communique("sales")


# -- confirm -----------------------------------------------------------------------------


def test_an_announcer_confirms_the_release_is_live(release: Release, plan: Plan, now: datetime) -> None:
    """Confirming records who confirmed and when."""
    assert release.confirm_success(plan, SECOND_ANNOUNCER, now) is True
    assert (release.confirmed_by, release.confirmed_at) == (SECOND_ANNOUNCER, now)


def test_confirming_twice_changes_nothing(release: Release, plan: Plan, now: datetime) -> None:
    """A second confirmation returns False and keeps the first confirmer."""
    release.confirm_success(plan, ANNOUNCER, now)

    assert release.confirm_success(plan, SECOND_ANNOUNCER, now + timedelta(minutes=5)) is False
    assert (release.confirmed_by, release.confirmed_at) == (ANNOUNCER, now)


def test_only_an_announcer_may_confirm(release: Release, plan: Plan, now: datetime) -> None:
    """An approver who is not an announcer cannot confirm."""
    with pytest.raises(NotAllowed, match="cannot confirm that a release is live"):
        release.confirm_success(plan, APPROVER, now)


def test_confirming_is_refused_after_validation(awaiting: Release, plan: Plan, now: datetime) -> None:
    """Once sending was requested the release can no longer be confirmed."""
    with pytest.raises(InvalidState, match="waiting for the final approval; you cannot confirm it now"):
        awaiting.confirm_success(plan, ANNOUNCER, now)


# -- approve a communiqué ----------------------------------------------------------------


def test_a_reviewer_approves_a_communique(release: Release, plan: Plan, now: datetime) -> None:
    """Approving records the reviewer and time and clears an earlier note."""
    release.send_back(plan, "support", APPROVER, now, "too long")

    assert release.approve_communique(plan, "support", APPROVER, now, blocking=[]) is True
    communique = release.communique("support")
    assert (communique.review, communique.reviewed_by, communique.reviewed_at) == (ReviewState.APPROVED, APPROVER, now)
    assert communique.note is None


def test_approval_is_refused_while_blocking_checks_fail(release: Release, plan: Plan, now: datetime) -> None:
    """A communiqué whose blocking checks fail cannot be approved, and the message says which."""
    with pytest.raises(InvalidState, match="cannot be approved until its checks pass: leftover placeholder text"):
        release.approve_communique(plan, "support", ANNOUNCER, now, blocking=["leftover placeholder text"])

    assert release.communique("support").review is ReviewState.PENDING


def test_approving_twice_changes_nothing(release: Release, plan: Plan, now: datetime) -> None:
    """A second approval of the same revision returns False and keeps the first reviewer."""
    release.approve_communique(plan, "support", ANNOUNCER, now, blocking=[])

    assert release.approve_communique(plan, "support", APPROVER, now + timedelta(minutes=1), blocking=[]) is False
    communique = release.communique("support")
    assert (communique.reviewed_by, communique.reviewed_at) == (ANNOUNCER, now)


def test_an_outsider_cannot_approve_a_communique(release: Release, plan: Plan, now: datetime) -> None:
    """Only announcers and approvers review communiqués."""
    with pytest.raises(NotAllowed, match="Only announcers and approvers can approve a communiqué"):
        release.approve_communique(plan, "support", OUTSIDER, now, blocking=[])


def test_approving_an_unknown_group_is_not_found(release: Release, plan: Plan, now: datetime) -> None:
    """Approving a group the release does not have is refused."""
    with pytest.raises(NotFound):
        release.approve_communique(plan, "sales", ANNOUNCER, now, blocking=[])


# -- edit and send back ------------------------------------------------------------------


def test_editing_replaces_the_text_and_resets_approval(release: Release, plan: Plan, now: datetime) -> None:
    """An edit bumps the revision, forgets the approval and records the editor."""
    release.approve_communique(plan, "support", APPROVER, now, blocking=[])
    later = now + timedelta(minutes=3)

    release.edit_communique(plan, "support", "Acme Cloud 2.4 is live, support.", ANNOUNCER, later)

    communique = release.communique("support")
    assert communique.text == "Acme Cloud 2.4 is live, support."
    assert (communique.revision, communique.review) == (2, ReviewState.PENDING)
    assert (communique.reviewed_by, communique.reviewed_at) == (None, None)
    assert (communique.edited_by, communique.edited_at) == (ANNOUNCER, later)


def test_editing_clears_a_render_error(release: Release, plan: Plan, now: datetime) -> None:
    """Typing the text by hand replaces a template that did not render."""
    release.communique("support").render_error = "'summary' is undefined"

    release.edit_communique(plan, "support", "Acme Cloud 2.4 is live.", ANNOUNCER, now)

    assert release.communique("support").render_error is None


def test_an_edit_cannot_empty_a_communique(release: Release, plan: Plan, now: datetime) -> None:
    """Blank new text is refused and the communiqué is left as it was."""
    with pytest.raises(InvalidState, match="cannot be empty"):
        release.edit_communique(plan, "support", "  \n ", ANNOUNCER, now)

    assert release.communique("support").revision == 1


def test_an_outsider_cannot_edit(release: Release, plan: Plan, now: datetime) -> None:
    """Only announcers and approvers edit communiqués."""
    with pytest.raises(NotAllowed, match="can edit a communiqué"):
        release.edit_communique(plan, "support", "Acme Cloud 2.4.", OUTSIDER, now)


def test_sending_back_returns_a_communique_for_rework(release: Release, plan: Plan, now: datetime) -> None:
    """A communiqué sent back is marked so, with the reason as its note."""
    release.approve_communique(plan, "support", ANNOUNCER, now, blocking=[])

    release.send_back(plan, "support", APPROVER, now, "mention the SSO change")

    communique = release.communique("support")
    assert (communique.review, communique.reviewed_by) == (ReviewState.SENT_BACK, APPROVER)
    assert communique.note == "mention the SSO change"
    assert not communique.approved


def test_sending_back_without_a_reason_leaves_no_note(release: Release, plan: Plan, now: datetime) -> None:
    """An empty reason is stored as no note at all."""
    release.send_back(plan, "support", APPROVER, now, "")

    assert release.communique("support").note is None


# -- request send and the final approval -------------------------------------------------


def test_without_approvers_request_send_starts_sending(solo_plan: Plan, now: datetime) -> None:
    """With nobody to approve, the announcer's request starts sending at once."""
    release = _announce(solo_plan, now)

    assert release.request_send(solo_plan, ANNOUNCER, now, []) is True
    assert release.state is ReleaseState.SENDING
    assert (release.approved_by, release.send_requested_by) == (ANNOUNCER, ANNOUNCER)


def test_with_approvers_request_send_waits_for_the_final_approval(release: Release, plan: Plan, now: datetime) -> None:
    """With approvers in the plan, the release waits for a second person."""
    assert release.request_send(plan, ANNOUNCER, now, []) is False
    assert release.state is ReleaseState.AWAITING_APPROVAL
    assert (release.send_requested_by, release.send_requested_at, release.approved_by) == (ANNOUNCER, now, None)


def test_request_send_is_refused_while_checks_block(release: Release, plan: Plan, now: datetime) -> None:
    """Blocking checks stop the request, and the message lists them."""
    with pytest.raises(InvalidState, match=re.escape("Not ready to send: still to approve: support.")):
        release.request_send(plan, ANNOUNCER, now, ["still to approve: support"])

    assert release.state is ReleaseState.VALIDATING


def test_only_an_announcer_may_request_send(release: Release, plan: Plan, now: datetime) -> None:
    """An approver who is not an announcer cannot ask to send."""
    with pytest.raises(NotAllowed, match="cannot send a release"):
        release.request_send(plan, APPROVER, now, [])


def test_requesting_send_again_while_waiting_changes_nothing(awaiting: Release, plan: Plan, now: datetime) -> None:
    """A repeated request while waiting for approval returns False and keeps the first requester."""
    assert awaiting.request_send(plan, SECOND_ANNOUNCER, now + timedelta(minutes=1), []) is False
    assert (awaiting.state, awaiting.send_requested_by, awaiting.send_requested_at) == (
        ReleaseState.AWAITING_APPROVAL,
        ANNOUNCER,
        now,
    )


def test_an_approver_gives_the_final_approval(awaiting: Release, plan: Plan, now: datetime) -> None:
    """The final approval by a second person starts sending."""
    awaiting.approve_release(plan, APPROVER, now)

    assert awaiting.state is ReleaseState.SENDING
    assert (awaiting.approved_by, awaiting.approved_at) == (APPROVER, now)


def test_the_final_approval_must_come_from_an_approver(awaiting: Release, plan: Plan, now: datetime) -> None:
    """Someone outside the approvers list cannot approve, and is told who can."""
    with pytest.raises(NotAllowed, match=r"Only an approver can give the final approval \(approvers: dana, lead\)"):
        awaiting.approve_release(plan, OUTSIDER, now)


def test_the_announcer_cannot_approve_their_own_release(make_plan: MakePlan, now: datetime) -> None:
    """An announcer who is also an approver cannot give the final approval to the release they announced."""
    plan = make_plan(announcers=frozenset({ANNOUNCER}), approvers=frozenset({ANNOUNCER, APPROVER}))
    release = _announce(plan, now)
    release.request_send(plan, ANNOUNCER, now, [])

    with pytest.raises(NotAllowed, match="must come from a second person"):
        release.approve_release(plan, ANNOUNCER, now)


def test_who_asked_to_send_cannot_approve_it(plan: Plan, now: datetime) -> None:
    """The approver who asked to send someone else's release cannot also approve it."""
    release = _announce(plan, now, ANNOUNCER)
    release.request_send(plan, SECOND_ANNOUNCER, now, [])

    with pytest.raises(NotAllowed, match="must come from a second person"):
        release.approve_release(plan, SECOND_ANNOUNCER, now)

    assert release.state is ReleaseState.AWAITING_APPROVAL


def test_the_final_approval_is_refused_during_validation(release: Release, plan: Plan, now: datetime) -> None:
    """Before the announcer asks to send there is nothing to approve."""
    with pytest.raises(InvalidState, match="not ready for the final approval yet; the announcer sends it first"):
        release.approve_release(plan, APPROVER, now)

    assert release.state is ReleaseState.VALIDATING


def test_the_final_approval_cannot_be_given_twice(sending: Release, plan: Plan, now: datetime) -> None:
    """Once sending, a second final approval is refused and the first approver stays recorded."""
    with pytest.raises(InvalidState, match="is being sent; you cannot approve it now"):
        sending.approve_release(plan, SECOND_ANNOUNCER, now)

    assert sending.approved_by == APPROVER


# -- cancel and complete -----------------------------------------------------------------


def test_a_release_can_be_cancelled_during_validation(release: Release, plan: Plan, now: datetime) -> None:
    """Cancelling before anything is sent records who and when."""
    release.cancel(plan, APPROVER, now)

    assert (release.state, release.cancelled_by, release.cancelled_at) == (ReleaseState.CANCELLED, APPROVER, now)


def test_a_release_can_be_cancelled_while_waiting_for_approval(awaiting: Release, plan: Plan, now: datetime) -> None:
    """Cancelling is still possible while the final approval is outstanding."""
    awaiting.cancel(plan, ANNOUNCER, now)

    assert awaiting.state is ReleaseState.CANCELLED


def test_a_release_being_sent_cannot_be_cancelled(sending: Release, plan: Plan, now: datetime) -> None:
    """Once sending has started a release can no longer be cancelled."""
    with pytest.raises(InvalidState, match="already sending; it can no longer be cancelled"):
        sending.cancel(plan, ANNOUNCER, now)

    assert sending.state is ReleaseState.SENDING


def test_a_sent_release_cannot_be_cancelled(sending: Release, plan: Plan, now: datetime) -> None:
    """A release whose deliveries have settled can no longer be cancelled."""
    sending.complete(now)

    with pytest.raises(InvalidState, match="already sent; it can no longer be cancelled"):
        sending.cancel(plan, ANNOUNCER, now)


def test_an_outsider_cannot_cancel(release: Release, plan: Plan, now: datetime) -> None:
    """Only announcers and approvers can cancel."""
    with pytest.raises(NotAllowed, match="can cancel a release"):
        release.cancel(plan, OUTSIDER, now)


STEPS_AFTER_CANCEL: dict[str, Callable[[Release, Plan, datetime], object]] = {
    "confirm": lambda r, p, t: r.confirm_success(p, ANNOUNCER, t),
    "approve a communiqué": lambda r, p, t: r.approve_communique(p, "support", ANNOUNCER, t, []),
    "edit": lambda r, p, t: r.edit_communique(p, "support", "Acme Cloud 2.4.", ANNOUNCER, t),
    "send back": lambda r, p, t: r.send_back(p, "support", ANNOUNCER, t, "no"),
    "request send": lambda r, p, t: r.request_send(p, ANNOUNCER, t, []),
    "final approval": lambda r, p, t: r.approve_release(p, APPROVER, t),
    "cancel again": lambda r, p, t: r.cancel(p, ANNOUNCER, t),
}


@pytest.mark.parametrize("step", list(STEPS_AFTER_CANCEL))
def test_a_cancelled_release_refuses_every_step(release: Release, plan: Plan, now: datetime, step: str) -> None:
    """After a cancel, every step of the walkthrough is refused as cancelled."""
    release.cancel(plan, ANNOUNCER, now)

    with pytest.raises(InvalidState, match=re.escape("Release 2.4 was cancelled; you cannot")):
        STEPS_AFTER_CANCEL[step](release, plan, now)

    assert release.state is ReleaseState.CANCELLED


def test_communiques_are_frozen_once_sending_is_requested(awaiting: Release, plan: Plan, now: datetime) -> None:
    """While waiting for the final approval, communiqués can no longer be edited."""
    with pytest.raises(InvalidState, match="waiting for the final approval; you cannot edit communiqués now"):
        awaiting.edit_communique(plan, "support", "Acme Cloud 2.4, changed.", ANNOUNCER, now)


def test_completing_a_sending_release_marks_it_sent(sending: Release, now: datetime) -> None:
    """When every delivery has settled the release is sent."""
    later = now + timedelta(hours=1)

    sending.complete(later)

    assert (sending.state, sending.completed_at) == (ReleaseState.SENT, later)


def test_completing_a_release_that_is_not_sending_does_nothing(release: Release, now: datetime) -> None:
    """Completion only applies to a release being sent."""
    release.complete(now)

    assert (release.state, release.completed_at) == (ReleaseState.VALIDATING, None)
