"""Discord fan-out benchmark: Herald's engine against a fake Discord that enforces every documented limit.

    .venv/bin/python bench/discord_fanout.py [--dms 1000] [--role 500] [--runs 3] [--json]
    .venv/bin/python bench/fanout.py --discord [the same options]

The campaign: one release, one group, sent to a channel, to ``--role`` people reached through a
role (``discord:role:GUILD/ROLE``, expanded with ``GET /guilds/{id}/members``, 1,000 a page) and to
``--dms`` people named directly (``discord:user:ID``). Each channel and person must get the
message exactly once. By default that is 1 channel + 1,500 people.

Herald runs in its own process exactly as ``herald run`` wires Discord (``discord_client``,
``discord_gateway``, the directory and messenger, the delivery engine, the SQLite ledger and
its shared budgets), with ``DISCORD_DMS_PER_MINUTE=3000`` (Herald's own DM pace, 30 a minute by
default, lifted: Discord publishes no limit on opening DMs, so the global limit is the
binding one). It talks through a real discord.py client over HTTP to
``tests.fakes.discord.FakeDiscord(enforce_limits=True)`` in this process, which holds every
route to its row in ``tests/fakes/discord/limits.py`` (5 messages per 5 s per channel, 10 member
pages per 10 s per guild, ...) and every request to the global 50 a second, and answers 429 as
Discord does. The fake runs on the real clock: Discord's windows are short.

Printed, for each run: the lookups (first lookup to the first request of the fan-out), the
fan-out's time T_actual (from its first request to its last message), T_ideal and
eta = T_ideal / T_actual. T_ideal is the least time Discord's limits allow for the requests
the fan-out needs: a DM channel and a message for every person, a message for every channel,
N in all; the global limit admits 50 in each one-second window, so the last of them can go
no sooner than (ceil(N / 50) - 1) s after the first. No per-route limit binds (one message per
DM channel, one per channel). Then: requests made and their 429s (share of all calls), calls
inside a window Discord had announced (Remaining: 0, or a 429's retry_after: early calls),
calls to routes with no documented limit, duplicates and losses (from the messages the fake
stored), the deliveries Herald failed, its lease losses, its peak RSS and CPU seconds; and, to
tell Herald from the instrument, the busiest second (any one-second span) as Herald sent and
as the fake saw, and the fake's longest event-loop stall.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.discord import BOT_USER_ID, GUILD_ID, FakeDiscord  # noqa: E402
from tests.fakes.discord.limits import GLOBAL_PER_SECOND, LIMITS  # noqa: E402

DEPLOYER = 230_000_000_000_000_001
CHANNEL = 330_000_000_000_000_001
ROLE = 430_000_000_000_000_001
OPEN = "POST /users/@me/channels"
POST = "POST /channels/{channel}/messages"
LOOKUPS = ("GET /guilds/{guild}/members", "GET /channels/{channel}")
COUNTED = {row.key for row in LIMITS.values() if row.counts_globally}


@dataclass(frozen=True, slots=True)
class Campaign:
    """Who must get the message: people named directly, people holding the role, one channel."""

    named: tuple[int, ...]
    role: tuple[int, ...]

    @property
    def people(self) -> tuple[int, ...]:
        return self.named + self.role

    @property
    def targets(self) -> int:
        return 1 + len(self.people)

    @property
    def needed(self) -> int:
        """Requests the fan-out cannot do without: a DM channel and a message a person, a message for the channel."""
        return 2 * len(self.people) + 1


def campaign(dms: int, role: int) -> Campaign:
    """The benchmark's campaign; the same in every process that builds it with the same sizes."""
    return Campaign(
        tuple(240_000_000_000_000_000 + i for i in range(dms)),
        tuple(250_000_000_000_000_000 + i for i in range(role)),
    )


def seed(fake: FakeDiscord, plan: Campaign) -> None:
    """The guild: the channel, the role, everyone in the campaign (and the deployer)."""
    fake.add_channel(CHANNEL, "announcements")
    fake.add_role(ROLE, "customers")
    fake.add_user(DEPLOYER, "deployer")
    for person in plan.named:
        fake.add_user(person, f"named{person % 100_000}")
    for person in plan.role:
        fake.add_user(person, f"member{person % 100_000}", roles=[ROLE])


def ideal(plan: Campaign) -> float:
    """The least seconds from the fan-out's first request to its last that the global limit allows."""
    return float(math.ceil(plan.needed / GLOBAL_PER_SECOND) - 1)


def fullest_second(moments: list[float]) -> int:
    """The most of ``moments`` (sorted) that fall within any one second."""
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


# -- Herald, in a child process -------------------------------------------------------------


