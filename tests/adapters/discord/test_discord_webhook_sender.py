"""A group's Discord webhook: its channel copy is the webhook's post, under the group's name; its DMs stay the bot's.

Herald against the fake Discord with every rate limit enforced: the webhook is a channel's
incoming webhook, made as a person makes one in the channel's settings (no buttons on its
posts), unless a test makes it the application's own.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from adapters.discord import render, translate
from bot.domain.commands import parse_release_command
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.receipt import ReceiptSource
from bot.service.clock import FixedClock
from storage.memory import MemoryStore
from tests.adapters.discord.conftest import (
    ANNOUNCER,
    APPROVER,
    ENG,
    ENGINEER,
    LEAD,
    RELEASES,
    DiscordWorld,
    seed,
    send_release,
    skipping,
    start_herald,
)
from tests.adapters.discord.test_discord_reconcile import _left_by_a_dead_worker, _past_the_nonce_window
from tests.fakes.discord import BOT_USER_ID, FakeDiscord, FakeMessage
from tests.fakes.discord.limits import LIMITS, quicker

NAME = "Acme Releases"
AVATAR = "https://acme.example/releases.png"
CORRECTED = "**Acme Cloud 2.4** is live. Notes: https://example.com/releases/2.4 (the upgrade needs a restart)"
CHANNEL_KEY = f"2.4|engineering|discord:channel:{ENG}"
DM_KEY = f"2.4|engineering|discord:user:{ENGINEER}"
_EXECUTE = r"/webhooks/\d+/[^/]+"


def _plan(hook: int, token: str) -> str:
    return f"""
product = "Acme Cloud"

[access]
announcers = ["discord:{ANNOUNCER}"]
approvers = ["discord:{APPROVER}"]

[[group]]
id = "engineering"
name = "Engineering"
to = ["discord:channel:{ENG}", "discord:user:{ENGINEER}"]
discord_webhook = "https://discord.com/api/webhooks/{hook}/{token}"
discord_username = "{NAME}"
discord_avatar = "{AVATAR}"
message = "**Acme Cloud {{{{ version }}}}** is live. Notes: https://example.com/releases/{{{{ version }}}}"
"""


@dataclass
class Hooked:
    """Herald on the fake Discord, and the webhook its plan's engineering group posts through."""

    world: DiscordWorld
    hook: int
    token: str

    @property
    def fake(self) -> FakeDiscord:
        return self.world.fake

    def delivery(self, key: str) -> Delivery:
        return self.world.store.deliveries[key]

    def posts(self, channel: int) -> list[FakeMessage]:
        """Every message in ``channel`` that is not the walkthrough's."""
        return [m for m in self.fake.messages_in(channel) if m.thread_id is None]

    def kept_to_the_limits(self) -> None:
        assert self.fake.early_calls == []
        assert self.fake.untabled_calls == []


Start = Callable[..., Awaitable[Hooked]]


@pytest.fixture
async def start(fake_discord_patched: None) -> AsyncIterator[Start]:
    """Start Herald with a webhook in a channel (by default the engineering channel, a person's webhook)."""
    worlds: list[DiscordWorld] = []
    async with FakeDiscord(members_intent_granted=True, enforce_limits=True, rate_limits=quicker(LIMITS, 25)) as fake:
        seed(fake)

        async def started(*, channel: int = ENG, application_owned: bool = False) -> Hooked:
            hook, token = fake.add_webhook(channel, "Captain Hook", application_owned=application_owned)
            clock = FixedClock()
            fake.clock = skipping(clock)
            world = await start_herald(fake, MemoryStore(), clock, plan=_plan(hook, token))
            worlds.append(world)
            return Hooked(world, hook, token)

        try:
            yield started
        finally:
            for world in worlds:
                await world.service.close()


@pytest.fixture
async def hooked(start: Start) -> Hooked:
    return await start()


async def _sent(hooked: Hooked) -> FakeMessage:
    """Release 2.4 sent; the one post in the engineering channel."""
    await send_release(hooked.world)
    await hooked.world.herald.engine.run_until_idle()
    [post] = hooked.posts(ENG)
    return post


def _ref(post: FakeMessage) -> str:
    return translate.message_ref(post.channel_id, post.id)


async def test_the_channel_copy_is_posted_by_the_webhook_under_the_groups_name(hooked: Hooked) -> None:
    """One post in the channel, by the webhook (its id, the group's name and avatar), none by the bot; its
    reference recorded; no button (a person's webhook cannot carry one), so it asks for the reaction."""
    post = await _sent(hooked)

    assert (post.webhook_id, post.author_id, post.username, post.avatar_url) == (hooked.hook, hooked.hook, NAME, AVATAR)
    assert [m for m in hooked.fake.messages_in(ENG) if m.author_id == BOT_USER_ID] == []
    assert post.components == []
    assert post.content.endswith("\n\n-# Please acknowledge: react with ✅")
    assert post.allowed_mentions == {"parse": []}  # nobody is pinged
    delivery = hooked.delivery(CHANNEL_KEY)
    assert (delivery.status, delivery.message_ref) == (DeliveryStatus.SENT, _ref(post))
    [execute] = hooked.fake.calls_to("POST", _EXECUTE)
    assert execute.query["wait"] == "true"
    assert not execute.authorized  # the webhook's token is its credential, not the bot's
    hooked.kept_to_the_limits()


