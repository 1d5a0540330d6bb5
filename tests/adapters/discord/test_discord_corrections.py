"""Corrections on Discord: every copy of a communiqué already sent is edited in place once, never posted again."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from adapters.discord import render, translate
from adapters.discord.messenger import DiscordMessenger
from bot.domain.commands import parse_release_command
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.errors import PermanentDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.clock import FixedClock
from bot.service.messages import outgoing
from storage.memory import MemoryStore
from tests.adapters.discord.conftest import (
    ANNOUNCER,
    APPROVER,
    ENG,
    RELEASES,
    DiscordWorld,
    send_release,
    skipping,
    start_herald,
)
from tests.fakes.discord import BOT_USER_ID, FakeDiscord
from tests.fakes.discord.limits import LIMITS, quicker

PEOPLE = tuple(210000000000000000 + i for i in range(299))  # with the channel, 300 copies
NOTES = 300000000000000009  # a channel whose group asks for no receipt
CORRECTED = "**Acme Cloud 2.4** is live. Notes: https://example.com/releases/2.4 (the upgrade needs a restart)"
_PATCH = re.compile(r"/channels/(\d+)/messages/(\d+)")

PLAN = f"""
product = "Acme Cloud"

[access]
announcers = ["discord:{ANNOUNCER}"]
approvers = ["discord:{APPROVER}"]

[[group]]
id = "everyone"
name = "Everyone"
to = ["discord:channel:{ENG}", {", ".join(f'"discord:user:{p}"' for p in PEOPLE)}]
message = "**Acme Cloud {{{{ version }}}}** is live. Notes: https://example.com/releases/{{{{ version }}}}"

