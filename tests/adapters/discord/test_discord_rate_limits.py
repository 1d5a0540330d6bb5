"""A 429 on any Discord path is waited out and the work done once, never a failure; the global limit is kept."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import discord
import yarl

from adapters.discord.budgets import OPEN_DM
from adapters.discord.errors import DMS_TOO_FAST, delivery_error
from adapters.discord.pace import GLOBAL, counts_globally
from adapters.discord.runtime import discord_client, discord_gateway
from bot.domain.commands import parse_release_command
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.errors import PermanentDeliveryError, RateLimited
from bot.service.clock import FixedClock
from bot.service.limits import Limits, Rate, RateLimiter
from bot.service.views import Reply
from storage.memory import MemoryBudgets, MemoryStore
from tests.adapters.discord.conftest import (
    ANNOUNCER,
    CLOSED,
    ENG,
    RELEASES,
    SEND_LINES,
    SUPPORT,
    SUPPORT_2,
    SUPPORT_3,
    DiscordWorld,
    seed,
    send_release,
    settings_for,
    skipping,
)
from tests.fakes import VirtualTime
from tests.fakes.discord import BOT_TOKEN, BOT_USER_ID, GUILD_ID, FakeDiscord
from tests.fakes.discord.limits import LIMITS

LONG = 90.0  # longer than discord.py waits out itself (30 s): it comes back to Herald
PEOPLE = (SUPPORT, SUPPORT_2, SUPPORT_3)  # the support group's people whose DMs are open


def _delivery(world: DiscordWorld, target: str, purpose: Purpose = Purpose.COMMUNIQUE) -> Delivery:
    return next(d for d in world.store.deliveries.values() if d.target == target and d.purpose is purpose)


def _posts(world: DiscordWorld, channel: int | None) -> int:
    """How many messages Herald posted in a channel or DM (not its answers to interactions)."""
    if channel is None:
        return 0
    return sum(1 for m in world.fake.messages_in(channel) if m.author_id == BOT_USER_ID and m.webhook_id is None)


def _statuses(world: DiscordWorld, method: str, path: str) -> list[int]:
    return [c.status for c in world.fake.calls_to(method, path)]


async def _until_answered(world: DiscordWorld, method: str, path: str, status: int) -> None:
    """Run the engine a batch at a time until Discord has answered ``status`` on that route."""
    for _ in range(10):
        if status in _statuses(world, method, path):
            return
        await world.herald.engine.run_once()
    raise AssertionError(f"{method} {path} never answered {status}")


async def _command(world: DiscordWorld, line: str, actor: int) -> Reply:
    """A release command typed by ``actor``, as the desk takes it."""
    return await world.herald.desk.handle(parse_release_command(line, f"discord:{actor}"))


def _kept_to_the_limits(world: DiscordWorld) -> None:
    assert world.fake.early_calls == []
    assert world.fake.untabled_calls == []


async def test_a_long_429_on_a_channel_post_keeps_the_delivery_pending_until_retry_after(
    limited_world: DiscordWorld,
) -> None:
    """Discord says wait 90 s: the post goes back to the ledger, uncounted, and goes once after the wait."""
    world = limited_world
    await send_release(world)
    world.fake.fail_next("POST", rf"/channels/{ENG}/messages", retry_after=LONG)

    await world.herald.engine.run_once()

    held = _delivery(world, f"discord:channel:{ENG}")
    assert (held.status, held.attempts, held.permanent) == (DeliveryStatus.PENDING, 0, False)
    assert held.not_before is not None
    assert held.not_before - held.updated_at >= timedelta(seconds=LONG)
    world.clock.advance(timedelta(seconds=LONG + 1))
    await world.herald.engine.run_until_idle()
    assert _delivery(world, f"discord:channel:{ENG}").status is DeliveryStatus.SENT
    assert _posts(world, ENG) == 1
    assert _statuses(world, "POST", rf"/channels/{ENG}/messages") == [429, 200]
    _kept_to_the_limits(world)


async def test_five_short_429s_in_a_row_are_not_an_attempt_either(limited_world: DiscordWorld) -> None:
    """discord.py waits out five short 429s and gives up; Herald holds the post for the Retry-After, uncounted."""
    world = limited_world
    await send_release(world)
    world.fake.fail_next("POST", rf"/channels/{ENG}/messages", retry_after=0.01, times=5)

    await world.herald.engine.run_once()

    held = _delivery(world, f"discord:channel:{ENG}")
    assert (held.status, held.attempts, held.permanent) == (DeliveryStatus.PENDING, 0, False)
    world.clock.advance(timedelta(seconds=2))
    await world.herald.engine.run_until_idle()
    assert _posts(world, ENG) == 1
    assert _statuses(world, "POST", rf"/channels/{ENG}/messages") == [429] * 5 + [200]
    _kept_to_the_limits(world)


async def _only_one_dm_to_open(world: DiscordWorld) -> None:
    """Open every support DM but SUPPORT_3's beforehand, so the next DM Herald opens is SUPPORT_3's alone.

    Several DMs open at once (in lanes); a test that refuses one of them must not have others on
    the way, which would reach the fake inside its Retry-After before Herald could know of it.
    """
    for person in (SUPPORT, SUPPORT_2, CLOSED):
        await world.front.gateway.dm_channel(person)


async def test_a_429_on_opening_a_dm_keeps_that_delivery_pending_until_retry_after(
    limited_world: DiscordWorld,
) -> None:
    """Opening a DM channel answers 429 for 90 s: that DM waits in the ledger, uncounted, then goes once."""
    world = limited_world
    await send_release(world)
    await _only_one_dm_to_open(world)
    world.fake.fail_next("POST", r"/users/@me/channels", retry_after=LONG)

    await _until_answered(world, "POST", r"/users/@me/channels", 429)

    held = _delivery(world, f"discord:user:{SUPPORT_3}")
    assert (held.status, held.attempts, held.permanent) == (DeliveryStatus.PENDING, 0, False)
    world.clock.advance(timedelta(seconds=LONG + 1))
    await world.herald.engine.run_until_idle()
    assert [_posts(world, world.fake.dm_channel_of(p)) for p in PEOPLE] == [1, 1, 1]
    assert _statuses(world, "POST", r"/users/@me/channels")[-2:] == [429, 200]
    _kept_to_the_limits(world)


async def test_opening_dms_too_fast_is_a_wait_not_a_failure(limited_world: DiscordWorld) -> None:
    """Discord's anti-spam answer (403, code 40003) holds the DM back a minute; it is then sent, once."""
    world = limited_world
    await send_release(world)
    await _only_one_dm_to_open(world)
    too_fast = "You are opening direct messages too fast"
    world.fake.fail_next("POST", r"/users/@me/channels", status=403, code=DMS_TOO_FAST, message=too_fast)

    await _until_answered(world, "POST", r"/users/@me/channels", 403)

    held = _delivery(world, f"discord:user:{SUPPORT_3}")
    assert (held.status, held.attempts, held.permanent) == (DeliveryStatus.PENDING, 0, False)
    assert "too fast" in (held.error or "")
    world.clock.advance(timedelta(seconds=61))
    await world.herald.engine.run_until_idle()
    assert [_posts(world, world.fake.dm_channel_of(p)) for p in PEOPLE] == [1, 1, 1]
    _kept_to_the_limits(world)