async def test_a_reaction_on_the_webhooks_post_is_the_groups_receipt(hooked: Hooked) -> None:
    """The reference recorded is the post's channel and id, so a ✅ on it is found and counted once."""
    post = await _sent(hooked)

    await hooked.fake.react(LEAD, post.id)

    store = hooked.world.store
    await hooked.world.until(lambda: store.receipts)
    [receipt] = store.receipts.values()
    assert (receipt.person, receipt.group_id, receipt.source) == (
        f"discord:{LEAD}",
        "engineering",
        ReceiptSource.REACTION,
    )


async def test_the_count_under_the_webhooks_post_is_redrawn_through_the_webhook(hooked: Hooked) -> None:
    """After a ✅ the post's count line is redrawn by a PATCH on the webhook's route: the bot may not edit it."""
    post = await _sent(hooked)

    await hooked.fake.react(LEAD, post.id)

    await hooked.world.until(lambda: hooked.fake.messages[post.id].content.endswith("react with ✅ · 1 acknowledged"))
    assert hooked.fake.calls_to("PATCH", rf"/webhooks/\d+/[^/]+/messages/{post.id}")
    assert hooked.fake.calls_to("PATCH", rf"/channels/\d+/messages/{post.id}") == []
    hooked.kept_to_the_limits()


async def test_the_same_groups_dm_still_goes_as_the_bot(hooked: Hooked) -> None:
    """A webhook cannot DM: the group's DM is the bot's own message, with its Acknowledge button."""
    await _sent(hooked)

    dm = hooked.fake.dm_channel_of(ENGINEER)
    assert dm is not None
    [message] = hooked.posts(dm)
    assert (message.author_id, message.webhook_id) == (BOT_USER_ID, None)
    assert message.custom_ids() == [translate.ack_id(DM_KEY)]
    assert hooked.delivery(DM_KEY).message_ref == _ref(message)


async def test_a_correction_edits_the_webhooks_post_once_through_the_webhook(hooked: Hooked) -> None:
    """The corrected text reaches the post by one PATCH on the webhook's route (the bot may not edit it); nothing
    is posted again."""
    post = await _sent(hooked)

    for line, actor in ((f"correct 2.4 engineering {CORRECTED}", ANNOUNCER), ("approve 2.4 engineering", APPROVER)):
        reply = await hooked.world.herald.desk.handle(parse_release_command(line, f"discord:{actor}"))
        assert not reply.failed, reply
    await hooked.world.herald.engine.run_until_idle()

    patched = hooked.fake.calls_to("PATCH", rf"/webhooks/{hooked.hook}/[^/]+/messages/{post.id}")
    assert [c.status for c in patched] == [200]
    assert post.content.startswith(f"{render.corrected(2)}\n{CORRECTED}\n\n-# Please acknowledge: react with")
    assert (post.edits, post.username) == (1, NAME)
    assert hooked.fake.calls_to("PATCH", rf"/channels/{ENG}/messages/{post.id}") == []
    assert hooked.posts(ENG) == [post]
    corrections = [d for d in hooked.world.store.deliveries.values() if d.purpose is Purpose.CORRECTION]
    assert {d.status for d in corrections} == {DeliveryStatus.SENT}
    hooked.kept_to_the_limits()


async def test_a_webhook_of_herald_s_own_application_carries_the_acknowledge_button(start: Start) -> None:
    """Only an application-owned webhook may post a button: then the post has it, marked with its delivery."""
    hooked = await start(application_owned=True)

    post = await _sent(hooked)

    assert post.webhook_id == hooked.hook
    assert post.custom_ids() == [translate.ack_id(CHANNEL_KEY)]
    assert "press the button or react with" in post.content


