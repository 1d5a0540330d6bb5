"""The whole loop in Discord, driven as Discord drives it: app command, thread, buttons, sends, receipts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.discord import translate
from adapters.discord.messenger import DiscordMessenger
from bot.service.messages import outgoing
from tests.adapters.discord.conftest import (
    ANNOUNCER,
    APPROVER,
    CLOSED,
    ENG,
    ENGINEER,
    LEAD,
    OUTSIDER,
    RELEASES,
    SUPPORT,
    SUPPORT_2,
    SUPPORT_3,
    DiscordWorld,
)
from tests.fakes import HeldDesk
from tests.fakes.discord import BOT_USER_ID, FakeMessage, InteractionResponse


async def _command(world: DiscordWorld, sub: str, user: int = ANNOUNCER, **options: str) -> InteractionResponse:
    return await world.fake.slash_command(user, RELEASES, "release", options or None, subcommand=sub)


async def _announced(world: DiscordWorld) -> InteractionResponse:
    response = await _command(world, "announce", version="2.4")
    await world.until(lambda: "2.4" in world.store.releases and world.store.releases["2.4"].thread is not None)
    return response


async def test_announce_opens_a_thread_with_each_communique_and_its_buttons(discord_world: DiscordWorld) -> None:
    """/release announce posts the release message, a thread under it, and one message per group with buttons."""
    response = await _announced(discord_world)

    parent = discord_world.release_message()
    assert "Acme Cloud 2.4" in str(parent.embeds)
    assert parent.custom_ids() == [translate.custom_id("confirm", "2.4"), translate.custom_id("send", "2.4")]
    communiques = discord_world.communiques()
    assert [m.embeds[0]["title"].split(" · ")[0] for m in communiques] == ["Engineering", "Customer Support"]
    assert communiques[1].custom_ids() == [translate.custom_id(a, "2.4") for a in ("approve", "edit", "reject")]
    assert "Support: Acme Cloud 2.4 is live" in communiques[1].embeds[0]["description"]
    await discord_world.until(lambda: response.followups or response.content)
    said = response.content or response.followups[-1]["content"]
    assert f"<#{parent.thread_id}>" in said


def _posts(world: DiscordWorld, channel: int | None) -> list[FakeMessage]:
    """What Herald posted in a channel or DM (not the private answers to interactions)."""
    assert channel is not None
    return [m for m in world.fake.messages_in(channel) if m.author_id == BOT_USER_ID and m.webhook_id is None]


def _said(response: InteractionResponse) -> str:
    """What Herald told the person: the answer itself, or its follow-up after a defer."""
    if response.content:
        return response.content
    return str(response.followups[-1].get("content", "")) if response.followups else ""


async def _click(world: DiscordWorld, message: FakeMessage, action: str, user: int = ANNOUNCER) -> InteractionResponse:
    if action == "ack":
        custom_id = next(c for c in message.custom_ids() if c.startswith(translate.ACK))
    else:
        custom_id = translate.custom_id(action, "2.4")
    response = await world.fake.click(user, message.id, custom_id)
    await world.until(lambda: response.type not in (5, 6) or response.followups)
    return response


async def _approved(world: DiscordWorld) -> None:
    await _announced(world)
    await _click(world, world.release_message(), "confirm")
    for message in world.communiques():
        await _click(world, message, "approve")
    assert all(c.approved for c in world.store.releases["2.4"].communiques.values())
    said = _said(await _click(world, world.release_message(), "send"))
    assert "second person" in said
    await world.until(lambda: translate.custom_id("final", "2.4") in world.release_message().custom_ids())
    await _click(world, world.release_message(), "final", user=APPROVER)
    assert world.store.releases["2.4"].state.value == "sending"


async def _sent(world: DiscordWorld) -> None:
    await _approved(world)
    await world.herald.engine.run_until_idle()


async def test_approving_a_communique_redraws_it_and_its_buttons(discord_world: DiscordWorld) -> None:
    """Approve on a communiqué records who approved it and the message loses its Approve button."""
    await _announced(discord_world)
    engineering = discord_world.communiques()[0]

    await _click(discord_world, engineering, "approve")

    communique = discord_world.store.releases["2.4"].communiques["engineering"]
    assert communique.approved
    assert communique.reviewed_by == f"discord:{ANNOUNCER}"
    await discord_world.until(
        lambda: translate.custom_id("approve", "2.4") not in discord_world.fake.messages[engineering.id].custom_ids()
    )
    assert f"approved by <@{ANNOUNCER}>" in str(discord_world.fake.messages[engineering.id].embeds)


async def test_a_stranger_cannot_approve_and_is_told_why_privately(discord_world: DiscordWorld) -> None:
    """Someone not on the plan's lists gets an ephemeral refusal; nothing changes."""
    await _announced(discord_world)

    response = await _click(discord_world, discord_world.communiques()[0], "approve", user=OUTSIDER)

    assert not discord_world.store.releases["2.4"].communiques["engineering"].approved
    assert response.ephemeral or response.type == 5
    assert _said(response).startswith("❌")