async def test_a_429_on_a_page_of_members_is_waited_out_and_the_role_expanded(limited_world: DiscordWorld) -> None:
    """Listing the role's members answers 429 for 90 s: Herald waits, asks again, and the role's people get DMs."""
    world = limited_world
    world.fake.fail_next("GET", rf"/guilds/{GUILD_ID}/members", retry_after=LONG)
    began = world.clock.now()

    await send_release(world)

    assert world.clock.now() - began >= timedelta(seconds=LONG)  # waited, on the limiter's (virtual) time
    assert _statuses(world, "GET", rf"/guilds/{GUILD_ID}/members") == [429, 200]
    await world.herald.engine.run_until_idle()
    assert [_posts(world, world.fake.dm_channel_of(p)) for p in (SUPPORT_2, SUPPORT_3)] == [1, 1]
    _kept_to_the_limits(world)


async def test_members_still_limited_after_five_minutes_means_send_later_not_a_failure(
    limited_world: DiscordWorld,
) -> None:
    """A role Discord will not list for ten minutes: sending is refused for now, no delivery fails, later it goes."""
    world = limited_world
    world.fake.fail_next("GET", rf"/guilds/{GUILD_ID}/members", retry_after=600)

    replies = [await _command(world, line, actor) for line, actor in SEND_LINES]

    refused = next(reply for reply in replies if reply.failed)
    assert "just now" in str(refused.views)
    assert world.store.deliveries == {}
    world.clock.advance(timedelta(minutes=11))
    for line, actor in SEND_LINES[3:]:  # send, and the second approval
        assert not (await _command(world, line, actor)).failed
    await world.herald.engine.run_until_idle()
    assert [_posts(world, world.fake.dm_channel_of(p)) for p in (SUPPORT_2, SUPPORT_3)] == [1, 1]
    _kept_to_the_limits(world)


