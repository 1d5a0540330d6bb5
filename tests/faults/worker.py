"""A Herald process for the fault tests: runs one campaign against a recording fake platform.

    python tests/faults/worker.py DATABASE_URL RECORD_FILE TARGETS [--remind] [--correct] [--retract]
        [--slack API_URL] [--discord API_URL]

With ``--slack`` the campaign goes through Herald's real Slack adapter to the fake Slack at
API_URL instead: one channel (``C0KILL``) and TARGETS - 1 people (``U0000…``) by DM, within
Slack's budgets (600 messages a minute); RECORD_FILE is then unused (the fake keeps the messages).
``--discord`` does the same through Herald's Discord adapter (REST only, no gateway session) to
the fake Discord at API_URL: the channel ``DISCORD_CHANNEL`` and TARGETS - 1 people by DM, each
copy with an Acknowledge button.

HERALD_FAKE_LATENCY (seconds, default 0.001) sets how long the fake platform takes per message.

It announces and approves release 2.4 (a no-op when another process already did),
then works the ledger until every delivery has settled. With ``--correct`` it then corrects
the communiqué (``CORRECTED``; proposing it again once it is approved changes nothing) and
works the ledger until every correction has settled too: the recording platform edits a
copy in place by writing "pid EDIT ref key". ``--retract`` retracts the release instead
(``RETRACTED``; retracting it again once in effect changes nothing), which edits every copy
the same way. The fake platform appends one
line per accepted message to RECORD_FILE ("pid key"), flushed before the send returns,
so a message counts as delivered the moment the platform has it, as on a real one.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.app.bootstrap import open_storage, wire  # noqa: E402
from bot.app.settings import load_settings  # noqa: E402
from bot.domain.commands import parse_release_command  # noqa: E402
from bot.domain.destinations import Platform  # noqa: E402
from bot.service.clock import SystemClock  # noqa: E402
from bot.service.engine import DeliveryEngine  # noqa: E402
from bot.service.limits import RateLimiter  # noqa: E402
from bot.service.planfile import parse_plan  # noqa: E402
from bot.service.ports import OutgoingMessage, PlatformLink  # noqa: E402
from tests.fakes import FakeDirectory  # noqa: E402

LEASE = timedelta(seconds=1)
CORRECTED = "Acme 2.4 is live. Corrected: the notes are at https://example.com/2.4."
RETRACTED = "rolled back: the migration failed"
PLATFORM_LATENCY = float(os.environ.get("HERALD_FAKE_LATENCY", "0.001"))


def slack_plan_text(targets: int) -> str:
    """One group: the channel ``C0KILL`` and ``targets - 1`` people by DM."""
    people = ", ".join(['"slack:C0KILL"', *(f'"slack:@{slack_user(i)}"' for i in range(targets - 1))])
    return (
        'product = "Acme"\n[access]\nannouncers = ["slack:U0DEPLOYER"]\n'
        f'[[group]]\nid = "everyone"\nto = [{people}]\nack = "none"\n'
        'message = "Acme {{ version }} is live."\n'
    )


def slack_user(i: int) -> str:
    """The id of the i-th person in the Slack campaign."""
    return f"U{i:07d}"


def _slack_links(api_url: str, limiter: RateLimiter) -> dict[Platform, PlatformLink]:
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack.gateway import SlackGateway
    from adapters.slack.runtime import slack_link
    from adapters.slack.tiers import slack_limits
    from tests.fakes.slack import BOT_TOKEN

    client = AsyncWebClient(token=BOT_TOKEN, base_url=api_url, retry_handlers=[])
    gateway = SlackGateway(client, limiter, slack_limits("T0KILL", 600), ack_emoji="white_check_mark")
    return {Platform.SLACK: slack_link(gateway)}


DISCORD_CHANNEL = 310000000000000001
DISCORD_DEPLOYER = 210000000000000001


def discord_user(i: int) -> int:
    """The id of the i-th person in the Discord campaign."""
    return 220000000000000000 + i


def discord_plan_text(targets: int) -> str:
    """One group: the channel and ``targets - 1`` people by DM, acknowledgement optional (a button on each)."""
    people = [
        f'"discord:channel:{DISCORD_CHANNEL}"',
        *(f'"discord:user:{discord_user(i)}"' for i in range(targets - 1)),
    ]
    return (
        f'product = "Acme"\n[access]\nannouncers = ["discord:{DISCORD_DEPLOYER}"]\n'
        f'[[group]]\nid = "everyone"\nto = [{", ".join(people)}]\nack = "optional"\n'
        'message = "Acme {{ version }} is live."\n'
    )


async def _discord_links(api_url: str, limiter: RateLimiter) -> tuple[dict[Platform, PlatformLink], Any]:
    from adapters.discord.runtime import discord_client, discord_gateway, discord_link
    from tests.fakes.discord import BOT_TOKEN

    environment = {"DISCORD_BOT_TOKEN": BOT_TOKEN, "DISCORD_API_URL": api_url, "DISCORD_DMS_PER_MINUTE": "3000"}
    settings = load_settings(environment, env_file=None).discord
    assert settings is not None
    client = discord_client(settings)
    await client.login(BOT_TOKEN)  # REST only: the delivery engine needs no gateway session
    return {Platform.DISCORD: discord_link(discord_gateway(client, settings, limiter))}, client


def plan_text(targets: int, *, remind: bool) -> str:
    """One group of ``targets`` DMs (and, with ``remind``, a 1-second reminder cycle)."""
    people = ", ".join(f'"shell:@u{i}"' for i in range(targets))
    chase = 'ack_within = "3s"\nremind_every = "1s"\nescalate_to = ["shell:@lead"]\n' if remind else 'ack = "none"\n'
    return (
        'product = "Acme"\n[access]\nannouncers = ["shell:deployer"]\n'
        f'[[group]]\nid = "everyone"\nto = [{people}]\n{chase}'
        'message = "Acme {{ version }} is live."\n'
    )


class RecordingPlatform:
    """Accepts every message and writes it down, durably, before answering.

    Like Slack with message metadata, it can be asked whether a message with a given
    delivery key is there (``find``): the record is the platform's own store.
    """

    def __init__(self, record: Path) -> None:
        self._record = record
        self._file = record.open("a", encoding="utf-8")

    async def find(self, message: OutgoingMessage, since: object) -> str | None:
        for line in self._record.read_text(encoding="utf-8").splitlines():
            if line.split(" ", 1)[-1] == message.delivery_key:
                return f"ref-{message.delivery_key}"
        return None

    async def send(self, message: OutgoingMessage) -> str:
        await asyncio.sleep(PLATFORM_LATENCY)
        self._write(message.delivery_key)
        return f"ref-{message.delivery_key}"

    async def edit(self, message: OutgoingMessage, ref: str) -> None:
        await asyncio.sleep(PLATFORM_LATENCY)
        self._write(f"EDIT {ref} {message.delivery_key}")

    async def carries(self, message: OutgoingMessage, ref: str) -> bool:
        wanted = f"EDIT {ref} {message.delivery_key}"
        return any(line.split(" ", 1)[-1] == wanted for line in self._record.read_text(encoding="utf-8").splitlines())

    def _write(self, entry: str) -> None:
        self._file.write(f"{os.getpid()} {entry}\n")
        self._file.flush()
        os.fsync(self._file.fileno())


async def main(
    url: str,
    record: Path,
    targets: int,
    remind: bool,
    slack: str | None = None,
    discord: str | None = None,
    *,
    correct: bool = False,
    retract: bool = False,
) -> int:
    settings = load_settings({"DATABASE_URL": url}, env_file=None)
    storage = await open_storage(settings, migrate=url.startswith("sqlite"))
    limiter = RateLimiter(budgets=storage.budgets)
    client: Any = None
    if slack is not None:
        plan, actor = parse_plan(slack_plan_text(targets)), "slack:U0DEPLOYER"
        links = _slack_links(slack, limiter)
    elif discord is not None:
        plan, actor = parse_plan(discord_plan_text(targets)), f"discord:{DISCORD_DEPLOYER}"
        links, client = await _discord_links(discord, limiter)
    else:
        plan, actor = parse_plan(plan_text(targets, remind=remind)), "shell:deployer"
        links = {Platform.SHELL: PlatformLink(FakeDirectory(), RecordingPlatform(record))}
    herald = wire(plan=plan, storage=storage, links=links, limiter=limiter)
    engine = DeliveryEngine(
        plan=plan, uow=storage.uow, links=links, clock=SystemClock(), limiter=limiter, lease=LEASE, workers=8
    )
    for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
        reply = await herald.desk.handle(parse_release_command(line, actor))
        if reply.failed and (slack or discord) and "already" not in str(reply):
            print(reply, file=sys.stderr)
    if correct:  # once approved, proposing the same text again is refused: a restart corrects nothing twice
        for line in (f"correct 2.4 everyone {CORRECTED}", "approve 2.4 everyone"):
            await herald.desk.handle(parse_release_command(line, actor))
    if retract:  # once retracted, retracting again is refused: a restart withdraws nothing twice
        await herald.desk.handle(parse_release_command(f"retract 2.4 {RETRACTED}", actor))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (8 if remind else 0)
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop, poll=0.2))
    try:
        while True:
            await asyncio.sleep(0.2)
            try:
                if remind:
                    await herald.reminders.sweep()
                async with storage.uow() as uow:
                    open_ = [d for d in await uow.deliveries.for_release("2.4") if not d.status.settled]
            except Exception:  # the database is restarting: look again shortly, as Herald does
                continue
            if not open_ and loop.time() >= deadline:
                return 0
    finally:
        stop.set()
        engine.wake()
        await running
        await storage.close()
        if client is not None:
            await client.close()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    slack_url = arguments[arguments.index("--slack") + 1] if "--slack" in arguments else None
    discord_url = arguments[arguments.index("--discord") + 1] if "--discord" in arguments else None
    remind = "--remind" in arguments
    run = main(
        arguments[0],
        Path(arguments[1]),
        int(arguments[2]),
        remind,
        slack_url,
        discord_url,
        correct="--correct" in arguments,
        retract="--retract" in arguments,
    )
    sys.exit(asyncio.run(run))