async def test_the_announcer_cannot_give_the_second_approval(discord_world: DiscordWorld) -> None:
    """Four eyes: the final approval must come from someone else."""
    await _announced(discord_world)
    await _click(discord_world, discord_world.release_message(), "confirm")
    for message in discord_world.communiques():
        await _click(discord_world, message, "approve")
    await _click(discord_world, discord_world.release_message(), "send")
    await discord_world.until(
        lambda: translate.custom_id("final", "2.4") in discord_world.release_message().custom_ids()
    )

    response = await _click(discord_world, discord_world.release_message(), "final")

    assert discord_world.store.releases["2.4"].state.value == "awaiting_approval"
    assert "❌" in _said(response)


async def test_edit_opens_a_modal_with_the_text_and_saving_rechecks_it(discord_world: DiscordWorld) -> None:
    """Edit answers with a modal holding the current text; submitting it makes a new revision."""
    await _announced(discord_world)
    support = discord_world.communiques()[1]

    opened = await discord_world.fake.click(ANNOUNCER, support.id, translate.custom_id("edit", "2.4"))

    assert opened.type == 9
    assert "Support: Acme Cloud 2.4 is live" in str(opened.data)
    saved = await discord_world.fake.submit_modal(
        ANNOUNCER,
        translate.modal_id("edit", "2.4"),
        {translate.EDIT_INPUT: "Support: 2.4 is out. Please acknowledge by Friday."},
        channel_id=support.channel_id,
        message_id=support.id,
    )
    communique = discord_world.store.releases["2.4"].communiques["support"]
    assert communique.text == "Support: 2.4 is out. Please acknowledge by Friday."
    assert communique.revision == 2
    assert saved.type in (4, 5)
    await discord_world.until(lambda: "by Friday" in str(discord_world.fake.messages[support.id].embeds))


async def test_send_back_asks_why_and_keeps_the_reason_with_the_communique(discord_world: DiscordWorld) -> None:
    """Send back opens a modal for the reason; an empty one changes nothing, a real one sends it back with it."""
    await _announced(discord_world)
    support = discord_world.communiques()[1]
    opened = await discord_world.fake.click(APPROVER, support.id, translate.custom_id("reject", "2.4"))
    assert opened.type == 9
    assert opened.data["custom_id"] == translate.modal_id("back", "2.4")

    async def submit(reason: str) -> str:
        answered = await discord_world.fake.submit_modal(
            APPROVER,
            translate.modal_id("back", "2.4"),
            {translate.SEND_BACK_INPUT: reason},
            channel_id=support.channel_id,
            message_id=support.id,
        )
        return _said(answered)

    assert "Say what must change" in await submit("  ")
    assert discord_world.store.releases["2.4"].communiques["support"].review.value == "pending"
    await submit("Name the FAQ\n link, please.")
    communique = discord_world.store.releases["2.4"].communiques["support"]
    assert communique.review.value == "sent_back"
    assert communique.note == "Name the FAQ link, please."
    await discord_world.until(lambda: "Name the FAQ link" in str(discord_world.fake.messages[support.id].embeds))


