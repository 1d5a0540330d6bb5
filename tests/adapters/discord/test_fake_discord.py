"""The fake Discord answers a real discord.py client the way Discord does, for everything Herald relies on."""

from __future__ import annotations

import asyncio
import contextlib
import re
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import APP_ID, BOT_TOKEN, BOT_USER_ID, GUILD_ID, FakeDiscord

with warnings.catch_warnings():
    # discord.py's voice support imports audioop, deprecated since Python 3.11; filterwarnings=error
    # would turn that into a collection error.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands
    from discord.ext import commands

RELEASES = 1_190_000_000_000_000_100
ALICE = 1_190_000_000_000_000_200
BOB = 1_190_000_000_000_000_201  # has closed his DMs
SUPPORT_ROLE = 1_190_000_000_000_000_300


class AckView(discord.ui.View):
    """A persistent view, as Herald re-registers it at start."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Got it", custom_id="relack:2.4")
    async def got_it(self, interaction: discord.Interaction, button: discord.ui.Button[AckView]) -> None:
        await interaction.response.edit_message(content="Release 2.4 (acknowledged)", view=self)


class AckButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"ack:(?P<id>\d+)"):
    """A button whose custom_id carries the delivery id."""

    def __init__(self, delivery_id: int) -> None:
        super().__init__(discord.ui.Button(label="Acknowledge", custom_id=f"ack:{delivery_id}"))
        self.delivery_id = delivery_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AckButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(f"acknowledged {self.delivery_id}", ephemeral=True)
        await interaction.edit_original_response(content=f"delivery {self.delivery_id} acknowledged")


class NoteModal(discord.ui.Modal, title="Release note"):
    note: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(label="Note", custom_id="note")

    def __init__(self) -> None:
        super().__init__(custom_id="note-modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.note.value}")


class Bot(commands.Bot):
    """A bot shaped like Herald's Discord side: a /release group, persistent buttons, reactions."""

    def __init__(self, *, intents: discord.Intents | None = None, sync: bool = True) -> None:
        super().__init__(command_prefix="!", intents=intents or discord.Intents.default(), guild_ready_timeout=0.05)
        self.sync_commands = sync
        self.reactions: list[tuple[str, discord.RawReactionActionEvent]] = []
        self.resumes = 0
        release = app_commands.Group(name="release", description="Release communications")

        @release.command(name="announce", description="Announce a release")
        async def announce(interaction: discord.Interaction, version: str) -> None:
            view = discord.ui.View(timeout=None)
            view.add_item(AckButton(42))
            await interaction.response.send_message(f"Announcing {version}", view=view)

        @release.command(name="note", description="Add a note")
        async def note(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(NoteModal())

        self.tree.add_command(release)

    async def setup_hook(self) -> None:
        self.add_view(AckView())
        self.add_dynamic_items(AckButton)
        if self.sync_commands:
            await self.tree.sync()

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        self.reactions.append(("add", event))

    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        self.reactions.append(("remove", event))

    async def on_resumed(self) -> None:
        self.resumes += 1


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as discord_fake:
        discord_fake.add_role(SUPPORT_ROLE, "support")
        discord_fake.add_channel(RELEASES, "releases")
        discord_fake.add_user(ALICE, "alice", roles=[SUPPORT_ROLE])
        discord_fake.add_user(BOB, "bob", dms_open=False)
        with discord_fake.patched():
            yield discord_fake


@contextlib.asynccontextmanager
async def running(bot: commands.Bot) -> AsyncIterator[commands.Bot]:
    """Log in, connect in the background, wait for READY; close cleanly afterwards."""
    connection: asyncio.Task[None] | None = None
    try:
        await bot.login(BOT_TOKEN)
        connection = asyncio.create_task(bot.connect())
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({connection, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if connection in done:
                connection.result()
            raise AssertionError("the client did not get READY")
        yield bot
    finally:
        await bot.close()
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    async with running(Bot()) as client:
        assert isinstance(client, Bot)
        yield client


async def _announce(bot: Bot) -> discord.Message:
    channel = bot.get_channel(RELEASES)
    assert isinstance(channel, discord.TextChannel)
    return await channel.send("Release 2.4 is out", view=AckView())


async def test_a_client_logs_in_and_sees_the_guild(fake: FakeDiscord, bot: Bot) -> None:
    """login, IDENTIFY, READY and GUILD_CREATE give the client its user, application and guild."""
    assert bot.user is not None
    assert (bot.user.id, bot.application_id) == (BOT_USER_ID, APP_ID)
    guild = bot.get_guild(GUILD_ID)
    assert guild is not None
    assert guild.name == "Herald Test"
    assert [channel.name for channel in guild.text_channels] == ["releases"]
    assert guild.get_role(SUPPORT_ROLE) is not None
    assert fake.connections == 1
    assert fake.identify_payloads[0]["intents"] == discord.Intents.default().value
    assert all(call.headers["Authorization"] == f"Bot {BOT_TOKEN}" for call in fake.calls)
    assert {call.path for call in fake.calls} >= {"/users/@me", "/oauth2/applications/@me"}


async def test_a_sync_registers_the_commands_with_ids(fake: FakeDiscord, bot: Bot) -> None:
    """tree.sync() PUTs the global commands; the fake gives them ids and a version."""
    assert [command["name"] for command in fake.commands] == ["release"]
    release = fake.commands[0]
    assert release["application_id"] == str(APP_ID)
    assert [option["name"] for option in release["options"]] == ["announce", "note"]
    assert (await bot.tree.fetch_commands())[0].id == int(release["id"])


async def test_a_slash_command_reaches_the_tree_and_its_answer_is_recorded(fake: FakeDiscord, bot: Bot) -> None:
    """/release announce version:2.4 runs the command; its message response lands in the channel."""
    response = await fake.slash_command(
        ALICE, RELEASES, "release", [{"name": "version", "value": "2.4"}], subcommand="announce"
    )

    assert (response.type, response.content) == (4, "Announcing 2.4")
    message = fake.messages[response.message_id or 0]
    assert message.channel_id == RELEASES
    assert message.custom_ids() == ["ack:42"]
    assert fake.messages_in(RELEASES) == [message]


async def test_a_button_on_a_persistent_view_updates_the_message(fake: FakeDiscord, bot: Bot) -> None:
    """A click on a static custom_id reaches the view registered with add_view; the edit is recorded."""
    sent = await _announce(bot)

    response = await fake.click(ALICE, sent.id, "relack:2.4")

    assert response.type == 7
    assert fake.messages[sent.id].content == "Release 2.4 (acknowledged)"
    assert fake.messages[sent.id].edits == 1


async def test_a_dynamic_item_gets_its_id_and_can_follow_up(fake: FakeDiscord, bot: Bot) -> None:
    """A click on ack:42 reaches the DynamicItem; defer, follow-up and @original edit are all recorded."""
    announced = await fake.slash_command(ALICE, RELEASES, "release", {"version": "2.4"}, subcommand="announce")

    response = await fake.click(ALICE, announced.message_id or 0, "ack:42")
    await fake.wait_for(lambda: bool(response.edits))

    assert (response.type, response.ephemeral) == (5, True)
    assert response.followups[0]["content"] == "acknowledged 42"
    assert response.edits[0]["content"] == "delivery 42 acknowledged"
    assert fake.messages[response.message_id or 0].content == "delivery 42 acknowledged"


async def test_a_modal_is_shown_and_its_submission_answered(fake: FakeDiscord, bot: Bot) -> None:
    """A command that opens a modal answers type 9; submitting it reaches on_submit with the values."""
    shown = await fake.slash_command(ALICE, RELEASES, "release", subcommand="note")
    submitted = await fake.submit_modal(ALICE, "note-modal", {"note": "ships Friday"}, channel_id=RELEASES)

    assert (shown.type, shown.data["custom_id"]) == (9, "note-modal")
    assert (submitted.type, submitted.content) == (4, "noted: ships Friday")


async def test_an_answered_interaction_cannot_be_answered_twice(fake: FakeDiscord, bot: Bot) -> None:
    """A second callback for one interaction gets 40060, as Discord answers."""
    response = await fake.slash_command(ALICE, RELEASES, "release", {"version": "2.4"}, subcommand="announce")
    url = f"{fake.api_url}/interactions/{response.interaction_id}/{response.token}/callback"

    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"type": 4, "data": {"content": "x"}}) as answer,
    ):
        assert (answer.status, (await answer.json())["code"]) == (400, 40060)


