"""POST /api/releases/VERSION/retract over real HTTP: a rollback job withdraws a release sent on the fake Slack."""

from __future__ import annotations

from bot.domain.audit import Outcome
from bot.domain.delivery import Purpose
from bot.domain.release import ReleaseState
from tests.adapters.web.test_release_api import API_PLAN, INTRUDER_TOKEN, ApiWorld, serving

REASON = "rolled back: the migration failed on EU-west"
NO_APPROVERS = API_PLAN.replace('approvers = ["slack:U0APPROVE1"]\n', "")
RETRACT = "/api/releases/2.4/retract"


async def sent_in_chat(world: ApiWorld, *, approver: bool) -> None:
    """Announced through the API, approved and sent in chat; every delivery due now has settled."""
    status, answer = await world.call("POST", "/api/releases", {"version": "2.4"})
    assert status == 201, answer
    for line in ("confirm 2.4", "approve 2.4 all", "send 2.4"):
        await world.say(line, "slack:U0ANNOUNCE1")
    if approver:
        await world.say("approve 2.4", "slack:U0APPROVE1")
    await world.herald.engine.run_until_idle()


def _retractions(world: ApiWorld) -> int:
    return sum(1 for d in world.store.deliveries.values() if d.purpose is Purpose.RETRACTION)


def _audited(world: ApiWorld, outcome: Outcome) -> list[tuple[str, str]]:
    """The retraction's entries in the audit log with ``outcome``: who, and what was recorded."""
    return [(e.actor, e.detail) for e in world.store.audit if e.action == "retract_release" and e.outcome is outcome]


async def test_a_retraction_takes_effect_with_202_and_asked_again_answers_200_changing_nothing() -> None:
    """Without approvers the call retracts at once; a second call is 200 with the same state, nothing planned twice."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)

        status, answer = await world.call("POST", RETRACT, {"reason": REASON})

        assert status == 202, answer
        assert answer["state"] == "retracted"
        assert answer["version"] == "2.4"
        assert answer["status_url"] == f"{world.base}/dashboard/2.4"
        assert answer["message"].startswith(f"Retracted 2.4: {REASON}.")
        release = world.store.releases["2.4"]
        assert release.state is ReleaseState.RETRACTED
        assert release.retraction is not None
        assert release.retraction.by == "api:ci"
        await world.herald.engine.run_until_idle()
        planned, audit = _retractions(world), len(world.store.audit)
        assert planned > 0

        status, again = await world.call("POST", RETRACT, {"reason": "a second reason"})

        assert status == 200, again
        assert again["state"] == "retracted"
        assert again["message"] == f"Release 2.4 was retracted: {REASON}"
        assert _retractions(world) == planned
        assert len(world.store.audit) == audit
        assert len(_audited(world, Outcome.DONE)) == 1


async def test_get_says_the_release_was_retracted() -> None:
    """After the retraction GET /api/releases/VERSION answers its state and why."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)
        await world.call("POST", RETRACT, {"reason": REASON})

        status, answer = await world.call("GET", "/api/releases/2.4")

        assert status == 200
        assert answer["state"] == "retracted"
        assert answer["message"] == f"Release 2.4 was retracted: {REASON}"
        assert answer["status"]["retraction"].endswith(REASON)


async def test_a_token_the_plan_does_not_name_is_403_and_audited_as_refused() -> None:
    """api:intruder holds a valid token but is no announcer: refused with the desk's sentence, audited, nothing done."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)

        status, answer = await world.call("POST", RETRACT, {"reason": REASON}, token=INTRUDER_TOKEN)

        assert status == 403
        assert answer["error"] == "Only announcers and approvers can retract a release."
        assert [actor for actor, _ in _audited(world, Outcome.REFUSED)] == ["api:intruder"]
        assert world.store.releases["2.4"].state is ReleaseState.SENT
        assert world.store.releases["2.4"].retraction is None
        assert _retractions(world) == 0


async def test_a_retraction_already_in_effect_is_still_403_for_a_token_the_plan_does_not_name() -> None:
    """Asking again answers where it stands only to a caller who may retract; anyone else is refused."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)
        await world.call("POST", RETRACT, {"reason": REASON})

        status, answer = await world.call("POST", RETRACT, {"reason": REASON}, token=INTRUDER_TOKEN)

        assert status == 403
        assert "Only announcers and approvers" in answer["error"]


async def test_an_unknown_release_is_404_and_audited_as_refused() -> None:
    """A version never announced is refused by the desk, so the refusal is in the audit log."""
    async with serving(NO_APPROVERS) as world:
        status, answer = await world.call("POST", "/api/releases/9.9/retract", {"reason": REASON})

        assert status == 404
        assert "9.9" in answer["error"]
        [entry] = world.store.audit
        assert (entry.actor, entry.action, entry.version, entry.outcome) == (
            "api:ci",
            "retract_release",
            "9.9",
            Outcome.REFUSED,
        )


async def test_an_empty_reason_is_400_and_audited_as_refused() -> None:
    """A blank reason reaches the desk, which asks why; nothing is withdrawn."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)

        status, answer = await world.call("POST", RETRACT, {"reason": "  "})

        assert status == 400
        assert answer["error"] == "Say why it is retracted: /release retract 2.4 REASON."
        assert [actor for actor, _ in _audited(world, Outcome.REFUSED)] == ["api:ci"]
        assert world.store.releases["2.4"].state is ReleaseState.SENT


async def test_a_body_that_is_not_a_reason_is_400() -> None:
    """Not JSON, or fields Herald does not take: refused before anything is read, with the form it takes."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)
        for body in ({"why": REASON}, {"reason": 3}, [REASON]):
            status, answer = await world.call("POST", RETRACT, body)
            assert status == 400, body
            assert '{"reason": ' in answer["error"]
        assert world.store.releases["2.4"].retraction is None


async def test_a_release_not_yet_sent_is_409_with_the_desk_s_sentence() -> None:
    """Before sending there is nothing to withdraw: the desk says to cancel instead."""
    async with serving(NO_APPROVERS) as world:
        await world.call("POST", "/api/releases", {"version": "2.4"})

        status, answer = await world.call("POST", RETRACT, {"reason": REASON})

        assert status == 409
        assert "cancel it instead" in answer["error"]


async def test_with_approvers_the_retraction_waits_until_an_approver_approves_it_in_chat() -> None:
    """202 retraction_waiting; asked again 200, the first proposal kept; the approver's approval retracts it."""
    async with serving(API_PLAN) as world:
        await sent_in_chat(world, approver=True)

        status, answer = await world.call("POST", RETRACT, {"reason": REASON})

        assert status == 202, answer
        assert answer["state"] == "retraction_waiting"
        assert "Nothing changes until an approver other than you approves it" in answer["message"]
        assert world.store.releases["2.4"].state is ReleaseState.SENT

        status, again = await world.call("POST", RETRACT, {"reason": "another reason"})

        assert status == 200, again
        assert again["state"] == "retraction_waiting"
        assert REASON in again["message"]
        assert [detail for _, detail in _audited(world, Outcome.DONE)] == [f"retraction proposed: {REASON}"]

        await world.say("approve 2.4", "slack:U0APPROVE1")
        await world.herald.engine.run_until_idle()

        release = world.store.releases["2.4"]
        assert release.state is ReleaseState.RETRACTED
        assert release.retraction_approved_by == "slack:U0APPROVE1"
        assert _retractions(world) > 0
        status, done = await world.call("POST", RETRACT, {"reason": REASON})
        assert status == 200
        assert done["state"] == "retracted"
