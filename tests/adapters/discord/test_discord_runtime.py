"""Herald's Discord client over its life: restarts, slow answers, intents, command sync, ``herald run``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.discord import translate
from adapters.discord.runtime import sync_commands
from bot.app.bootstrap import memory_storage
from bot.app.platforms import chat_herald
from bot.app.serve import serve
from bot.domain.errors import ConfigError
from bot.service.clock import FixedClock
from bot.service.planfile import parse_plan
from storage.memory import MemoryStore
from tests.adapters.discord.conftest import (
    ANNOUNCER,
    PLAN,
    RELEASES,
    DiscordWorld,
    seed,
    settings_for,
    start_herald,
)
from tests.fakes.discord import GUILD_ID, FakeDiscord

ROOT = Path(__file__).resolve().parents[3]


async def _announced(fake: FakeDiscord) -> tuple[MemoryStore, FixedClock, DiscordWorld]:
    """A first Herald on a seeded fake, with release 2.4 announced: its walkthrough is posted."""
    seed(fake)
    store, clock = MemoryStore(), FixedClock()
    first = await start_herald(fake, store, clock)
    await fake.slash_command(ANNOUNCER, RELEASES, "release", {"version": "2.4"}, subcommand="announce")
    await first.until(lambda: "2.4" in store.releases and store.releases["2.4"].thread is not None)
    return store, clock, first


async def test_buttons_keep_working_after_herald_restarts(fake_discord_patched: None) -> None:
    """A button posted before a restart is answered by the new process: its meaning is in its custom_id."""
    async with FakeDiscord(members_intent_granted=True) as fake:
        store, clock, first = await _announced(fake)
        engineering = first.communiques()[0]
        await first.service.close()

        second = await start_herald(fake, store, clock)
        try:
            await fake.click(ANNOUNCER, engineering.id, translate.custom_id("approve", "2.4"))
            await second.until(lambda: store.releases["2.4"].communiques["engineering"].approved)
        finally:
            await second.service.close()
        assert fake.connections == 2


async def test_an_edit_modal_opened_before_a_restart_is_saved_by_the_new_process(fake_discord_patched: None) -> None:
    """The modal names its release, and the message it was opened from names the communiqué: nothing is lost."""
    async with FakeDiscord(members_intent_granted=True) as fake:
        store, clock, first = await _announced(fake)
        support = first.communiques()[1]
        opened = await fake.click(ANNOUNCER, support.id, translate.custom_id("edit", "2.4"))
        assert opened.type == 9  # the modal is open in the person's client...
        await first.service.close()  # ...when Herald restarts

        second = await start_herald(fake, store, clock)
        try:
            saved = await fake.submit_modal(
                ANNOUNCER,
                translate.modal_id("edit", "2.4"),
                {translate.EDIT_INPUT: "Support: 2.4 is out, written while Herald restarted."},
                channel_id=support.channel_id,
                message_id=support.id,
            )
        finally:
            await second.service.close()
        communique = store.releases["2.4"].communiques["support"]
        assert communique.text == "Support: 2.4 is out, written while Herald restarted."
        assert communique.revision == 2
        assert saved.type in (4, 5)


async def test_slow_work_is_deferred_within_three_seconds_and_answered_after(discord_world: DiscordWorld) -> None:
    """When the answer is not ready at once, Herald defers (Discord's 3-second rule) and follows up."""
    discord_world.front.answer_within = 0.0

    response = await discord_world.fake.slash_command(
        ANNOUNCER, RELEASES, "release", {"version": "2.4"}, subcommand="announce"
    )

    assert response.type == 5
    assert response.ephemeral
    await discord_world.until(lambda: response.followups)
    assert "walkthrough is in" in str(response.followups[-1]["content"])


async def test_a_role_needs_the_members_intent_and_the_check_says_so(fake_discord_patched: None) -> None:
    """With DISCORD_MEMBERS_INTENT off, a role destination fails its check with how to fix it."""
    async with FakeDiscord() as fake:
        seed(fake)
        world = await start_herald(fake, MemoryStore(), FixedClock(), DISCORD_MEMBERS_INTENT="off")
        try:
            await fake.slash_command(ANNOUNCER, RELEASES, "release", {"version": "2.4"}, subcommand="announce")
            await world.until(lambda: len(world.communiques()) == 2 if world.store.releases else False)
            support = str(world.communiques()[1].embeds)
            assert "Server Members intent" in support
            assert "DISCORD\\\\_MEMBERS\\\\_INTENT=on" in support  # as markdown: DISCORD_MEMBERS_INTENT=on
            assert fake.identify_payloads
            assert not any(p["intents"] & (1 << 1) for p in fake.identify_payloads)
        finally:
            await world.service.close()


async def test_a_refused_members_intent_stops_herald_with_a_sentence(fake_discord_patched: None) -> None:
    """Asking for the members intent without switching it on in the portal ends in a clear error, not a hang."""
    async with FakeDiscord(members_intent_granted=False) as fake:
        seed(fake)
        store = MemoryStore()

        storage = memory_storage(store)
        plan = parse_plan(PLAN)
        served = chat_herald(plan=plan, storage=storage, settings=settings_for(fake, DISCORD_MEMBERS_INTENT="on"))
        herald = served.herald
        with pytest.raises(ConfigError, match=r"Members intent|PrivilegedIntentsRequired"):
            await asyncio.wait_for(
                serve(engine_run=herald.engine.run, plan=plan, sweep=herald.reminders.sweep, services=served.services),
                timeout=20,
            )


async def test_sync_registers_the_release_commands_in_one_server(fake_discord_patched: None) -> None:
    """`herald discord sync --guild ID` registers /release and its subcommands there; starting Herald syncs nothing."""
    async with FakeDiscord(members_intent_granted=True) as fake:
        seed(fake)
        world = await start_herald(fake, MemoryStore(), FixedClock())
        await world.service.close()
        assert fake.calls_to("PUT", r"/applications/\d+(/guilds/\d+)?/commands") == []

        settings = settings_for(fake)
        count = await sync_commands(settings.discord, GUILD_ID)

    (release,) = fake.guild_commands[GUILD_ID]
    assert count == 1
    assert release["name"] == "release"
    names = sorted(o["name"] for o in release["options"])
    assert names == [
        *("announce", "cancel", "dashboard", "help", "remind", "retry", "skip", "status"),
        *("subscribe", "subscriptions", "unsubscribe"),
    ]
    skip = next(o for o in release["options"] if o["name"] == "skip")
    assert [(o["name"], o.get("required", False)) for o in skip["options"]] == [
        ("version", True),
        ("group", True),
        ("reason", False),
    ]
    subscribe = next(o for o in release["options"] if o["name"] == "subscribe")
    assert [(o["name"], o.get("required", False)) for o in subscribe["options"]] == [
        ("component", False),
        ("level", False),
    ]
    level = next(o for o in subscribe["options"] if o["name"] == "level")
    assert [c["value"] for c in level["choices"]] == ["all", "minor", "major"]
    announce = next(o for o in release["options"] if o["name"] == "announce")
    assert [o["name"] for o in announce["options"]] == ["version"]


async def test_herald_run_serves_discord_and_stops_cleanly(tmp_path: Path, fake_discord_patched: None) -> None:
    """`herald run` with DISCORD_BOT_TOKEN connects, answers /release help, and exits 0 on SIGTERM."""
    async with FakeDiscord(members_intent_granted=True) as fake:
        seed(fake)
        (tmp_path / "plan.toml").write_text(PLAN)
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DATABASE_URL", "SLACK_", "DISCORD_"))
        }
        env.update(
            HERALD_PLAN=str(tmp_path / "plan.toml"),
            DISCORD_BOT_TOKEN="fake-discord-token",
            DISCORD_API_URL=fake.api_url,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DISCORD_MEMBERS_INTENT="on",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stderr=subprocess.PIPE
        )
        try:
            await fake.wait_for(lambda: fake.live_sessions > 0 or process.returncode is not None, timeout=60)
            assert process.returncode is None
            response = await fake.slash_command(ANNOUNCER, RELEASES, "release", subcommand="help", timeout=10)
            await fake.wait_for(lambda: bool(response.content or response.followups))
            assert "/release announce" in (response.content or str(response.followups))
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, stderr.decode()
        assert b"fake-discord-token" not in stderr


async def test_a_wrong_token_is_one_sentence(fake_discord_patched: None) -> None:
    """Discord refuses the token at login: Herald says which variable to fix, and never shows the token."""
    async with FakeDiscord() as fake:
        with pytest.raises(ConfigError, match="refused DISCORD_BOT_TOKEN") as refused:
            await start_herald(fake, MemoryStore(), FixedClock(), DISCORD_BOT_TOKEN="not-the-token")
    assert "not-the-token" not in str(refused.value)