async def test_a_429_on_a_reminder_keeps_it_pending_and_it_goes_once(limited_world: DiscordWorld) -> None:
    """The reminder DM answers 429: it waits in the ledger for the Retry-After and then goes, once."""
    world = limited_world
    await send_release(world)
    await world.herald.engine.run_until_idle()
    world.clock.advance(timedelta(minutes=31))
    await world.herald.reminders.sweep()
    dm = world.fake.dm_channel_of(SUPPORT_2)
    world.fake.fail_next("POST", rf"/channels/{dm}/messages", retry_after=LONG)

    await _until_answered(world, "POST", rf"/channels/{dm}/messages", 429)

    held = _delivery(world, f"discord:user:{SUPPORT_2}", Purpose.REMINDER)
    assert (held.status, held.attempts, held.permanent) == (DeliveryStatus.PENDING, 0, False)
    world.clock.advance(timedelta(seconds=LONG + 1))
    await world.herald.engine.run_until_idle()
    assert _delivery(world, f"discord:user:{SUPPORT_2}", Purpose.REMINDER).status is DeliveryStatus.SENT
    assert _posts(world, dm) == 2  # the communiqué and one reminder
    _kept_to_the_limits(world)


async def test_a_429_on_a_redraw_is_waited_out_and_the_edit_lands(limited_world: DiscordWorld) -> None:
    """Editing the walkthrough answers 429 for 90 s: the redraw waits and edits again; the approval shows."""
    world = limited_world
    await world.fake.slash_command(ANNOUNCER, RELEASES, "release", {"version": "2.4"}, subcommand="announce")
    await world.until(lambda: "2.4" in world.store.releases and world.store.releases["2.4"].thread is not None)
    engineering = world.communiques()[0]
    world.fake.fail_next("PATCH", rf"/channels/{engineering.channel_id}/messages/\d+", retry_after=LONG)

    await world.fake.click(ANNOUNCER, engineering.id, "herald:approve:2.4")

    await world.until(lambda: "herald:approve:2.4" not in world.fake.messages[engineering.id].custom_ids())
    assert _statuses(world, "PATCH", rf"/channels/{engineering.channel_id}/messages/\d+")[0] == 429
    _kept_to_the_limits(world)


async def test_a_walkthrough_post_discord_holds_for_ten_minutes_is_a_sentence_not_a_traceback(
    limited_world: DiscordWorld,
) -> None:
    """Discord says wait ten minutes to post the release message: the announcer is told to try again after it."""
    world = limited_world
    world.fake.fail_next("POST", rf"/channels/{RELEASES}/messages", retry_after=600)

    response = await world.fake.slash_command(ANNOUNCER, RELEASES, "release", {"version": "2.4"}, subcommand="announce")

    await world.until(lambda: response.content or response.followups)
    said = response.content or str(response.followups[-1].get("content"))
    assert "Discord asked Herald to wait 600s" in said
    assert _statuses(world, "POST", rf"/channels/{RELEASES}/messages") == [429]  # and no call inside the wait
    _kept_to_the_limits(world)


async def test_the_whole_loop_keeps_to_every_documented_limit(limited_world: DiscordWorld) -> None:
    """Announce, send, receipts, reminders and status: every route Herald calls is tabled, none early or refused."""
    world = limited_world
    await world.fake.slash_command(ANNOUNCER, RELEASES, "release", {"version": "2.4"}, subcommand="announce")
    await world.until(lambda: "2.4" in world.store.releases and world.store.releases["2.4"].thread is not None)
    await send_release(world)
    await world.herald.engine.run_until_idle()
    await world.fake.react(SUPPORT, world.fake.messages_in(world.fake.dm_channel_of(SUPPORT) or 0)[0].id)
    world.clock.advance(timedelta(minutes=31))
    await world.herald.reminders.sweep()
    await world.herald.engine.run_until_idle()
    await world.fake.slash_command(ANNOUNCER, RELEASES, "release", {"version": "2.4"}, subcommand="status")
    await world.front.flush(within=5)

    assert set(world.fake.calls_per_route()) <= LIMITS.keys()
    assert world.fake.throttled == []
    _kept_to_the_limits(world)
    assert _delivery(world, f"discord:user:{CLOSED}").permanent  # closed DMs: the one failure, for good