[[group]]
id = "notes"
name = "Release notes"
to = ["discord:channel:{NOTES}"]
ack = "none"
message = "Acme Cloud {{{{ version }}}} release notes: https://example.com/releases/{{{{ version }}}}"
"""


@pytest.fixture
async def world(fake_discord_patched: None) -> AsyncIterator[DiscordWorld]:
    """Herald on a fake Discord that enforces every rate limit, with a channel and 299 people to reach (300 copies)."""
    async with FakeDiscord(members_intent_granted=True, enforce_limits=True, rate_limits=quicker(LIMITS, 25)) as fake:
        fake.add_channel(RELEASES, "releases")
        fake.add_channel(ENG, "eng-announce")
        fake.add_channel(NOTES, "release-notes")
        fake.add_user(ANNOUNCER, "dana")
        fake.add_user(APPROVER, "lee")
        for i, person in enumerate(PEOPLE):
            fake.add_user(person, f"person{i}")
        clock = FixedClock()
        fake.clock = skipping(clock)
        started = await start_herald(fake, MemoryStore(), clock, plan=PLAN)
        try:
            yield started
        finally:
            await started.service.close()


async def _say(world: DiscordWorld, line: str, actor: int) -> None:
    reply = await world.herald.desk.handle(parse_release_command(line, f"discord:{actor}"))
    assert not reply.failed, reply


async def _sent(world: DiscordWorld) -> dict[str, Delivery]:
    """Release 2.4 sent to every copy; the copies of ``everyone``, by key."""
    await send_release(world)
    await world.herald.engine.run_until_idle()
    copies = _copies(world, "everyone")
    assert len(copies) == 1 + len(PEOPLE)
    assert all(d.status is DeliveryStatus.SENT for d in copies.values())
    return copies


async def _corrected(world: DiscordWorld, group: str = "everyone", text: str = CORRECTED) -> None:
    """A correction proposed by the announcer and approved by the approver (four eyes)."""
    await _say(world, f"correct 2.4 {group} {text}", ANNOUNCER)
    await _say(world, f"approve 2.4 {group}", APPROVER)


def _copies(world: DiscordWorld, group: str, purpose: Purpose = Purpose.COMMUNIQUE) -> dict[str, Delivery]:
    return {d.key: d for d in world.store.deliveries.values() if d.group_id == group and d.purpose is purpose}


def _place(delivery: Delivery) -> tuple[int, int]:
    place = translate.parse_message_ref(delivery.message_ref or "")
    assert place is not None, delivery
    return place


def _patches(world: DiscordWorld) -> Counter[int]:
    """How many edits of each message Discord accepted."""
    return Counter(
        int(found[2]) for c in world.fake.calls_to("PATCH", _PATCH.pattern) if (found := _PATCH.fullmatch(c.path))
    )


def _gets(world: DiscordWorld, channel: int, message: int) -> int:
    return len(world.fake.calls_to("GET", rf"/channels/{channel}/messages/{message}"))


def _posts(world: DiscordWorld) -> int:
    """How many messages Herald posted outside its walkthrough (copies, follow-ups)."""
    walkthrough = {RELEASES, *world.fake.threads}
    return sum(
        1
        for m in world.fake.messages.values()
        if m.author_id == BOT_USER_ID and m.webhook_id is None and m.channel_id not in walkthrough
    )


def _kept_to_the_limits(world: DiscordWorld) -> None:
    assert world.fake.early_calls == []
    assert world.fake.untabled_calls == []


async def test_an_approved_correction_edits_every_copy_in_place_exactly_once(world: DiscordWorld) -> None:
    """The channel copy and 299 DMs are each PATCHed once with the corrected text, marked as corrected;
    nothing is posted, and a second run edits nothing more."""
    copies = await _sent(world)
    posted = _posts(world)

    await _corrected(world)
    await world.herald.engine.run_until_idle()

    patched = _patches(world)
    for copy in copies.values():
        _, message = _place(copy)
        assert patched[message] == 1, copy.target
        shown = world.fake.messages[message]
        assert shown.content.startswith(f"{render.corrected(2)}\n{CORRECTED}\n\n-# Please acknowledge")
        correction = f"2.4|everyone|correction-2|{copy.target}"
        assert shown.custom_ids() == [translate.ack_id(correction)]  # the mark is the correction's now
        assert shown.allowed_mentions == {"parse": []}  # nobody is pinged again
    corrections = _copies(world, "everyone", Purpose.CORRECTION)
    assert len(corrections) == len(copies)
    assert {d.status for d in corrections.values()} == {DeliveryStatus.SENT}
    assert {d.replaces for d in corrections.values()} == set(copies)
    assert _posts(world) == posted
    assert world.fake.calls_to("GET", _PATCH.pattern) == []  # nothing was in doubt: nothing looked up
    _kept_to_the_limits(world)

    await world.herald.engine.run_until_idle()

    assert _patches(world) == patched
    assert _posts(world) == posted


async def test_an_edit_in_doubt_is_looked_up_and_made_only_if_it_did_not_land(world: DiscordWorld) -> None:
    """After a crash mid-edit, a copy that carries the correction is left alone; one that does not is edited once."""
    copies = await _sent(world)
    await _corrected(world)
    corrections = _copies(world, "everyone", Purpose.CORRECTION)
    channel = corrections[f"2.4|everyone|correction-2|discord:channel:{ENG}"]
    dm = corrections[f"2.4|everyone|correction-2|discord:user:{PEOPLE[0]}"]
    now = world.clock.now()
    # The DM's correction starts and dies before its edit is made (in doubt, not on Discord).
    world.store.deliveries[dm.key] = replace(dm, in_doubt_since=now)
    await world.herald.engine.run_until_idle()
    # The channel copy's edit landed, but the ledger never heard (a crash before recording it).
    edited = world.store.deliveries[channel.key]
    assert edited.status is DeliveryStatus.SENT
    world.store.deliveries[channel.key] = replace(
        edited, status=DeliveryStatus.PENDING, message_ref=None, sent_at=None, in_doubt_since=now
    )
    reconciled = world.herald.engine.reconciled

    await world.herald.engine.run_until_idle()

    patched = _patches(world)
    assert {patched[_place(copy)[1]] for copy in copies.values()} == {1}
    for copy in (copies[channel.replaces or ""], copies[dm.replaces or ""]):
        assert _gets(world, *_place(copy)) == 1  # looked up once, before deciding
    assert world.herald.engine.reconciled == reconciled + 1  # the channel copy, found corrected
    settled = world.store.deliveries[channel.key]
    assert settled.status is DeliveryStatus.SENT
    assert settled.message_ref == f"{copies[channel.replaces or ''].message_ref}#correction-2"
    assert world.store.deliveries[dm.key].status is DeliveryStatus.SENT
    _kept_to_the_limits(world)


async def test_a_corrected_copy_redrawn_since_still_counts_as_corrected(world: DiscordWorld) -> None:
    """A receipt after the edit redraws the copy (a count with the copy's own mark; a DM's button gone): an edit
    then found in doubt is still seen to have landed, by the corrected text, and not made again."""
    copies = await _sent(world)
    await _corrected(world)
    await world.herald.engine.run_until_idle()
    channel_copy, dm_copy = (
        copies[f"2.4|everyone|discord:channel:{ENG}"],
        copies[f"2.4|everyone|discord:user:{PEOPLE[0]}"],
    )
    channel_message, dm_message = _place(channel_copy)[1], _place(dm_copy)[1]
    dm = world.fake.messages[dm_message]
    await world.fake.click(PEOPLE[0], dm.id, translate.ack_id(f"2.4|everyone|correction-2|{dm_copy.target}"))
    await world.fake.react(PEOPLE[1], channel_message)
    await world.until(lambda: dm.components == [] and "acknowledged" in world.fake.messages[channel_message].content)
    await world.front.flush()
    assert world.fake.messages[channel_message].custom_ids() == [translate.ack_id(channel_copy.key)]
    patched = _patches(world)
    now = world.clock.now()
    for copy in (channel_copy, dm_copy):  # both edits landed, and then the ledger lost them (a crash)
        key = f"2.4|everyone|correction-2|{copy.target}"
        world.store.deliveries[key] = replace(
            world.store.deliveries[key], status=DeliveryStatus.PENDING, message_ref=None, in_doubt_since=now
        )
    reconciled = world.herald.engine.reconciled

    await world.herald.engine.run_until_idle()

    assert _patches(world) == patched
    assert world.herald.engine.reconciled == reconciled + 2
    assert (_gets(world, *_place(channel_copy)), _gets(world, *_place(dm_copy))) == (1, 1)
    assert "✅" in world.fake.messages[dm_message].content  # the reader's receipt stays as it was drawn
    _kept_to_the_limits(world)


async def test_carries_answers_whether_the_copy_shows_the_correction(world: DiscordWorld) -> None:
    """Before the edit a copy does not carry the correction; after it, it does, by its mark or (no button) its text."""
    await _sent(world)
    await _corrected(world)
    await _corrected(world, "notes", "Acme Cloud 2.4 release notes: https://example.com/r/2.4")
    messenger = DiscordMessenger(world.front.gateway)  # the engine's own messenger, as wired
    plan = world.herald.desk.plan
    for group in ("everyone", "notes"):
        correction = next(iter(_copies(world, group, Purpose.CORRECTION).values()))
        copy = world.store.deliveries[correction.replaces or ""]
        text = world.store.releases["2.4"].communiques[group].text
        found = outgoing(plan, correction, text)
        assert found is not None
        message = replace(found, correction=2)
        ref = copy.message_ref or ""

        assert not await messenger.carries(message, ref), group
        await messenger.edit(message, ref)
        assert await messenger.carries(message, ref), group

    notes = world.fake.messages[_place(copy)[1]]
    assert message.ack is AckPolicy.NONE
    assert notes.components == []
    assert notes.content == f"{render.corrected(2)}\n{text}"
    _kept_to_the_limits(world)


async def test_a_copy_deleted_before_its_correction_is_a_permanent_error(world: DiscordWorld) -> None:
    """Discord says 404 for a deleted copy: nothing to correct, and no second try."""
    copies = await _sent(world)
    copy = copies[f"2.4|everyone|discord:channel:{ENG}"]
    world.fake.messages[_place(copy)[1]].deleted = True
    messenger = DiscordMessenger(world.front.gateway)
    found = outgoing(world.herald.desk.plan, copy, CORRECTED)
    assert found is not None

    with pytest.raises(PermanentDeliveryError, match="deleted"):
        await messenger.edit(replace(found, correction=2), copy.message_ref or "")


async def test_a_retraction_strikes_out_every_copy_once_and_takes_its_button_away(world: DiscordWorld) -> None:
    """Retracted (proposed by the announcer, approved by the approver): each copy PATCHed once, struck through under
    the reason, with no Acknowledge button; nothing posted."""
    copies = await _sent(world)
    posted = _posts(world)
    patched = _patches(world)

    await _say(world, "retract 2.4 rolled back: the migration failed", ANNOUNCER)
    await _say(world, "approve 2.4", APPROVER)
    await world.herald.engine.run_until_idle()
    await world.herald.engine.run_until_idle()

    now = _patches(world)
    for copy in copies.values():
        _, message = _place(copy)
        assert now[message] - patched[message] == 1, copy.target
        shown = world.fake.messages[message]
        assert shown.content.startswith("**Retracted:** rolled back: the migration failed\n\n~~")
        assert shown.custom_ids() == []
    assert _posts(world) == posted
    _kept_to_the_limits(world)