async def test_the_whole_loop_sends_to_channels_and_dms_and_records_a_closed_dm(discord_world: DiscordWorld) -> None:
    """After the second approval the engine posts to the channel, DMs each person and role member once;
    a person with closed DMs is a permanent failure, tried once and never again."""
    await _sent(discord_world)
    fake = discord_world.fake

    channel_copy = _posts(discord_world, ENG)
    assert len(channel_copy) == 1
    assert "**Acme Cloud 2.4** is live" in channel_copy[0].content
    assert channel_copy[0].custom_ids() == [translate.ack_id(f"2.4|engineering|discord:channel:{ENG}")]
    assert channel_copy[0].allowed_mentions == {"parse": []}  # nobody is pinged
    assert channel_copy[0].nonce is not None
    for person in (SUPPORT, SUPPORT_2, SUPPORT_3):
        dm = fake.dm_channel_of(person)
        assert dm is not None
        (message,) = _posts(discord_world, dm)
        assert "Please acknowledge" in message.content
        assert "[FAQ](<https://example.com/faq>)" in message.content  # a Slack-style link, as Discord links
        assert message.custom_ids() == [translate.ack_id(f"2.4|support|discord:user:{person}")]
    closed = fake.dm_channel_of(CLOSED)
    assert closed is not None
    assert _posts(discord_world, closed) == []
    assert len(fake.calls_to("POST", rf"/channels/{closed}/messages")) == 1
    failed = [d for d in discord_world.store.deliveries.values() if d.target == f"discord:user:{CLOSED}"]
    assert failed[0].status.value == "unreachable"  # never attempted: a person with DMs closed, not a failed send
    assert failed[0].permanent
    assert "cannot send messages to this user" in (failed[0].error or "")
    await discord_world.herald.engine.run_until_idle()
    assert len(fake.calls_to("POST", rf"/channels/{closed}/messages")) == 1
    status = await discord_world.herald.desk.status("2.4")
    support = next(g for g in status.groups if g.id == "support")
    assert (support.sent, support.unreachable, support.expected) == (3, 1, 3)
    assert support.missed == ((f"discord:{CLOSED}", failed[0].error),)


async def test_reactions_and_clicks_are_receipts_once_per_person(discord_world: DiscordWorld) -> None:
    """✅ on the channel copy and Acknowledge in a DM each count once; other emoji, repeats and
    removed reactions change nothing; a reaction by someone else on a DM is not counted. The DM
    itself turns into the receipt, its button gone, even when the button was pressed twice at once."""
    await _sent(discord_world)
    fake = discord_world.fake
    (channel_copy,) = _posts(discord_world, ENG)
    dm = _posts(discord_world, fake.dm_channel_of(SUPPORT))[0]

    await fake.react(ENGINEER, channel_copy.id)
    await fake.react(ENGINEER, channel_copy.id)
    await fake.react(ENGINEER, channel_copy.id, "🎉")
    await fake.unreact(ENGINEER, channel_copy.id)
    first, second = await asyncio.gather(
        _click(discord_world, dm, "ack", user=SUPPORT), _click(discord_world, dm, "ack", user=SUPPORT)
    )
    await fake.react(SUPPORT_2, dm.id)  # not their message: Discord would not even let them see it

    await discord_world.until(lambda: len(discord_world.store.receipts) >= 2)
    receipts = sorted((r.person, r.group_id, r.source.value) for r in discord_world.store.receipts.values())
    assert receipts == [
        (f"discord:{SUPPORT}", "support", "button"),
        (f"discord:{ENGINEER}", "engineering", "reaction"),
    ]
    assert (first.type, second.type) == (7, 7)  # both answered by redrawing the DM, not by a new message
    redrawn = fake.messages[dm.id]
    assert redrawn.custom_ids() == []
    assert "✅" in redrawn.content
    assert "recorded" in redrawn.content
    assert "-# Please acknowledge" not in redrawn.content
    assert f"<@{SUPPORT}>" in redrawn.content  # named as Discord names people, not by Herald's id
    assert "Acme Cloud 2.4" in redrawn.content  # the communiqué itself stays


async def test_live_counts_land_on_the_channel_copy_and_the_release_message(discord_world: DiscordWorld) -> None:
    """A receipt redraws the channel copy with its own count and the release message's per-group table."""
    await _sent(discord_world)
    fake = discord_world.fake
    (channel_copy,) = _posts(discord_world, ENG)

    await fake.react(ENGINEER, channel_copy.id)
    await fake.react(OUTSIDER, channel_copy.id)

    await discord_world.until(lambda: "2 acknowledged" in fake.messages[channel_copy.id].content)
    assert fake.messages[channel_copy.id].custom_ids() == [translate.ack_id(f"2.4|engineering|discord:channel:{ENG}")]
    await discord_world.until(lambda: "1/1 sent · 2/2 acknowledged" in str(discord_world.release_message().embeds))
    shown = str(discord_world.release_message().embeds)
    assert "Customer Support**: 3/4 sent, 1 never attempted · 0/3 acknowledged" in shown


