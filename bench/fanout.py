"""Fan-out benchmark: Herald against the loop a user would write, on a fake Slack that enforces every tier.

    .venv/bin/python bench/fanout.py [--channels N] [--dms 1000] [--scale 1] [--speed 5] [--only herald] [--json]
    .venv/bin/python bench/fanout.py --discord [--dms 1000] [--role 500] [--runs 1] [--json]   (Discord: see
        bench/discord_fanout.py)

The campaign: ``--channels`` channels, each with members (Herald asks for them with
``conversations.members``, Tier 4), and ``--dms`` people to DM: nine in ten of them
reached through user groups (``slack:usergroup:S…``, expanded with
``usergroups.users.list``, Tier 2; neighbouring groups share a tenth of their members),
the rest named directly (``slack:@U…``), and every fiftieth member of a group is named
directly too. Each channel and each person must get the message exactly once.
By default 20 channels and 1,000 DMs; ``--scale`` multiplies the DMs (and so the groups)
and the channels up to 100: ``--scale 10`` is 100 channels and 10,000 DMs.

Both contenders talk through the real ``slack_sdk`` Web API client over HTTP to
``tests.fakes.slack.FakeSlack(enforce_limits=True, workspace_messages_per_minute=600)``,
which holds every method it serves to Slack's documented limit (the table in
``tests/fakes/slack/limits.py``: tiers, about one message a second per channel, the
workspace ceiling on ``chat.postMessage``) and answers 429 with Retry-After as Slack does.

* Herald: the real Slack gateway (``slack_gateway``, Slack's budgets from
  ``slack_limits``), directory, messenger, delivery engine and SQLite ledger, in its own
  process. DMs are posted to the user id; Slack answers with the D channel.
* Baseline: ``AsyncWebClient`` with ``AsyncRateLimitErrorRetryHandler``; for each channel
  ``conversations.members`` and ``chat.postMessage``, then ``usergroups.users.list`` for
  each group, and for each person (once) ``conversations.open`` and ``chat.postMessage``;
  in its own process.

``--speed`` keeps runs short without touching the fake: the fake is given a clock that
runs ``speed`` times faster than ``time.monotonic()`` (every bucket refills ``speed``
times faster in real time, bursts unchanged), and Herald's budgets are
``slack_limits(...)`` with every rate multiplied by ``speed`` (``bench/_speed.py``).
The Retry-After the fake sends is then in fake seconds, so a client that honours it
waits ``speed`` times longer than needed: conservative, never early, but each 429
costs ``speed`` times what it would on Slack (the baseline, which learns the limits
from 429s, most of all).

Printed for each, in real seconds: the lookups (first call to first post), the time from
first to last post, T_ideal (the posts at the workspace ceiling, or a lookup method's
calls at its tier if that is slower, less the bursts, from the fake's table) and
eta = T_ideal / T_actual; calls, 429s and their share of calls, calls inside a
Retry-After window the fake had announced, calls to methods with no documented limit,
duplicates (targets that got the message more than once, from the messages the fake
stored), losses (targets that never got it), ``conversations.open`` calls, peak RSS;
for Herald also the deliveries it failed, its lease losses and sends abandoned for want
of a sure lease, and the deliveries in doubt it found already sent or resent unverified.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
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

from bench._speed import FastClock  # noqa: E402
from tests.fakes.slack import BOT_TOKEN, BOT_USER_ID, FakeSlack  # noqa: E402
from tests.fakes.slack.limits import LIMITS, Budget  # noqa: E402

TEAM = "T0BENCH"
TEXT = "Acme 2.4 is live."
POST = "chat.postMessage"
PER_MINUTE = 600  # the workspace ceiling on chat.postMessage, for the fake and for Herald
# Above about x8 (80 posts a second) one Herald process on SQLite is held back by the
# shared ceiling budget's transaction per message, not by Slack's limits (bench/README.md).
SPEED = 5.0
CHANNELS = 20  # at --scale 1; --scale multiplies them, up to MAX_CHANNELS
MAX_CHANNELS = 100
CHANNEL_MEMBERS = 50
PEOPLE_PER_GROUP = 225  # 1,000 DMs: four groups, 900 people in them
_GROUPED_SHARE = 0.9
_NAMED_TOO = 50  # every 50th member of a group is also named directly


# -- the campaign ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Campaign:
    """Who must get the message: channels (with members), user groups, people named directly."""

    channels: dict[str, tuple[str, ...]]  # channel id -> its members (the bot among them)
    groups: dict[str, tuple[str, ...]]  # user group id -> its members
    direct: tuple[str, ...]  # people named directly

    @property
    def people(self) -> list[str]:
        """Every person to DM, once, in the order the groups and names list them."""
        people: dict[str, None] = {}
        for members in self.groups.values():
            people.update(dict.fromkeys(members))
        people.update(dict.fromkeys(self.direct))
        return list(people)

    @property
    def targets(self) -> int:
        return len(self.channels) + len(self.people)


def campaign(channels: int, dms: int) -> Campaign:
    """The benchmark's campaign; the same for every process that builds it with the same sizes."""
    people = [f"U{i:08d}" for i in range(dms)]
    grouped = int(dms * _GROUPED_SHARE)
    count = max(1, round(grouped / PEOPLE_PER_GROUP)) if grouped else 0
    groups: dict[str, tuple[str, ...]] = {}
    for g in range(count):
        start, end = g * grouped // count, (g + 1) * grouped // count
        shared = (end - start) // 10  # the first tenth of the next group is in this one too
        groups[f"S{g:08d}"] = tuple(people[start : min(grouped, end + shared)])
    direct = tuple(people[grouped:] + people[:grouped:_NAMED_TOO])
    rooms = {
        f"C{i:08d}": (*(people[(i * CHANNEL_MEMBERS + k) % dms] for k in range(min(CHANNEL_MEMBERS, dms))), BOT_USER_ID)
        for i in range(channels)
    }
    return Campaign(rooms, groups, direct)


