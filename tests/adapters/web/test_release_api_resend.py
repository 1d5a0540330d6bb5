"""POST /api/releases/VERSION/resend over real HTTP: a pipeline sends again to those the fake Slack missed."""

from __future__ import annotations

from typing import Any

from bot.domain.audit import Outcome
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.release import ReleaseState
from tests.adapters.web.test_release_api import API_PLAN, INTRUDER_TOKEN, ApiWorld
from tests.adapters.web.test_release_api_retract import NO_APPROVERS, sent_in_chat, serving

RESEND = "/api/releases/2.4/resend"
FAILING = "U0SUP3"  # in the support user group: its DM fails once, for good
CLOSED = "U0SUP2"  # in the support user group: has turned off messages from apps
SCOPED = API_PLAN.replace(
    'approvers = ["slack:U0APPROVE1"]', 'approvers = ["slack:U0APPROVE1"]\nscopes = { "api:ci" = ["engineering"] }'
)


async def failed_once(world: ApiWorld) -> None:
    """Sent in chat while Slack refuses FAILING's DM once with a permanent error: that copy is failed."""
    world.slack.fail_next("chat.postMessage", "account_inactive", channel=FAILING)
    await sent_in_chat(world, approver=False)
    assert delivery_to(world, FAILING).status is DeliveryStatus.FAILED


def delivery_to(world: ApiWorld, user: str) -> Delivery:
    """The communiqué's delivery to ``user``'s DM."""
    [found] = [
        d for d in world.store.deliveries.values() if d.purpose is Purpose.COMMUNIQUE and d.target == f"slack:@{user}"
    ]
    return found


def posted_to(world: ApiWorld, user: str) -> int:
    """How many messages reached ``user``'s DM."""
    return len(world.slack.messages(world.slack.dm_channel(user)))


def _audited(world: ApiWorld, outcome: Outcome) -> list[tuple[str, str]]:
    """The resends in the audit log with ``outcome``: who, and what was recorded."""
    return [(e.actor, e.detail) for e in world.store.audit if e.action == "resend" and e.outcome is outcome]


async def test_a_failed_copy_is_sent_again_once_with_202_and_asked_again_answers_200() -> None:
    """The failed DM goes out once more; a second call finds nobody left, answers 200 and sends nothing."""
    async with serving(NO_APPROVERS) as world:
        await failed_once(world)

        status, answer = await world.call("POST", RESEND, {"which": "failed"})

        assert status == 202, answer
        assert answer["message"] == "Sending again to 1 failed, once each."
        assert answer["version"] == "2.4"
        assert answer["state"] == "sending"
        assert answer["status_url"] == f"{world.base}/dashboard/2.4"
        await world.herald.engine.run_until_idle()
        assert delivery_to(world, FAILING).status is DeliveryStatus.SENT
        assert posted_to(world, FAILING) == 1
        assert _audited(world, Outcome.DONE) == [("api:ci", "1 failed sent again")]
        posts, audit = world.posts(), len(world.store.audit)

        status, again = await world.call("POST", RESEND, {"which": "failed"})

        assert status == 200, again
        assert again["message"] == "Nobody of release 2.4 was failed; nothing to send again."
        assert again["state"] == "sent"
        await world.herald.engine.run_until_idle()
        assert world.posts() == posts
        assert len(world.store.audit) == audit


async def test_someone_never_attempted_is_sent_again_once_for_the_group_named() -> None:
    """Messages from apps back on: resend missed for support reaches that person once; asked again, 200."""
    async with serving(NO_APPROVERS) as world:
        world.slack.messages_tab_off.add(CLOSED)
        await sent_in_chat(world, approver=False)
        assert delivery_to(world, CLOSED).status is DeliveryStatus.UNREACHABLE
        world.slack.messages_tab_off.clear()

        status, answer = await world.call("POST", RESEND, {"which": "missed", "group": "support"})

        assert status == 202, answer
        assert answer["message"] == "Sending again to 1 missed, once each."
        await world.herald.engine.run_until_idle()
        assert delivery_to(world, CLOSED).status is DeliveryStatus.SENT
        assert posted_to(world, CLOSED) == 1

        status, again = await world.call("POST", RESEND, {"which": "missed", "group": "support"})

        assert status == 200, again
        assert "nothing to send again" in again["message"]
        await world.herald.engine.run_until_idle()
        assert posted_to(world, CLOSED) == 1