async def _herald(api_url: str, plan: Campaign) -> dict[str, Any]:
    from adapters.discord.pace import counts_globally
    from adapters.discord.runtime import discord_client, discord_gateway, discord_link
    from bot.app.bootstrap import open_storage, wire
    from bot.app.settings import load_settings
    from bot.domain.commands import parse_release_command
    from bot.domain.destinations import Platform
    from bot.service.limits import RateLimiter
    from bot.service.planfile import parse_plan
    from tests.fakes.discord import BOT_TOKEN

    to = [f"discord:channel:{CHANNEL}", f"discord:role:{GUILD_ID}/{ROLE}", *(f"discord:user:{u}" for u in plan.named)]
    herald_plan = parse_plan(
        f'product = "Acme"\n[access]\nannouncers = ["discord:{DEPLOYER}"]\n'
        f'[[group]]\nid = "everyone"\nack = "optional"\nto = [{", ".join(map(json.dumps, to))}]\n'
        'message = "Acme {{ version }} is live."\n'
    )
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            {
                "DATABASE_URL": f"sqlite:///{folder}/herald.db",
                "DISCORD_BOT_TOKEN": BOT_TOKEN,
                "DISCORD_API_URL": api_url,
                "DISCORD_MEMBERS_INTENT": "on",
                "DISCORD_DMS_PER_MINUTE": "3000",
            },
            env_file=None,
        )
        assert settings.discord is not None
        storage = await open_storage(settings, migrate=True)
        limiter = RateLimiter(budgets=storage.budgets)
        client = discord_client(settings.discord)  # the client `herald run` builds, paced by the gateway
        gateway = discord_gateway(client, settings.discord, limiter)
        sent: list[float] = []  # when each counted request left, after the pace let it go

        async def leaving(_session: Any, _context: Any, params: Any) -> None:
            if counts_globally(params.url):
                sent.append(time.monotonic())

        client.pace.trace.on_request_start.append(leaving)
        await client.login(BOT_TOKEN)  # REST only: the engine needs no gateway session
        herald = wire(
            plan=herald_plan, storage=storage, links={Platform.DISCORD: discord_link(gateway)}, limiter=limiter
        )
        try:
            for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
                reply = await herald.desk.handle(parse_release_command(line, f"discord:{DEPLOYER}"))
                assert not reply.failed, reply
            stop = asyncio.Event()
            engine = asyncio.create_task(herald.engine.run(stop, poll=0.05))
            gc.freeze()  # as `herald run` does once serving (bot/app/serve.py): no full pass over the startup heap
            deadline = time.monotonic() + 600 + 20 * ideal(plan)  # then what is left counts as lost
            while True:
                await asyncio.sleep(0.5)
                status = await herald.desk.status("2.4")
                pending = sum(g.pending for g in status.groups)
                if pending == 0 or time.monotonic() > deadline:
                    break
            stop.set()
            herald.engine.wake()
            await engine
        finally:
            await client.close()
            await storage.close()
    return {
        "herald_fullest_second": fullest_second(sent),
        "failed": sum(g.failed for g in status.groups),
        "unsettled": pending,
        "leases_lost": herald.engine.leases.lost,
        "leases_abandoned": herald.engine.leases.abandoned,
        "reconciled": herald.engine.reconciled,
        "unverified": herald.engine.unverified,
    }


def _child(api_url: str, dms: int, role: int) -> None:
    result = asyncio.run(_herald(api_url, campaign(dms, role)))
    used = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = used.ru_maxrss / 1024
    result["cpu_s"] = used.ru_utime + used.ru_stime
    print(json.dumps(result))


# -- the fake Discord, in this process --------------------------------------------------------


async def _run(dms: int, role: int) -> dict[str, Any]:
    plan = campaign(dms, role)
    fake = FakeDiscord(enforce_limits=True, members_intent_granted=True)
    seed(fake, plan)
    # The fake is the measuring instrument: a pause of its event loop makes requests that left
    # Herald spaced out arrive together, and be counted in one window. It runs without the
    # cycle collector (it frees its objects by reference count), as the Slack benchmark's does.
    gc.collect()
    gc.freeze()
    gc.disable()
    stalls: list[float] = []
    watch = asyncio.create_task(_watch_loop(stalls))
    try:
        async with fake:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--child",
                fake.api_url,
                "--dms",
                str(dms),
                "--role",
                str(role),
                stdout=subprocess.PIPE,
                env={**os.environ, "HERALD_LOG_LEVEL": "ERROR"},
            )
            out, _ = await process.communicate()
            assert process.returncode == 0, "Herald's process failed"
            child: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        watch.cancel()
        gc.enable()
        gc.unfreeze()
    child["fake_stall_ms"] = round(1000 * max(stalls, default=0.0), 1)
    return _figures(fake, plan, child)