async def test_reactions_arrive_as_raw_events(fake: FakeDiscord, bot: Bot) -> None:
    """react/unreact reach on_raw_reaction_add/remove with the member, emoji and guild."""
    sent = await _announce(bot)

    await fake.react(ALICE, sent.id)
    await fake.unreact(ALICE, sent.id)
    await fake.wait_for(lambda: len(bot.reactions) == 2)

    (added_kind, added), (removed_kind, removed) = bot.reactions
    assert (added_kind, removed_kind) == ("add", "remove")
    assert (added.user_id, added.message_id, added.guild_id, str(added.emoji)) == (ALICE, sent.id, GUILD_ID, "✅")
    assert added.member is not None
    assert [role.id for role in added.member.roles[1:]] == [SUPPORT_ROLE]  # roles[0] is @everyone
    assert added.message_author_id == BOT_USER_ID
    assert removed.user_id == ALICE


async def test_the_bots_own_reaction_is_recorded(fake: FakeDiscord, bot: Bot) -> None:
    """Message.add_reaction PUTs @me; the fake keeps it on the message."""
    sent = await _announce(bot)

    await sent.add_reaction("👀")

    assert fake.messages[sent.id].reactions == {"👀": {BOT_USER_ID}}


async def test_messages_go_to_a_channel_and_a_dm(fake: FakeDiscord, bot: Bot) -> None:
    """TextChannel.send and User.send store messages; the DM channel is stable per user."""
    await _announce(bot)
    alice = await bot.fetch_user(ALICE)
    await alice.send("Please acknowledge 2.4")
    await alice.send("Reminder")

    dm = fake.dm_channel_of(ALICE)
    assert dm is not None
    assert [m.content for m in fake.messages_in(dm)] == ["Please acknowledge 2.4", "Reminder"]
    assert [m.content for m in fake.messages_in(RELEASES)] == ["Release 2.4 is out"]
    assert fake.messages_in(RELEASES)[0].custom_ids() == ["relack:2.4"]


