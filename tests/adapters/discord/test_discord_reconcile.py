"""A Discord copy whose fate a crash left in doubt is looked for in the channel before it is sent again.

Discord drops a repeated nonce for a few minutes only and keeps no nonce on the message, so
past that window Herald finds the copy by the mark on its Acknowledge button.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from adapters.discord import translate
from bot.domain.delivery import DeliveryStatus
from tests.adapters.discord.conftest import ENG, ENGINEER, SUPPORT, DiscordWorld
from tests.adapters.discord.test_discord_scenario import _click, _posts, _sent

CHANNEL_KEY = f"2.4|engineering|discord:channel:{ENG}"
DM_KEY = f"2.4|support|discord:user:{SUPPORT}"


def _left_by_a_dead_worker(world: DiscordWorld, key: str) -> None:
    """Put the delivery back as a process that died mid-send leaves it: sending, started, its lease run out."""
    now = world.clock.now()
    world.store.deliveries[key] = replace(
        world.store.deliveries[key],
        status=DeliveryStatus.SENDING,
        message_ref=None,
        lease_owner="herald-dead/3",
        leased_until=now - timedelta(seconds=1),
        in_doubt_since=now - timedelta(seconds=60),
    )


def _past_the_nonce_window(world: DiscordWorld) -> None:
    """Move the fake Discord's clock beyond the minutes it remembers a nonce for."""
    later = world.fake.clock() + 600
    world.fake.clock = lambda: later


async def test_a_copy_the_dead_worker_sent_is_found_by_its_mark_and_not_sent_again(
    discord_world: DiscordWorld,
) -> None:
    """Past the nonce window the copy is found in the channel by its button's mark; nothing is posted."""
    await _sent(discord_world)
    [copy] = _posts(discord_world, ENG)
    _left_by_a_dead_worker(discord_world, CHANNEL_KEY)
    _past_the_nonce_window(discord_world)

    await discord_world.herald.engine.run_until_idle()

    stored = discord_world.store.deliveries[CHANNEL_KEY]
    assert (stored.status, stored.message_ref, stored.in_doubt_since) == (
        DeliveryStatus.SENT,
        translate.message_ref(ENG, copy.id),
        None,
    )
    assert len(_posts(discord_world, ENG)) == 1
    assert discord_world.herald.engine.reconciled == 1


async def test_a_dm_the_dead_worker_never_sent_is_looked_for_then_sent_once(discord_world: DiscordWorld) -> None:
    """The copy never reached Discord: it is looked for, not found, and sent once, past the nonce window."""
    await _sent(discord_world)
    dm = discord_world.fake.dm_channel_of(SUPPORT)
    [lost] = _posts(discord_world, dm)
    discord_world.fake.messages.pop(lost.id)
    _left_by_a_dead_worker(discord_world, DM_KEY)
    _past_the_nonce_window(discord_world)

    await discord_world.herald.engine.run_until_idle()

    [sent] = _posts(discord_world, dm)
    assert discord_world.store.deliveries[DM_KEY].status is DeliveryStatus.SENT
    assert sent.custom_ids() == [translate.ack_id(DM_KEY)]
    assert discord_world.herald.engine.reconciled == 0


async def test_an_older_copy_with_a_bare_acknowledge_button_still_takes_receipts(discord_world: DiscordWorld) -> None:
    """A copy sent before buttons were marked (custom_id herald:ack) is still acknowledged by a click."""
    await _sent(discord_world)
    [copy] = _posts(discord_world, ENG)
    discord_world.fake.messages[copy.id].components[0]["components"][0]["custom_id"] = translate.ACK

    await _click(discord_world, discord_world.fake.messages[copy.id], "ack", user=ENGINEER)

    await discord_world.until(lambda: len(discord_world.store.receipts) == 1)
