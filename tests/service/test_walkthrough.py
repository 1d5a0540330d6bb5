"""The validation walkthrough: nothing leaves before every check and approval holds."""

from __future__ import annotations

import asyncio

from bot.domain.audit import Outcome
from bot.domain.destinations import Platform
from bot.domain.release import ReleaseState
from bot.service.views import ReleaseView
from tests.service.conftest import PLAN, World, make_world, notices


def _view(reply: object) -> ReleaseView:
    views = [v for v in reply.views if isinstance(v, ReleaseView)]  # type: ignore[attr-defined]
    assert views, "the reply shows no walkthrough"
    return views[-1]


async def test_announce_renders_one_communique_per_group(world: World) -> None:
    """Announcing renders each group's communiqué for the release, with its checks."""
    view = _view(await world.say("announce 2.4"))
    assert [c.group_id for c in view.communiques] == ["engineering", "support"]
    assert view.communiques[0].text == "Acme Cloud 2.4 is live. Notes: https://example.com/releases/2.4"
    assert all(check.ok for check in view.communiques[0].checks)


async def test_announce_by_a_stranger_is_refused_and_audited(world: World) -> None:
    """Someone who is not an announcer gets one sentence, and the refusal is in the audit log."""
    reply = await world.say("announce 2.4", actor="shell:mallory")
    assert reply.failed
    assert notices(reply) == ["You are not an announcer in the plan, so you cannot announce a release."]
    assert world.store.releases == {}
    assert [(e.actor, e.outcome) for e in world.store.audit] == [("shell:mallory", Outcome.REFUSED)]


async def test_announcing_twice_resumes_the_same_release(world: World) -> None:
    """A second announce shows the release where it stands; it never creates a copy."""
    await world.say("announce 2.4")
    await world.say("confirm 2.4")
    reply = await world.say("announce 2.4", actor="shell:dana")
    assert "already announced by deployer" in notices(reply)[0]
    assert list(world.store.releases) == ["2.4"]
    assert _view(reply).confirmed_by == "shell:deployer"


async def test_sending_is_refused_until_confirmed_and_approved(world: World) -> None:
    """The send names every reason it cannot happen yet, and nothing is planned."""
    await world.say("announce 2.4")
    reply = await world.say("send 2.4")
    assert reply.failed
    message = notices(reply)[0]
    assert "nobody has confirmed yet" in message
    assert "still to approve: engineering, support" in message
    assert world.store.deliveries == {}


async def test_a_communique_with_a_failing_check_cannot_be_approved(world: World) -> None:
    """An edit that leaves a TODO is re-checked, and approving it is refused."""
    await world.say("announce 2.4")
    await world.say("edit 2.4 support Support: 2.4 is live. TODO add the FAQ link")
    reply = await world.say("approve 2.4 support")
    assert reply.failed
    assert "leftover placeholder text: 'TODO'" in notices(reply)[0]


async def test_editing_an_approved_communique_needs_a_new_approval(world: World) -> None:
    """An edit bumps the revision and returns the communiqué to review."""
    await world.say("announce 2.4")
    await world.say("approve 2.4 support")
    await world.say("edit 2.4 support Support: Acme Cloud 2.4 is live.\nSee the FAQ.")
    release = world.store.releases["2.4"]
    communique = release.communiques["support"]
    assert (communique.revision, communique.review.value, communique.text) == (
        2,
        "pending",
        "Support: Acme Cloud 2.4 is live.\nSee the FAQ.",
    )


async def test_approve_all_skips_communiques_whose_checks_fail(world: World) -> None:
    """'approve all' approves the good ones and names the ones it left."""
    await world.say("announce 2.4")
    await world.say("edit 2.4 engineering Engineering: it is live")  # no version: blocking
    reply = await world.say("approve 2.4 all")
    assert notices(reply) == ["Approved: support. Not approved, checks failing: engineering."]


async def test_approving_twice_is_recorded_once(world: World) -> None:
    """A double click on Approve changes nothing the second time."""
    await world.say("announce 2.4")
    await world.say("approve 2.4 support")
    reply = await world.say("approve 2.4 support")
    assert notices(reply) == ["The support communiqué was already approved."]
    approvals = [e for e in world.store.audit if e.action == "approve_communique"]
    assert len(approvals) == 1


async def test_a_second_person_must_give_the_final_approval(world: World) -> None:
    """With approvers in the plan, the announcer's send waits for someone else."""
    await world.ready_to_send()
    await world.say("send 2.4")
    assert world.store.releases["2.4"].state is ReleaseState.AWAITING_APPROVAL
    refused = await world.say("approve 2.4", actor="shell:deployer")
    assert refused.failed
    assert world.store.deliveries == {}
    reply = await world.say("approve 2.4", actor="shell:lead")
    assert not reply.failed
    assert world.store.releases["2.4"].state is ReleaseState.SENDING
    assert len(world.store.deliveries) > 0


async def test_without_approvers_the_announcer_sends_alone() -> None:
    """A plan without approvers starts sending on the announcer's send."""

    world = make_world(PLAN.replace('approvers = ["shell:lead"]', "approvers = []"))
    await world.ready_to_send()
    reply = await world.say("send 2.4")
    assert "Sending 2.4 to" in notices(reply)[0]
    assert world.store.releases["2.4"].state is ReleaseState.SENDING


async def test_final_approval_writes_one_delivery_per_target(world: World) -> None:
    """Approval plans each concrete target once, with a deterministic key."""
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    keys = sorted(world.store.deliveries)
    assert keys == [
        "2.4|engineering|shell:#engineering",
        "2.4|engineering|shell:@kim",
        "2.4|support|shell:#support",
        "2.4|support|shell:@sam",
        "2.4|support|slack:@U1",
        "2.4|support|slack:@U2",
    ]


