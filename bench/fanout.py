"""Fan-out benchmark: Herald against the loop a user would write, on a Slack that enforces its limits.

    .venv/bin/python bench/fanout.py [--channels 100] [--dms 1000] [--scale 1] [--speed 20] [--only herald] [--json]

Both contenders post one message to each of ``--channels`` channels and DM each of
``--dms`` people, through the real ``slack_sdk`` Web API client over HTTP, to the same
fake Slack (``bench/limited_slack.py``): about one message a second per channel,
a workspace ceiling of 600 messages a minute, Tier 3 (50 a minute) for
``conversations.open``, 429 with Retry-After over any of them; every limit is
multiplied by ``--speed`` so the run takes minutes, not an hour. ``--scale 10`` makes
it 10,000 DMs.

* Herald: the real Slack adapter, delivery engine and SQLite ledger, in its own process.
* Baseline: ``AsyncWebClient`` with ``AsyncRateLimitErrorRetryHandler``, then for each
  channel ``chat.postMessage`` and for each person ``conversations.open`` and
  ``chat.postMessage``, in its own process.

Printed for each: time from first to last post, efficiency eta = T_ideal / T_actual
(T_ideal: the posts at the ceiling, or the DM opens at Tier 3, whichever is longer),
429s, calls made inside a Retry-After window Slack had already announced, duplicates,
losses, peak RSS; and Herald's speed relative to the baseline.
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
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.limited_slack import LimitedSlack  # noqa: E402
from tests.fakes_slack import BOT_TOKEN, BOT_USER_ID  # noqa: E402


def _channel(i: int) -> str:
    return f"C{i:08d}"


def _user(i: int) -> str:
    return f"U{i:08d}"


# -- the contenders, each run in a child process -----------------------------------------


async def _herald(api_url: str, channels: int, dms: int, speed: float) -> dict[str, Any]:
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack.gateway import TIER_2, SlackDirectory, SlackGateway, SlackMessenger
    from bot.bootstrap import open_storage, wire
    from bot.domain.commands import parse_release_command
    from bot.domain.destinations import Platform
    from bot.service.limits import Limits, Rate, RateLimiter
    from bot.service.planfile import parse_plan
    from bot.service.ports import PlatformLink
    from bot.settings import load_settings

    targets = [f'"slack:{_channel(i)}"' for i in range(channels)] + [f'"slack:@{_user(i)}"' for i in range(dms)]
    plan = parse_plan(
        'product = "Acme"\n[access]\nannouncers = ["shell:deployer"]\n'
        f'[[group]]\nid = "everyone"\nack = "none"\nto = [{", ".join(targets)}]\n'
        'message = "Acme {{ version }} is live."\n'
    )
    with tempfile.TemporaryDirectory() as folder:
        storage = await open_storage(
            load_settings({"DATABASE_URL": f"sqlite:///{folder}/herald.db"}, env_file=None), migrate=True
        )
        limiter = RateLimiter(budgets=storage.budgets)
        # Slack's published budgets, at the benchmark's speed: what Herald declares for Slack.
        limits = Limits(
            name="slack:bench",
            per_target=Rate(1.0 * speed, burst=1.0),
            ceiling=Rate.per_minute(600 * speed, burst=30),
            methods={
                "conversations.open": Rate.per_minute(50 * speed),
                "users.lookupByEmail": Rate.per_minute(50 * speed),
                "chat.update": Rate.per_minute(50 * speed),
                "conversations.list": Rate(TIER_2.per_second * speed),
                "users.list": Rate(TIER_2.per_second * speed),
            },
            direct=Rate.per_minute(50 * speed),
        )
        gateway = SlackGateway(
            AsyncWebClient(token=BOT_TOKEN, base_url=api_url), limiter, limits, ack_emoji="white_check_mark"
        )
        link = PlatformLink(SlackDirectory(gateway), SlackMessenger(gateway), limits=limits)
        herald = wire(plan=plan, storage=storage, links={Platform.SLACK: link}, limiter=limiter)
        for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
            reply = await herald.desk.handle(parse_release_command(line, "shell:deployer"))
            assert not reply.failed, reply
        stop = asyncio.Event()
        engine = asyncio.create_task(herald.engine.run(stop, poll=0.05))
        while True:
            await asyncio.sleep(1.0)
            status = await herald.desk.status("2.4")
            if sum(g.pending for g in status.groups) == 0:
                break
        stop.set()
        herald.engine.wake()
        await engine
        failed = sum(g.failed for g in status.groups)
        await storage.close()
    return {"failed": failed}


async def _baseline(api_url: str, channels: int, dms: int, speed: float) -> dict[str, Any]:
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(
        token=BOT_TOKEN, base_url=api_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=100)]
    )
    failed = 0
    for i in range(channels):
        try:
            await client.chat_postMessage(channel=_channel(i), text="Acme 2.4 is live.")
        except Exception:
            failed += 1
    for i in range(dms):
        try:
            opened = await client.conversations_open(users=_user(i))
            await client.chat_postMessage(channel=opened["channel"]["id"], text="Acme 2.4 is live.")
        except Exception:
            failed += 1
    return {"failed": failed}


def _child(role: str, api_url: str, channels: int, dms: int, speed: float) -> None:
    runner = _herald if role == "herald" else _baseline
    result = asyncio.run(runner(api_url, channels, dms, speed))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# -- the benchmark -------------------------------------------------------------------------


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
    child = json.loads(out.decode().strip().splitlines()[-1])
    return child


async def _contest(role: str, channels: int, dms: int, speed: float) -> dict[str, Any]:
    slack = LimitedSlack(speed=speed)
    for i in range(channels):
        slack.add_channel(_channel(i), f"channel-{i}", members=[BOT_USER_ID])
    for i in range(dms):
        slack.add_user(_user(i), f"person-{i}")
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
    posts = [c for c in slack.calls_to("chat.postMessage") if c.error is None]
    opens = [c for c in slack.calls_to("conversations.open") if c.error is None]
    delivered = Counter(str(c.params.get("channel")) for c in posts)
    expected = channels + dms
    first, last = posts[0].at, posts[-1].at
    ceiling = 600 * speed / 60
    tier3 = 50 * speed / 60
    ideal = max((expected - 30) / ceiling, (dms - 5) / tier3)
    actual = last - first
    return {
        "contender": role,
        "messages": expected,
        "seconds": round(actual, 2),
        "t_ideal_s": round(ideal, 2),
        "efficiency": round(ideal / actual, 3) if actual else 1.0,
        "throttled_429": slack.throttled,
        "early_calls": slack.early_calls(),
        "duplicates": sum(n - 1 for n in delivered.values() if n > 1),
        "losses": expected - len(delivered),
        "dm_opens": len(opens),
        "peak_rss_mb": round(child["peak_rss_mb"], 1),
    }


def _table(rows: list[dict[str, Any]], ratio: float) -> str:
    keys = list(rows[0])
    width = max(len(k) for k in keys)
    lines = [f"{'':>{width}}  " + "  ".join(f"{r['contender']:>10}" for r in rows)]
    for key in keys[1:]:
        lines.append(f"{key:>{width}}  " + "  ".join(f"{r[key]!s:>10}" for r in rows))
    if ratio:
        lines.append(f"{'herald speedup':>{width}}  {ratio:>10.2f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--dms", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=1, help="multiply the DMs (10 gives 10,000)")
    parser.add_argument("--speed", type=float, default=20.0, help="multiply every Slack limit, to keep the run short")
    parser.add_argument(
        "--only", choices=["herald", "baseline"], help="run one contender (e.g. Herald alone at --scale 10)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--role", choices=["herald", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        _child(args.role, args.api_url, args.channels, args.dms, args.speed)
        return
    dms = args.dms * args.scale
    roles = [args.only] if args.only else ["herald", "baseline"]
    rows = [asyncio.run(_contest(role, args.channels, dms, args.speed)) for role in roles]
    ratio = rows[1]["seconds"] / rows[0]["seconds"] if len(rows) == 2 and rows[0]["seconds"] else 0.0
    if args.json:
        print(json.dumps({"machine": platform.machine(), "rows": rows, "speedup": round(ratio, 2)}))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.channels} channels + {dms} DMs; Slack's limits x{args.speed:g}")
    print(_table(rows, ratio))
    herald = rows[0]
    if herald["contender"] != "herald":
        return
    met = (
        herald["efficiency"] >= 0.95
        and herald["early_calls"] == 0
        and herald["duplicates"] == 0
        and herald["losses"] == 0
        and herald["peak_rss_mb"] <= 200
    )
    print("Herald target (eta >= 0.95, 0 early, 0 duplicates, 0 losses, RSS <= 200 MB):", "met" if met else "MISSED")


if __name__ == "__main__":
    main()