async def test_a_dm_to_a_user_with_closed_dms_is_forbidden(fake: FakeDiscord, bot: Bot) -> None:
    """Sending into the DM of a user with closed DMs raises Forbidden with code 50007."""
    bob = await bot.fetch_user(BOB)

    with pytest.raises(discord.Forbidden) as refused:
        await bob.send("hello")

    assert refused.value.code == 50007
    assert fake.messages_in(fake.dm_channel_of(BOB) or 0) == []


async def test_a_429_is_honoured_and_retried_by_discord_py(fake: FakeDiscord, bot: Bot) -> None:
    """A queued 429 makes discord.py wait retry_after and try again; one message results."""
    fake.fail_next("POST", r"/channels/\d+/messages", retry_after=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()

    await _announce(bot)

    assert loop.time() - started >= 0.2
    assert [call.status for call in fake.calls_to("POST", r"/channels/\d+/messages")] == [429, 200]
    assert len(fake.messages_in(RELEASES)) == 1


async def test_other_failures_carry_discords_error_code(fake: FakeDiscord, bot: Bot) -> None:
    """A queued 403 reaches discord.py as Forbidden with the given code and text."""
    fake.fail_next("POST", r"/channels/\d+/messages", status=403, code=50013, message="Missing Permissions")

    with pytest.raises(discord.Forbidden) as refused:
        await _announce(bot)

    assert (refused.value.code, refused.value.text) == (50013, "Missing Permissions")


async def test_a_repeated_nonce_gives_back_the_first_message(fake: FakeDiscord, bot: Bot) -> None:
    """Two sends with one enforced nonce make one message, as Discord de-duplicates."""
    channel = bot.get_channel(RELEASES)
    assert isinstance(channel, discord.TextChannel)

    first = await channel.send("Release 2.4", nonce="delivery-7")
    second = await channel.send("Release 2.4", nonce="delivery-7")

    assert first.id == second.id
    assert len(fake.messages_in(RELEASES)) == 1


async def test_a_nonce_comes_back_from_the_send_but_not_when_the_message_is_fetched(
    fake: FakeDiscord, bot: Bot
) -> None:
    """Discord does not store a nonce: the send's answer echoes it, a later fetch does not (discord.py#2451)."""
    channel = bot.get_channel(RELEASES)
    assert isinstance(channel, discord.TextChannel)

    sent = await channel.send("Release 2.4", nonce="delivery-8")
    fetched = await channel.fetch_message(sent.id)
    [listed] = [m async for m in channel.history(limit=5)]

    assert str(sent.nonce) == "delivery-8"
    assert (fetched.nonce, listed.nonce) == (None, None)


async def test_a_message_can_be_edited(fake: FakeDiscord, bot: Bot) -> None:
    """Message.edit PATCHes the stored message and counts the edit."""
    sent = await _announce(bot)

    edited = await sent.edit(content="Release 2.4 (3 acks)")

    assert edited.content == "Release 2.4 (3 acks)"
    assert (fake.messages[sent.id].content, fake.messages[sent.id].edits) == ("Release 2.4 (3 acks)", 1)


async def test_a_thread_started_from_a_message_takes_messages(fake: FakeDiscord, bot: Bot) -> None:
    """create_thread makes a type-11 thread with the message's id; messages can be posted into it."""
    sent = await _announce(bot)

    thread = await sent.create_thread(name="2.4 follow-ups")
    await thread.send("Known issue: none")

    assert fake.threads[thread.id].starter_message_id == sent.id
    assert fake.messages[sent.id].thread_id == thread.id
    assert [m.content for m in fake.messages_in(thread.id)] == ["Known issue: none"]
    with pytest.raises(discord.HTTPException) as again:
        await sent.create_thread(name="again")
    assert again.value.code == 160004


async def test_members_are_listed_only_with_the_members_intent(fake: FakeDiscord) -> None:
    """GET members is 403/50001 without the intent; with it, the members come back page by page."""
    async with running(Bot(sync=False)) as client:
        with pytest.raises(discord.Forbidden) as refused:
            await client.http.get_members(GUILD_ID, 1000, None)
        assert refused.value.code == 50001

    fake.members_intent_granted = True
    async with running(Bot(sync=False, intents=discord.Intents.default() | discord.Intents(members=True))) as client:
        guild = client.get_guild(GUILD_ID)
        assert guild is not None
        fetched = [member.id async for member in guild.fetch_members(limit=None)]
        assert sorted(fetched) == sorted(m.id for m in guild.members)
        assert ALICE in fetched


async def test_an_unapproved_privileged_intent_closes_the_gateway_with_4014(fake: FakeDiscord) -> None:
    """IDENTIFY with GUILD_MEMBERS not granted is closed with 4014, which discord.py raises."""
    client = Bot(sync=False, intents=discord.Intents.default() | discord.Intents(members=True))
    try:
        await client.login(BOT_TOKEN)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.connect(), 5)
    finally:
        await client.close()