async def test_a_429_is_waited_out_and_the_message_goes_once(discord_world: DiscordWorld) -> None:
    """Discord answers the channel post with 429 + retry_after: the message still goes, exactly once."""
    await _approved(discord_world)
    discord_world.fake.fail_next("POST", rf"/channels/{ENG}/messages", retry_after=0.3)

    await discord_world.herald.engine.run_until_idle()

    assert len(_posts(discord_world, ENG)) == 1
    assert [c.status for c in discord_world.fake.calls_to("POST", rf"/channels/{ENG}/messages")] == [429, 200]


async def test_reminders_go_by_dm_to_those_who_have_not_acknowledged(discord_world: DiscordWorld) -> None:
    """Thirty minutes on, everyone in the support group who has not acknowledged gets one reminder DM."""
    await _sent(discord_world)
    fake = discord_world.fake
    dm = _posts(discord_world, fake.dm_channel_of(SUPPORT))[0]
    await _click(discord_world, dm, "ack", user=SUPPORT)

    discord_world.clock.advance(timedelta(minutes=31))
    await discord_world.herald.reminders.sweep()
    await discord_world.herald.engine.run_until_idle()

    assert len(_posts(discord_world, fake.dm_channel_of(SUPPORT))) == 1
    for person in (SUPPORT_2, SUPPORT_3):
        messages = _posts(discord_world, fake.dm_channel_of(person))
        assert len(messages) == 2
        assert "Reminder" in messages[1].content


async def test_status_is_answered_privately_with_the_table(discord_world: DiscordWorld) -> None:
    """/release status shows each group's figures to the person who asked, and nobody else."""
    await _sent(discord_world)

    response = await _command(discord_world, "status", version="2.4")

    await discord_world.until(lambda: response.data.get("embeds") or response.followups)
    shown = str(response.data.get("embeds") or response.followups[-1].get("embeds"))
    assert "Engineering**: 1/1 sent" in shown
    assert response.ephemeral or response.type == 5


async def test_a_mistyped_version_gets_a_clear_error(discord_world: DiscordWorld) -> None:
    """A version Herald cannot read is refused in a sentence, privately."""
    response = await _command(discord_world, "announce", version="two point four")

    assert _said(response).startswith("❌")
    assert "version" in _said(response)
    assert discord_world.store.releases == {}


async def test_past_the_deadline_the_lead_is_told_once_who_has_not_acknowledged(discord_world: DiscordWorld) -> None:
    """At ack_within the escalation goes by DM to the plan's escalate_to, naming the silent, once."""
    await _sent(discord_world)

    for _ in range(2):
        discord_world.clock.advance(timedelta(hours=2, minutes=1))
        await discord_world.herald.reminders.sweep()
        await discord_world.herald.engine.run_until_idle()

    (escalation,) = _posts(discord_world, discord_world.fake.dm_channel_of(LEAD))
    assert f"<@{SUPPORT}>" in escalation.content or f"discord:{SUPPORT}" in escalation.content
    assert escalation.custom_ids() == []  # nothing to acknowledge in a note to a manager


async def test_new_dms_are_opened_no_faster_than_the_configured_pace(discord_world: DiscordWorld) -> None:
    """Opening DM channels is paced (DISCORD_DMS_PER_MINUTE, 30 by default): four new DMs take at least 6 s."""
    await _approved(discord_world)
    started = discord_world.clock.now()

    await discord_world.herald.engine.run_until_idle()

    opened = discord_world.fake.calls_to("POST", r"/users/@me/channels")
    assert len(opened) == 4  # sam, jo, kai and quinn (whose DMs turn out to be closed)
    assert discord_world.clock.now() - started >= timedelta(seconds=6)