async def _watch_loop(stalls: list[float]) -> None:
    """How late the fake's event loop wakes: a stall there bunches the requests it counts."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(0.01)
        stalls.append(loop.time() - asked - 0.01)


def _figures(fake: FakeDiscord, plan: Campaign, child: dict[str, Any]) -> dict[str, Any]:
    calls = fake.calls
    fan_out = [c for c in calls if c.route in (OPEN, POST)]
    posts = [c for c in calls if c.route == POST and c.status == 200]
    lookups = [c for c in calls if c.route in LOOKUPS]
    first, last = (fan_out[0].at, posts[-1].at) if posts else (0.0, 0.0)
    actual = last - first
    t_ideal = ideal(plan)
    window = [c for c in calls if first <= c.at <= last]
    got = Counter({CHANNEL: _copies(fake, CHANNEL)})
    for person in plan.people:
        dm = fake.dm_channel_of(person)
        got[person] = _copies(fake, dm) if dm is not None else 0
    throttled = len(fake.throttled)
    return {
        "targets": plan.targets,
        "lookups_s": round(first - lookups[0].at, 2) if lookups and posts else None,
        "seconds": round(actual, 2),
        "t_ideal_s": t_ideal,
        "efficiency": round(t_ideal / actual, 3) if actual else 0.0,
        "needed_requests": plan.needed,
        "fan_out_requests": len(window),
        "requests_per_s": round(len(window) / actual, 1) if actual else 0.0,
        "fullest_second_sent": child["herald_fullest_second"],
        "fullest_second_seen": fullest_second([c.at for c in calls if c.route in COUNTED]),
        "calls": len(calls),
        "throttled_429": throttled,
        "share_429_pct": round(100 * throttled / len(calls), 2) if calls else 0.0,
        "429s_by_route": ", ".join(f"{route} {n}" for route, n in _by_route(fake).most_common()) or "-",
        "early_calls": len(fake.early_calls),
        "untabled_calls": len(fake.untabled_calls),
        "duplicates": sum(1 for n in got.values() if n > 1),
        "losses": sum(1 for n in got.values() if n == 0),
        "dm_opens": sum(1 for c in calls if c.route == OPEN and c.status == 200),
        "member_pages": sum(1 for c in calls if c.route == LOOKUPS[0] and c.status == 200),
        "peak_rss_mb": round(child["peak_rss_mb"], 1),
        "herald_cpu_s": round(child["cpu_s"], 1),
        "fake_stall_ms": child["fake_stall_ms"],
        **{k: child[k] for k in ("failed", "unsettled", "leases_lost", "leases_abandoned", "reconciled", "unverified")},
    }


def _copies(fake: FakeDiscord, channel: int) -> int:
    return sum(1 for m in fake.messages_in(channel) if m.author_id == BOT_USER_ID and m.webhook_id is None)


def _by_route(fake: FakeDiscord) -> Counter[str]:
    return Counter(f"{t.route} ({t.scope})" for t in fake.throttled)


def targets(row: dict[str, Any]) -> dict[str, bool]:
    """The targets, each met or not."""
    return {
        "eta >= 0.9": row["efficiency"] >= 0.9,
        "0 early calls": row["early_calls"] == 0,
        "0 untabled calls": row["untabled_calls"] == 0,
        "0 duplicates": row["duplicates"] == 0,
        "0 losses": row["losses"] == 0,
        "0 failed": row["failed"] == 0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dms", type=int, default=1000, help="people named directly")
    parser.add_argument("--role", type=int, default=500, help="people reached through the role")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", metavar="API_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.dms, args.role)
        return
    rows = [asyncio.run(_run(args.dms, args.role)) for _ in range(args.runs)]
    if args.json:
        print(json.dumps({"machine": platform.machine(), "rows": rows, "targets": [targets(r) for r in rows]}))
        return
    plan = campaign(args.dms, args.role)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"1 channel + {len(plan.named)} people named + {len(plan.role)} through a role: {plan.targets} targets, "
        f"{plan.needed} requests needed; Discord's limits on the real clock"
    )
    print(
        f"T_ideal = (ceil({plan.needed} / {GLOBAL_PER_SECOND}) - 1) s = {ideal(plan):.0f} s: the global limit's "
        "one-second windows; eta = T_ideal / T_actual (first fan-out request to last message)"
    )
    width = max(len(k) for k in rows[0])
    for key in rows[0]:
        if key == "429s_by_route":
            continue
        print(f"{key:>{width}}  " + "  ".join(f"{row[key]!s:>10}" for row in rows))
    for i, row in enumerate(rows, 1):
        print(f"run {i}: 429s by route: {row['429s_by_route']}")
        met = targets(row)
        print(f"run {i}: targets: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in met.items()))


if __name__ == "__main__":
    main()