async def test_unread_sends_the_communique_again_to_those_reached_who_have_not_acknowledged() -> None:
    """``unread`` is taken as chat takes it: support's four people, reached but silent, get it once more (202)."""
    async with serving(NO_APPROVERS) as world:
        await sent_in_chat(world, approver=False)

        status, answer = await world.call("POST", RESEND, {"which": "unread", "group": "support"})

        assert status == 202, answer
        assert answer["message"] == "Sending again to 4 unread, once each."
        await world.herald.engine.run_until_idle()
        again = [d for d in world.store.deliveries.values() if d.purpose is Purpose.REMINDER]
        assert sorted(d.target for d in again) == [
            "slack:@U0LEAD",
            "slack:@U0SUP2",
            "slack:@U0SUP3",
            "slack:@U0SUPPORT1",
        ]
        assert {d.status for d in again} == {DeliveryStatus.SENT}


async def test_a_token_the_plan_does_not_name_is_403_and_audited_as_refused() -> None:
    """api:intruder holds a valid token but is no announcer: refused with the desk's sentence, nothing sent again."""
    async with serving(NO_APPROVERS) as world:
        await failed_once(world)

        status, answer = await world.call("POST", RESEND, {"which": "failed"}, token=INTRUDER_TOKEN)

        assert status == 403
        assert answer["error"].startswith("Only announcers and approvers can ")
        assert [actor for actor, _ in _audited(world, Outcome.REFUSED)] == ["api:intruder"]
        assert delivery_to(world, FAILING).status is DeliveryStatus.FAILED


async def test_a_pipeline_scoped_to_one_group_is_403_for_a_release_that_reaches_another() -> None:
    """api:ci may act for engineering only: a resend of 2.4, which reaches support too, is refused and audited."""
    async with serving(SCOPED) as world:
        for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
            await world.say(line, "slack:U0ANNOUNCE1")
        await world.say("approve 2.4", "slack:U0APPROVE1")
        await world.herald.engine.run_until_idle()

        status, answer = await world.call("POST", RESEND, {"which": "failed", "group": "engineering"})

        assert status == 403
        assert "your scope in the plan is engineering, and this touches support" in answer["error"]
        assert [actor for actor, _ in _audited(world, Outcome.REFUSED)] == ["api:ci"]


async def test_an_unknown_release_is_404_and_audited_as_refused() -> None:
    """A version never announced is refused by the desk, so the refusal is in the audit log."""
    async with serving(NO_APPROVERS) as world:
        status, answer = await world.call("POST", "/api/releases/9.9/resend", {"which": "missed"})

        assert status == 404
        assert "9.9" in answer["error"]
        [entry] = world.store.audit
        assert (entry.actor, entry.action, entry.version, entry.outcome) == ("api:ci", "resend", "9.9", Outcome.REFUSED)


async def test_a_body_that_is_not_a_resend_is_400_and_records_nothing() -> None:
    """Not JSON, fields Herald does not take, or values that are not one word each: refused with the form it takes."""
    async with serving(NO_APPROVERS) as world:
        await failed_once(world)
        audit = len(world.store.audit)
        bodies: list[Any] = [
            ["failed"],
            {"which": "failed", "why": "flaky"},
            {"which": 3},
            {"group": "support"},
            {"which": "missed failed"},
            {"which": "failed", "group": "support missed"},
        ]
        for body in bodies:
            status, answer = await world.call("POST", RESEND, body)
            assert status == 400, body
            assert '{"which": "missed", "group": "support"}' in answer["error"]
        assert len(world.store.audit) == audit
        assert delivery_to(world, FAILING).status is DeliveryStatus.FAILED


async def test_a_set_the_parser_does_not_know_is_400_with_its_usage() -> None:
    """``which`` is read by /release resend's own parser: an unknown word is refused with the words it takes."""
    async with serving(NO_APPROVERS) as world:
        await failed_once(world)

        status, answer = await world.call("POST", RESEND, {"which": "everyone"})

        assert status == 400
        assert answer["error"].startswith("Say whom to send to again. Usage: /release resend VERSION [GROUP] missed")
        assert delivery_to(world, FAILING).status is DeliveryStatus.FAILED


async def test_a_group_the_release_does_not_have_is_400_and_audited_as_refused() -> None:
    """A well-formed group id the release lacks reaches the desk, which names the groups it has."""
    async with serving(NO_APPROVERS) as world:
        await failed_once(world)

        status, answer = await world.call("POST", RESEND, {"which": "failed", "group": "sales"})

        assert status == 400
        assert "sales" in answer["error"]
        assert [actor for actor, _ in _audited(world, Outcome.REFUSED)] == ["api:ci"]
        assert delivery_to(world, FAILING).status is DeliveryStatus.FAILED


async def test_a_release_not_yet_sent_is_409_with_the_desk_s_sentence() -> None:
    """Before sending there is nothing to send again: the desk says so, and the state is unchanged."""
    async with serving(NO_APPROVERS) as world:
        await world.call("POST", "/api/releases", {"version": "2.4"})

        status, answer = await world.call("POST", RESEND, {"which": "failed"})

        assert status == 409
        assert "nothing has been sent" in answer["error"]
        assert world.store.releases["2.4"].state is ReleaseState.VALIDATING