async def test_a_dropped_gateway_is_resumed(fake: FakeDiscord, bot: Bot) -> None:
    """After the fake drops the socket, discord.py RESUMEs and gets events sent meanwhile."""
    sent = await _announce(bot)

    await fake.disconnect_all()
    await fake.react(ALICE, sent.id)
    await fake.wait_for(lambda: bot.resumes == 1 and len(bot.reactions) == 1)

    assert (fake.connections, len(fake.identify_payloads), len(fake.resume_payloads)) == (2, 1, 1)


async def test_a_restarted_client_finds_the_state_it_left(fake: FakeDiscord) -> None:
    """A second client on the same fake sees the first one's messages and handles their buttons."""
    async with running(Bot()) as first:
        assert isinstance(first, Bot)
        sent = await _announce(first)

    async with running(Bot(sync=False)) as second:
        response = await fake.click(ALICE, sent.id, "relack:2.4")
        assert isinstance(second, Bot)

    assert fake.connections == 2
    assert response.type == 7
    assert fake.messages[sent.id].content == "Release 2.4 (acknowledged)"


async def test_an_unknown_route_is_a_recorded_404(fake: FakeDiscord, bot: Bot) -> None:
    """A route the fake does not know answers 404 and stays in calls for the test to see."""
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/stickers/{sticker_id}", sticker_id=1))

    assert [(call.path, call.status) for call in fake.calls_to("GET", r"/stickers/.*")] == [("/stickers/1", 404)]


async def test_requests_without_the_bot_token_are_refused(fake: FakeDiscord) -> None:
    """A REST call without the bot token gets 401; every JSON answer is exactly application/json."""
    async with aiohttp.ClientSession() as session, session.get(f"{fake.api_url}/users/@me") as answer:
        body: Any = await answer.json()
        assert (answer.status, body["message"]) == (401, "401: Unauthorized")
        assert answer.headers["Content-Type"] == "application/json"


async def test_a_slash_command_from_a_dm_is_answered_there(fake: FakeDiscord, bot: Bot) -> None:
    """With guild_id=None the command comes from the user's DM, carrying a user instead of a member."""
    response = await fake.slash_command(ALICE, 0, "release", {"version": "2.5"}, subcommand="announce", guild_id=None)

    dm = fake.dm_channel_of(ALICE)
    assert (response.channel_id, response.content) == (dm, "Announcing 2.5")
    assert [m.content for m in fake.messages_in(dm or 0)] == ["Announcing 2.5"]


async def test_guild_channel_member_and_reaction_reads_parse(fake: FakeDiscord, bot: Bot) -> None:
    """fetch_guild, fetch_channel, fetch_member, fetch_roles and reaction users come back as discord.py objects."""
    guild = await bot.fetch_guild(GUILD_ID)
    channel = await bot.fetch_channel(RELEASES)
    member = await guild.fetch_member(ALICE)
    roles = await guild.fetch_roles()
    sent = await _announce(bot)
    await fake.react(ALICE, sent.id, "🎉")
    assert isinstance(channel, discord.TextChannel)
    fetched = await channel.fetch_message(sent.id)
    reactors = [user.id async for user in fetched.reactions[0].users()]

    assert (guild.name, channel.name, member.name) == ("Herald Test", "releases", "alice")
    assert SUPPORT_ROLE in {role.id for role in roles}
    assert reactors == [ALICE]