def seed(slack: FakeSlack, plan: Campaign) -> None:
    """The campaign's people, channels and user groups, in the fake workspace."""
    for person in plan.people:
        slack.add_user(person, person.lower())
    for channel, members in plan.channels.items():
        slack.add_channel(channel, channel.lower(), members=members)
    for group, members in plan.groups.items():
        slack.add_usergroup(group, members)


def ideal(plan: Campaign, per_minute: int) -> tuple[float, str]:
    """The shortest time Slack's limits allow from the first post to the last, in the fake's seconds, and what sets it.

    Every post draws on the workspace ceiling; each channel needs one ``conversations.members``
    call and each group one ``usergroups.users.list``. Each needs its calls less its burst,
    at its rate; the slowest sets T_ideal.
    """
    needs = {
        "workspace ceiling": (plan.targets, Budget.of(per_minute)),
        "conversations.members": (len(plan.channels), LIMITS["conversations.members"].budget),
        "usergroups.users.list": (len(plan.groups), LIMITS["usergroups.users.list"].budget),
    }
    floors = {name: max(0, calls - budget.burst) * 60 / budget.per_minute for name, (calls, budget) in needs.items()}
    bound = max(floors, key=lambda name: floors[name])
    return floors[bound], bound


# -- the contenders, each run in a child process ---------------------------------------------


async def _herald(api_url: str, plan: Campaign, speed: float) -> dict[str, Any]:
    from adapters.slack.directory import SlackDirectory
    from adapters.slack.messenger import SlackMessenger
    from adapters.slack.runtime import slack_gateway
    from adapters.slack.tiers import slack_limits
    from bench._speed import scaled_limits
    from bot.app.bootstrap import open_storage, wire
    from bot.app.settings import load_settings
    from bot.domain.commands import parse_release_command
    from bot.domain.destinations import Platform
    from bot.service.limits import RateLimiter
    from bot.service.planfile import parse_plan
    from bot.service.ports import PlatformLink

    to = [
        *(f"slack:{c}" for c in plan.channels),
        *(f"slack:usergroup:{g}" for g in plan.groups),
        *(f"slack:@{u}" for u in plan.direct),
    ]
    herald_plan = parse_plan(
        'product = "Acme"\n[access]\nannouncers = ["shell:deployer"]\n'
        f'[[group]]\nid = "everyone"\nack = "none"\nto = [{", ".join(map(json.dumps, to))}]\n'
        'message = "Acme {{ version }} is live."\n'
    )
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            {
                "DATABASE_URL": f"sqlite:///{folder}/herald.db",
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": api_url,
                "SLACK_MESSAGES_PER_MINUTE": str(PER_MINUTE),
            },
            env_file=None,
        )
        assert settings.slack is not None
        storage = await open_storage(settings, migrate=True)
        limiter = RateLimiter(budgets=storage.budgets)
        gateway = slack_gateway(settings.slack, limiter, team=TEAM)  # the client `herald run` builds
        # Slack's budgets as Herald declares them, on the fake's fast clock.
        gateway.limits = scaled_limits(slack_limits(TEAM, settings.slack.ceiling_per_minute), speed)
        link = PlatformLink(SlackDirectory(gateway), SlackMessenger(gateway), limits=gateway.limits)
        herald = wire(plan=herald_plan, storage=storage, links={Platform.SLACK: link}, limiter=limiter)
        await gateway.open()  # one shared HTTP session, as while serving
        try:
            for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
                reply = await herald.desk.handle(parse_release_command(line, "shell:deployer"))
                assert not reply.failed, reply
            stop = asyncio.Event()
            engine = asyncio.create_task(herald.engine.run(stop, poll=0.05))
            # Give up (and count what is left as lost) long after the campaign should be over.
            deadline = time.monotonic() + 600 + 20 * ideal(plan, PER_MINUTE)[0] / speed
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
            await gateway.close()
            await storage.close()
    engine_state = herald.engine
    return {
        "failed": sum(g.failed for g in status.groups),
        "unsettled": pending,
        "leases_lost": engine_state.leases.lost,
        "leases_abandoned": engine_state.leases.abandoned,
        "reconciled": engine_state.reconciled,
        "unverified": engine_state.unverified,
    }