async def test_every_rest_request_takes_a_token_of_the_global_budget(fake_discord_patched: None) -> None:
    """With the global budget at 10 a second, 20 channel lookups keep the client at 10 a second."""
    async with FakeDiscord(enforce_limits=True, members_intent_granted=True) as fake:
        seed(fake)
        clock = FixedClock()
        fake.clock = skipping(clock)
        limiter = RateLimiter(timer=VirtualTime(clock), budgets=MemoryBudgets(MemoryStore()), wall_clock=clock.now)
        client = discord_client(settings_for(fake).discord)
        client.pace.bind(limiter, Limits(name="paced", methods={GLOBAL: Rate(10.0, burst=2.0)}))
        try:
            await client.login(BOT_TOKEN)
            began = clock.now()
            for _ in range(20):
                await client.fetch_channel(ENG)
        finally:
            await client.close()

    assert clock.now() - began >= timedelta(seconds=1.9)  # 20 tokens at 10 a second, one in hand
    assert fake.throttled == []


async def test_a_global_429_blocks_the_global_budget_for_its_retry_after(limited_world: DiscordWorld) -> None:
    """Discord's global 429 (scope global) holds every request back for the Retry-After, none early."""
    world = limited_world
    world.fake.fail_next("GET", rf"/channels/{ENG}", global_=True, retry_after=0.05)
    began = world.clock.now()

    await world.client.fetch_channel(ENG)

    assert world.clock.now() - began >= timedelta(seconds=1)  # Retry-After: 1, whole seconds
    assert _statuses(world, "GET", rf"/channels/{ENG}") == [429, 200]
    _kept_to_the_limits(world)


async def test_dm_channels_open_several_at_once(fake_discord_patched: None) -> None:
    """Eight new DMs with Discord taking 0.25 s each open together, not one after another (2 s)."""
    async with FakeDiscord(reply_latency=0.25) as fake:
        people = [700_000_000_000_000_000 + i for i in range(8)]
        for person in people:
            fake.add_user(person, f"person{person % 10}")
        clock = FixedClock()
        limiter = RateLimiter(timer=VirtualTime(clock), budgets=MemoryBudgets(MemoryStore()), wall_clock=clock.now)
        settings = settings_for(fake, DISCORD_DMS_PER_MINUTE="3000").discord
        client = discord_client(settings)
        gateway = discord_gateway(client, settings, limiter)
        try:
            await client.login(BOT_TOKEN)
            began = time.monotonic()
            channels = await asyncio.gather(*(gateway.dm_channel(p) for p in people))
            took = time.monotonic() - began
        finally:
            await client.close()

    assert channels == [fake.dm_channel_of(p) for p in people]
    assert took < 1.0


def test_only_api_routes_but_interaction_answers_count_toward_the_global_limit() -> None:
    """Channel and DM routes count; interaction callbacks, follow-ups and the gateway do not."""
    base = "https://discord.com/api/v10"
    assert counts_globally(yarl.URL(f"{base}/channels/1/messages"))
    assert counts_globally(yarl.URL(f"{base}/users/@me/channels"))
    assert not counts_globally(yarl.URL(f"{base}/interactions/1/token/callback"))
    assert not counts_globally(yarl.URL(f"{base}/webhooks/1/token/messages/@original"))
    assert not counts_globally(yarl.URL("wss://gateway.discord.gg/?v=10"))


def _http_error(status: int, code: int = 0, retry_after: str | None = None) -> discord.HTTPException:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    response: Any = SimpleNamespace(status=status, reason="", headers=headers)
    kind = discord.Forbidden if status == 403 else discord.HTTPException
    return kind(response, {"code": code, "message": "refused"})


def test_discords_rate_limits_become_waits_for_the_right_budget() -> None:
    """A long 429 is the target's wait; on opening a DM, the DM pace's; 40003 waits a minute; 50007 is for good."""
    posted = delivery_error(discord.RateLimited(42.0))
    opened = delivery_error(discord.RateLimited(42.0), method=OPEN_DM)
    exhausted = delivery_error(_http_error(429, retry_after="3"))
    too_fast = delivery_error(_http_error(403, DMS_TOO_FAST))
    closed = delivery_error(_http_error(403, 50007))

    assert isinstance(posted, RateLimited)
    assert (posted.scope, posted.retry_after) == ("target", 42.0)
    assert isinstance(opened, RateLimited)
    assert (opened.scope, opened.method) == ("method", OPEN_DM)
    assert isinstance(exhausted, RateLimited)
    assert exhausted.retry_after == 3.0
    assert isinstance(too_fast, RateLimited)
    assert (too_fast.method, too_fast.retry_after) == (OPEN_DM, 60.0)
    assert isinstance(closed, PermanentDeliveryError)