async def test_simultaneous_final_approvals_plan_the_deliveries_once(world: World) -> None:
    """Two approvers clicking at once produce one approval and one set of deliveries."""

    world = make_world(PLAN.replace('approvers = ["shell:lead"]', 'approvers = ["shell:lead", "shell:max"]'))
    await world.ready_to_send()
    await world.say("send 2.4")
    first, second = await asyncio.gather(
        world.say("approve 2.4", actor="shell:lead"), world.say("approve 2.4", actor="shell:max")
    )
    assert [first.failed, second.failed].count(False) == 1
    assert len(world.store.deliveries) == 6
    assert sum(e.action == "approve_release" and e.outcome is Outcome.DONE for e in world.store.audit) == 1


async def test_a_release_can_be_cancelled_before_sending_only(world: World) -> None:
    """Cancel works while validating and is refused once sending has started."""
    await world.say("announce 2.4")
    assert not (await world.say("cancel 2.4")).failed
    assert world.store.releases["2.4"].state is ReleaseState.CANCELLED
    again = await world.say("approve 2.4 support")
    assert notices(again) == ["Release 2.4 was cancelled; you cannot approve communiqués."]

    await world.ready_to_send("2.5")
    await world.say("send 2.5")
    await world.say("approve 2.5", actor="shell:lead")
    refused = await world.say("cancel 2.5")
    assert notices(refused) == ["Release 2.5 is already sending; it can no longer be cancelled."]


async def test_an_undefined_variable_blocks_the_communique_until_edited(world: World) -> None:
    """A template using an unknown variable renders as a blocking check, not a crash."""

    world = make_world(PLAN.replace("Support: Acme Cloud {{ version }} is live.", "{{ summary }} {{ version }}"))
    view = _view(await world.say("announce 2.4"))
    support = view.communiques[1]
    assert support.blocking == ["the template did not render: group 'support' message: 'summary' is undefined"]
    await world.say("edit 2.4 support Support: Acme Cloud 2.4 is live.")
    assert not (await world.say("approve 2.4 support", actor="shell:lead")).failed


async def test_an_unconfigured_platform_is_reported_and_recorded_as_failed() -> None:
    """A destination on a platform that is not configured warns, then fails visibly."""
    world = make_world(configured=(Platform.SHELL,))
    view = _view(await world.say("announce 2.4"))
    support_checks = [c.message for c in view.communiques[1].checks if not c.ok]
    assert support_checks == ["slack:usergroup:S0SUPPORT: slack is not configured, so it will not be delivered"]
    await world.ready_to_send()
    await world.say("send 2.4")
    await world.say("approve 2.4", actor="shell:lead")
    failed = world.store.deliveries["2.4|support|slack:usergroup:S0SUPPORT"]
    assert (failed.status.value, failed.error) == ("failed", "slack is not configured")


async def test_a_group_with_no_reachable_destination_blocks_sending(world: World) -> None:
    """When none of a group's destinations resolve, its communiqué cannot be approved."""
    world.directory.unreachable = {
        "shell:#engineering": "no such channel",
        "shell:@kim": "no such person",
    }
    view = _view(await world.say("announce 2.4"))
    assert view.communiques[0].blocking == ["none of the 2 destinations can be reached"]


async def test_unknown_group_gets_a_sentence_naming_the_real_ones(world: World) -> None:
    """Approving a group that does not exist names the groups that do."""
    await world.say("announce 2.4")
    reply = await world.say("approve 2.4 marketing")
    assert notices(reply) == ["Release 2.4 has no communiqué for “marketing”; it has engineering, support."]


async def test_commands_on_an_unannounced_release_explain_how_to_start(world: World) -> None:
    """Every command on an unknown version says to announce it first."""
    reply = await world.say("status 9.9")
    assert notices(reply) == ["Release 9.9 has not been announced. Start with /release announce 9.9."]


async def test_a_database_failure_is_one_sentence_not_a_traceback(world: World) -> None:
    """When storage fails underneath, the person is told in a sentence and nothing changes."""

    class Broken:
        async def __aenter__(self) -> Broken:
            raise OSError("connection refused")

        async def __aexit__(self, *exc: object) -> None:
            return None

    world.herald.desk._uow = Broken  # type: ignore[assignment]
    reply = await world.say("announce 2.4")
    assert reply.failed
    assert notices(reply)[0].startswith("Herald could not finish that because of a problem on its side")


async def test_whoever_edited_a_communique_cannot_approve_that_revision(world: World) -> None:
    """With approvers in the plan (four eyes), the editor's own approval is refused; another reviewer's counts."""
    await world.say("announce 2.4")
    await world.say("edit 2.4 support Support: Acme Cloud 2.4 is live.")
    refused = await world.say("approve 2.4 support")
    assert refused.failed
    assert notices(refused) == [
        "You edited the support communiqué, so someone else must approve it: this plan asks for a second pair of eyes."
    ]
    assert not (await world.say("approve 2.4 support", actor="shell:lead")).failed


async def test_without_approvers_an_editor_may_approve_their_own_text() -> None:
    """A plan with no approvers asks for no second person: the announcer edits and approves."""
    world = make_world(PLAN.replace('approvers = ["shell:lead"]\n', ""))
    await world.say("announce 2.4")
    await world.say("edit 2.4 support Support: Acme Cloud 2.4 is live.")
    assert not (await world.say("approve 2.4 support")).failed