async def _baseline(api_url: str, plan: Campaign, speed: float) -> dict[str, Any]:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(
        token=BOT_TOKEN, base_url=api_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=100)]
    )
    failed = 0
    for channel in plan.channels:
        try:
            cursor = None
            members: list[str] = []
            while True:
                page = await client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                members += page["members"]
                cursor = page["response_metadata"]["next_cursor"]
                if not cursor:
                    break
            await client.chat_postMessage(channel=channel, text=TEXT)
        except SlackApiError:
            failed += 1
    people: dict[str, None] = {}
    for group in plan.groups:
        found = await client.usergroups_users_list(usergroup=group)
        people.update(dict.fromkeys(found["users"]))
    people.update(dict.fromkeys(plan.direct))
    for person in people:
        try:
            opened = await client.conversations_open(users=person)
            await client.chat_postMessage(channel=opened["channel"]["id"], text=TEXT)
        except SlackApiError:
            failed += 1
    return {"failed": failed}


def _child(role: str, api_url: str, channels: int, dms: int, speed: float) -> None:
    runner = _herald if role == "herald" else _baseline
    result = asyncio.run(runner(api_url, campaign(channels, dms), speed))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# -- the benchmark -----------------------------------------------------------------------------


async def _run_child(role: str, api_url: str, channels: int, dms: int, speed: float) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--role",
        role,
        "--api-url",
        api_url,
        "--channels",
        str(channels),
        "--dms",
        str(dms),
        "--speed",
        str(speed),
        stdout=subprocess.PIPE,
        env={**os.environ, "HERALD_LOG_LEVEL": "ERROR"},
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, f"{role} failed"
    child: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return child


async def _contest(role: str, channels: int, dms: int, speed: float) -> dict[str, Any]:
    plan = campaign(channels, dms)
    clock = FastClock(speed)
    slack = FakeSlack(enforce_limits=True, workspace_messages_per_minute=PER_MINUTE, clock=clock)
    seed(slack, plan)
    # The fake Slack is the measuring instrument: a pause of its event loop makes calls
    # that left Herald spaced out arrive together, and be throttled as a burst. Python's
    # full collections over the growing record of calls paused it for up to 54 ms, so the
    # instrument runs without the cycle collector (it frees its objects by reference count).
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        async with slack:
            child = await _run_child(role, slack.api_url, channels, dms, speed)
    finally:
        gc.enable()
        gc.unfreeze()
    return _figures(role, slack, clock, plan, child)


def _figures(role: str, slack: FakeSlack, clock: FastClock, plan: Campaign, child: dict[str, Any]) -> dict[str, Any]:
    posts = [c for c in slack.calls if c.method == POST and c.error is None]
    got = Counter({channel: len(slack.messages(channel)) for channel in plan.channels})
    got.update({person: len(slack.messages(slack.dm_channel(person))) for person in plan.people})
    first, last = (posts[0].at, posts[-1].at) if posts else (0.0, 0.0)
    actual = clock.real(last - first)
    floor, bound = ideal(plan, PER_MINUTE)
    t_ideal = clock.real(floor)
    calls = len(slack.calls)
    throttled = len(slack.throttled)
    by_method = Counter(t.method for t in slack.throttled)
    row: dict[str, Any] = {
        "contender": role,
        "targets": plan.targets,
        "lookups_s": round(clock.real(first - slack.calls[0].at), 2) if posts else None,
        "seconds": round(actual, 2),
        "t_ideal_s": round(t_ideal, 2),
        "ideal_bound": bound,
        "efficiency": round(t_ideal / actual, 3) if actual else 0.0,
        "calls": calls,
        "throttled_429": throttled,
        "share_429_pct": round(100 * throttled / calls, 2) if calls else 0.0,
        "429s_by_method": ", ".join(f"{m} {n}" for m, n in by_method.most_common()) or "-",
        "early_calls": len(slack.early_calls),
        "untabled_calls": len(slack.untabled_calls),
        "duplicates": sum(1 for n in got.values() if n > 1),
        "losses": sum(1 for n in got.values() if n == 0),
        "dm_opens": sum(1 for c in slack.calls if c.method == "conversations.open" and c.error is None),
        "peak_rss_mb": round(child["peak_rss_mb"], 1),
        "failed": child["failed"],
    }
    for key in ("leases_lost", "leases_abandoned", "reconciled", "unverified", "unsettled"):
        if key in child:
            row[key] = child[key]
    return row