async def test_a_webhook_in_another_channel_leaves_the_copy_to_the_bot(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    """A webhook posts only in its own channel: the copy for a channel it is not in goes as the bot, said once."""
    hooked = await start(channel=RELEASES)

    with caplog.at_level(logging.WARNING, logger="adapters.discord.messenger"):
        post = await _sent(hooked)

    assert (post.author_id, post.webhook_id) == (BOT_USER_ID, None)
    assert hooked.fake.calls_to("POST", _EXECUTE) == []
    assert f"the webhook {hooked.hook} of group engineering posts in channel {RELEASES}, not {ENG}" in caplog.text


async def test_a_post_in_doubt_is_found_by_its_webhook_and_text_and_not_posted_again(hooked: Hooked) -> None:
    """A webhook takes no nonce: a worker that died mid-send left a post that is found in the channel's history,
    posted by the group's webhook with the text sent, and recorded."""
    post = await _sent(hooked)
    _left_by_a_dead_worker(hooked.world, CHANNEL_KEY)
    _past_the_nonce_window(hooked.world)
    reconciled = hooked.world.herald.engine.reconciled

    await hooked.world.herald.engine.run_until_idle()

    delivery = hooked.delivery(CHANNEL_KEY)
    assert (delivery.status, delivery.message_ref) == (DeliveryStatus.SENT, _ref(post))
    assert hooked.posts(ENG) == [post]
    assert len(hooked.fake.calls_to("POST", _EXECUTE)) == 1
    assert hooked.world.herald.engine.reconciled == reconciled + 1


async def test_an_execute_without_an_answer_is_looked_for_then_posted_once(hooked: Hooked) -> None:
    """A 502 may hide a post that was made: the copy is in doubt, looked for, not found, and posted once."""
    hooked.fake.fail_next("POST", _EXECUTE, status=502, code=0, message="Bad Gateway")
    await send_release(hooked.world)
    await hooked.world.herald.engine.run_until_idle()
    held = hooked.delivery(CHANNEL_KEY)
    assert (held.status, held.in_doubt_since is not None) == (DeliveryStatus.PENDING, True)

    hooked.world.clock.advance(timedelta(minutes=10))
    await hooked.world.herald.engine.run_until_idle()

    [post] = hooked.posts(ENG)
    assert post.webhook_id == hooked.hook
    assert [c.status for c in hooked.fake.calls_to("POST", _EXECUTE)] == [502, 200]
    assert len(hooked.fake.calls_to("GET", rf"/channels/{ENG}/messages")) == 1  # looked for before posting again
    assert hooked.delivery(CHANNEL_KEY).message_ref == _ref(post)


async def test_a_429_on_the_webhook_is_waited_out_and_the_post_made_once(hooked: Hooked) -> None:
    """The webhook's own bucket said wait: the copy goes back to the ledger, then goes once, never failed."""
    hooked.fake.fail_next("POST", _EXECUTE, status=429, retry_after=0.5)
    await send_release(hooked.world)
    await hooked.world.herald.engine.run_until_idle()
    held = hooked.delivery(CHANNEL_KEY)
    assert (held.status, held.attempts, held.in_doubt_since) == (DeliveryStatus.PENDING, 0, None)

    hooked.world.clock.advance(timedelta(seconds=2))
    await hooked.world.herald.engine.run_until_idle()

    [post] = hooked.posts(ENG)

    assert [c.status for c in hooked.fake.calls_to("POST", _EXECUTE)] == [429, 200]
    assert hooked.delivery(CHANNEL_KEY).message_ref == _ref(post)
    hooked.kept_to_the_limits()


async def test_the_token_is_in_no_log_line_and_no_error(hooked: Hooked, caplog: pytest.LogCaptureFixture) -> None:
    """A webhook deleted in Discord fails its copy for good, in a sentence naming the webhook by its id; neither
    that sentence nor any log line of the whole send holds the webhook's token."""
    hooked.fake.fail_next("GET", _EXECUTE, status=404, code=10015, message="Unknown Webhook", times=1)

    with caplog.at_level(logging.DEBUG):
        await send_release(hooked.world)
        await hooked.world.herald.engine.run_until_idle()

    failed = hooked.delivery(CHANNEL_KEY)
    assert failed.status is DeliveryStatus.FAILED
    assert failed.error == f"Discord: the group's webhook {hooked.hook} no longer exists; name a new one in the plan"
    assert hooked.delivery(DM_KEY).status is DeliveryStatus.SENT
    assert hooked.token not in caplog.text
    assert all(hooked.token not in (d.error or "") for d in hooked.world.store.deliveries.values())


async def test_a_copy_posted_as_the_bot_before_the_plan_named_the_webhook_is_corrected_as_the_bot(
    hooked: Hooked,
) -> None:
    """The webhook does not know a post it did not make: the correction edits the bot's own copy instead."""
    await send_release(hooked.world)
    store, now = hooked.world.store, hooked.world.clock.now()
    bot_post = await hooked.world.front.gateway.post(ENG, "**Acme Cloud 2.4** is live (posted by the bot)")
    store.deliveries[CHANNEL_KEY] = store.deliveries[CHANNEL_KEY].sent(translate.message_ref(ENG, bot_post), now)
    await hooked.world.herald.engine.run_until_idle()

    for line, actor in ((f"correct 2.4 engineering {CORRECTED}", ANNOUNCER), ("approve 2.4 engineering", APPROVER)):
        reply = await hooked.world.herald.desk.handle(parse_release_command(line, f"discord:{actor}"))
        assert not reply.failed, reply
    await hooked.world.herald.engine.run_until_idle()

    assert [c.status for c in hooked.fake.calls_to("PATCH", rf"/webhooks/\d+/[^/]+/messages/{bot_post}")] == [404]
    assert [c.status for c in hooked.fake.calls_to("PATCH", rf"/channels/{ENG}/messages/{bot_post}")] == [200]
    assert hooked.fake.messages[bot_post].content.startswith(render.corrected(2))