async def test_a_retried_send_leaves_one_message(discord_world: DiscordWorld) -> None:
    """A send repeated after a lost answer carries the same nonce, so Discord keeps the first message."""
    await _sent(discord_world)
    messenger = DiscordMessenger(discord_world.front.gateway)  # the engine's own messenger, as wired
    delivery = next(d for d in discord_world.store.deliveries.values() if d.target == f"discord:channel:{ENG}")
    message = outgoing(discord_world.herald.desk.plan, delivery, "**Acme Cloud 2.4** is live.")
    assert message is not None

    ref = await messenger.send(message)

    assert ref == delivery.message_ref
    assert len(_posts(discord_world, ENG)) == 1


async def test_shutdown_waits_for_the_receipts_under_way(discord_world: DiscordWorld) -> None:
    """A reaction and a click being recorded when Herald is told to stop are recorded before it stops."""
    await _sent(discord_world)
    fake, front = discord_world.fake, discord_world.front
    await front.flush()  # nothing left from the sending
    held = HeldDesk(front.flow.desk)
    front.flow.desk = held  # type: ignore[assignment]
    (channel_copy,) = _posts(discord_world, ENG)
    dm = _posts(discord_world, fake.dm_channel_of(SUPPORT))[0]
    await fake.react(ENGINEER, channel_copy.id)
    clicking = asyncio.ensure_future(_click(discord_world, dm, "ack", user=SUPPORT))
    await discord_world.until(lambda: held.waiting == 2)
    asyncio.get_running_loop().call_later(0.05, held.release)
    await front.flush()  # what stopping does first
    people = sorted(r.person for r in discord_world.store.receipts.values())
    assert people == [f"discord:{SUPPORT}", f"discord:{ENGINEER}"]
    assert (await clicking).type == 7


async def test_a_burst_of_receipts_redraws_the_channel_copy_a_few_times_not_each_time(
    discord_world: DiscordWorld,
) -> None:
    """Twenty reactions in a burst: the copy is edited at most a handful of times and ends at the right count."""
    await _sent(discord_world)
    fake = discord_world.fake
    (channel_copy,) = _posts(discord_world, ENG)
    people = [600000000000000000 + i for i in range(20)]
    for person in people:
        fake.add_user(person, f"person{person % 100}")

    for person in people:
        await fake.react(person, channel_copy.id)

    await discord_world.until(lambda: "20 acknowledged" in fake.messages[channel_copy.id].content)
    await discord_world.front.flush()
    assert fake.messages[channel_copy.id].edits <= 4


async def test_without_permission_to_post_the_announcer_is_told_what_to_grant(discord_world: DiscordWorld) -> None:
    """Discord refuses the release message (50013): the answer names the permissions; announcing again works."""
    discord_world.fake.fail_next("POST", rf"/channels/{RELEASES}/messages", status=403, code=50013)

    refused = await _command(discord_world, "announce", version="2.4")

    await discord_world.until(lambda: _said(refused))
    assert "Create Public Threads" in _said(refused)
    assert discord_world.store.releases["2.4"].thread is None
    await _announced(discord_world)
    assert len(discord_world.communiques()) == 2


async def test_another_bots_reaction_is_not_a_receipt(discord_world: DiscordWorld) -> None:
    """Only people acknowledge: a bot's ✅ on the channel copy is ignored."""
    await _sent(discord_world)
    (channel_copy,) = _posts(discord_world, ENG)

    await discord_world.fake.react(500000000000000001, channel_copy.id)
    await discord_world.fake.react(ENGINEER, channel_copy.id)

    await discord_world.until(lambda: discord_world.store.receipts)
    assert [r.person for r in discord_world.store.receipts.values()] == [f"discord:{ENGINEER}"]


async def test_slack_style_emoji_codes_arrive_as_emoji(discord_world: DiscordWorld) -> None:
    """A communiqué written with :rocket: shows a rocket in Discord, which prints a bot's codes as text."""
    await _announced(discord_world)
    engineering = discord_world.communiques()[0]
    await discord_world.fake.click(ANNOUNCER, engineering.id, translate.custom_id("edit", "2.4"))
    await discord_world.fake.submit_modal(
        ANNOUNCER,
        translate.modal_id("edit", "2.4"),
        {translate.EDIT_INPUT: ":rocket: **Acme Cloud 2.4** is live."},
        channel_id=engineering.channel_id,
        message_id=engineering.id,
    )

    await discord_world.until(
        lambda: "🚀 **Acme Cloud 2.4**" in str(discord_world.fake.messages[engineering.id].embeds)
    )