def _table(rows: list[dict[str, Any]], ratio: float) -> str:
    keys = list(dict.fromkeys(key for row in rows for key in row))
    width = max(len(k) for k in keys)
    column = max(12, *(len(str(row.get(key, ""))) for row in rows for key in keys if key != "429s_by_method"))
    lines = [f"{'':>{width}}  " + "  ".join(f"{r['contender']:>{column}}" for r in rows)]
    for key in keys[1:]:
        if key == "429s_by_method":
            continue
        lines.append(f"{key:>{width}}  " + "  ".join(f"{r.get(key, '-')!s:>{column}}" for r in rows))
    if ratio:
        lines.append(f"{'herald speedup':>{width}}  {ratio:>{column}.2f}x")
    for row in rows:
        lines.append(f"429s by method, {row['contender']}: {row['429s_by_method']}")
    return "\n".join(lines)


def targets(herald: dict[str, Any]) -> dict[str, bool]:
    """Herald's targets, each met or not."""
    return {
        "eta >= 0.95": herald["efficiency"] >= 0.95,
        "0 early calls": herald["early_calls"] == 0,
        "0 duplicates": herald["duplicates"] == 0,
        "0 losses": herald["losses"] == 0,
        "0 lease losses": herald["leases_lost"] == 0,
        "<= 1% 429s": herald["share_429_pct"] <= 1.0,
    }


def main() -> None:
    if "--discord" in sys.argv[1:]:  # the Discord fan-out, with its own options (bench/discord_fanout.py)
        from bench.discord_fanout import main as discord_main

        discord_main([a for a in sys.argv[1:] if a != "--discord"])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, help="default 20, times --scale up to 100")
    parser.add_argument("--dms", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=1, help="multiply the DMs (10 gives 100 channels + 10,000 DMs)")
    parser.add_argument(
        "--speed", type=float, default=SPEED, help="run Slack's clock (and Herald's budgets) this much faster"
    )
    parser.add_argument(
        "--only", choices=["herald", "baseline"], help="run one contender (e.g. Herald alone at --scale 10)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--discord", action="store_true", help="run the Discord fan-out instead: bench/discord_fanout.py --help"
    )
    parser.add_argument("--role", choices=["herald", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        _child(args.role, args.api_url, args.channels or 0, args.dms, args.speed)
        return
    channels = args.channels if args.channels is not None else min(MAX_CHANNELS, CHANNELS * args.scale)
    dms = args.dms * args.scale
    roles = [args.only] if args.only else ["herald", "baseline"]
    rows = [asyncio.run(_contest(role, channels, dms, args.speed)) for role in roles]
    ratio = rows[1]["seconds"] / rows[0]["seconds"] if len(rows) == 2 and rows[0]["seconds"] else 0.0
    herald = next((row for row in rows if row["contender"] == "herald"), None)
    met = targets(herald) if herald is not None else {}
    if args.json:
        print(
            json.dumps(
                {
                    "machine": platform.machine(),
                    "speed": args.speed,
                    "rows": rows,
                    "speedup": round(ratio, 2),
                    "targets": met,
                }
            )
        )
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    plan = campaign(channels, dms)
    print(
        f"{channels} channels + {len(plan.people)} DMs ({len(plan.groups)} user groups, "
        f"{len(plan.direct)} people named directly); Slack's limits x{args.speed:g}, "
        f"workspace ceiling {PER_MINUTE}/min; times in real seconds"
    )
    print(_table(rows, ratio))
    if args.speed != 1 and len(rows) == 2:
        print(
            f"(the baseline sleeps each Retry-After in real seconds: at x{args.speed:g} that is "
            f"{args.speed:g} times longer than Slack would need)"
        )
    if met:
        print("Herald targets:", ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in met.items()))


if __name__ == "__main__":
    main()
