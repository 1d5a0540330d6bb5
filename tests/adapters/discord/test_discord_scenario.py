"""The whole loop in Discord, driven as Discord drives it: app command, thread, buttons, sends, receipts."""

from __future__ import annotations

from adapters.discord import translate
from tests.adapters.discord.conftest import ANNOUNCER, RELEASES, DiscordWorld
from tests.fakes_discord import InteractionResponse


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
