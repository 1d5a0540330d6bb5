"""Who was meant, reached and confirmed, in Slack: a user group of 300 with people Herald cannot message."""

from __future__ import annotations

from bot.domain.commands import parse_release_command
from bot.domain.delivery import DeliveryStatus, Purpose
from tests.adapters.slack.conftest import SlackWorld
from tests.adapters.slack.test_scenario import _approved

DEACTIVATED = [f"U2D{i:05d}" for i in range(5)]
BOTS = [f"U2B{i:05d}" for i in range(3)]
CLOSED = [f"U2C{i:05d}" for i in range(4)]  # turned off messages from apps
OTHERS = [f"U2P{i:05d}" for i in range(288)]
ANNOUNCER = "slack:U0ANNOUNCE1"


def _support_group_of_300(world: SlackWorld) -> None:
    for user in OTHERS + CLOSED:
        world.slack.add_user(user, f"person-{user}")
    for user in DEACTIVATED:
        world.slack.add_user(user, f"gone-{user}", deleted=True)
    for user in BOTS:
        world.slack.add_user(user, f"bot-{user}", is_bot=True)
    world.slack.messages_tab_off.update(CLOSED)
    world.slack.add_usergroup("S0SUPPORT", OTHERS + DEACTIVATED + BOTS + CLOSED)


async def _support(world: SlackWorld) -> object:
    status = await world.herald.desk.status("2.4")
    return next(g for g in status.groups if g.id == "support")


def _posted_to(world: SlackWorld, users: list[str]) -> int:
    """How many copies reached these people's DMs."""
    return sum(len(world.slack.messages(world.slack.dm_channel(u))) for u in users)


async def test_every_intended_person_is_in_one_state_and_the_states_add_up(slack_world: SlackWorld) -> None:
    """300 in the user group: 288 delivered, 12 never attempted with why; the sum is 300 (plus sam and the lead)."""
    _support_group_of_300(slack_world)
    await _approved(slack_world)
    await slack_world.herald.engine.run_until_idle()

    support = await _support(slack_world)

    states = dict(support.reconciled)  # type: ignore[attr-defined]
    assert states == {"delivered": 290, "never attempted": 12}  # 288 + sam and the lead, sent to directly
    missed = dict(support.missed)  # type: ignore[attr-defined]
    assert {p for p, why in missed.items() if why == "a deactivated account"} == {f"slack:{u}" for u in DEACTIVATED}
    assert {p for p, why in missed.items() if why == "a bot"} == {f"slack:{u}" for u in BOTS}
    assert {p for p, why in missed.items() if "turned off messages from apps" in why} == {f"slack:{u}" for u in CLOSED}
    assert "302 meant: 290 delivered, 12 never attempted" in support.figures()  # type: ignore[attr-defined]
    assert _posted_to(slack_world, DEACTIVATED + BOTS) == 0  # never tried: Slack was not even asked
    assert support.expected == 290  # type: ignore[attr-defined]
    people = dict(support.people)  # type: ignore[attr-defined]
    assert len(people) == 302
    assert people[f"slack:{BOTS[0]}"] == "never attempted"
    assert people[f"slack:{OTHERS[0]}"] == "delivered"


async def test_resend_missed_reaches_exactly_those_who_became_reachable_once(slack_world: SlackWorld) -> None:
    """The four turn messages from apps back on: resend missed delivers to them, once; the rest stay missed."""
    _support_group_of_300(slack_world)
    await _approved(slack_world)
    await slack_world.herald.engine.run_until_idle()
    slack_world.slack.messages_tab_off.clear()
    posts = len(slack_world.slack.calls_to("chat.postMessage"))

    reply = await slack_world.herald.desk.handle(parse_release_command("resend 2.4 support missed", ANNOUNCER))
    await slack_world.herald.engine.run_until_idle()
    again = await slack_world.herald.desk.handle(parse_release_command("resend 2.4 support missed", ANNOUNCER))
    await slack_world.herald.engine.run_until_idle()

    assert not reply.failed
    assert _posted_to(slack_world, CLOSED) == 4
    assert _posted_to(slack_world, DEACTIVATED + BOTS) == 0
    support = await _support(slack_world)
    assert dict(support.reconciled) == {"delivered": 294, "never attempted": 8}  # type: ignore[attr-defined]
    copies = [
        d
        for d in slack_world.store.deliveries.values()
        if d.purpose is Purpose.COMMUNIQUE and d.target in {f"slack:@{u}" for u in CLOSED}
    ]
    assert {d.status for d in copies} == {DeliveryStatus.SENT}
    new_posts = [c for c in slack_world.slack.calls_to("chat.postMessage")[posts:] if c.error is None]
    assert len([c for c in new_posts if c.params.get("channel") != "C0RELEASE"]) == 4
    assert "nothing to send again" in str(again.views)  # the 8 are still left out by the directory
