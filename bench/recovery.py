"""After a 429 storm: how fast Herald's ceiling climbs back, second by second, on a fake Slack that enforces every tier.

    .venv/bin/python bench/recovery.py [--dms 1200] [--storm-at 20] [--storm 10] [--json]

A campaign of ``--dms`` DMs (people named directly) goes out at the workspace ceiling
(600 posts a minute) through Herald's real Slack gateway, engine and SQLite ledger, in
one process with ``tests.fakes.slack.FakeSlack(enforce_limits=True)`` served over HTTP.
``--storm-at`` seconds after the first post the fake answers every ``chat.postMessage``
with 429 and ``Retry-After: 1`` for ``--storm`` seconds, as Slack does during an
incident. Real time, no speed-up.

Printed, one line a second: the ceiling Herald allows itself (posts a minute, from
``RateLimiter.rate``) and the posts that went through in that second; then how long
after the storm ended the ceiling was back at the configured rate, the 429s, calls inside
a Retry-After the fake had sent, duplicates and losses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.slack import BOT_TOKEN, FakeSlack

TEAM = "T0STORM"
PER_MINUTE = 600
POST = "chat.postMessage"


async def run(dms: int, storm_at: float, storm: float) -> dict[str, Any]:
    from adapters.slack.directory import SlackDirectory
    from adapters.slack.messenger import SlackMessenger
    from adapters.slack.runtime import slack_gateway
    from bot.app.bootstrap import open_storage, wire
    from bot.app.settings import load_settings
    from bot.domain.commands import parse_release_command
    from bot.domain.destinations import Platform
    from bot.service.limits import RateLimiter
    from bot.service.planfile import parse_plan
    from bot.service.ports import PlatformLink

    people = [f"U{i:08d}" for i in range(dms)]
    slack = FakeSlack(enforce_limits=True, workspace_messages_per_minute=PER_MINUTE)
    for person in people:
        slack.add_user(person, person.lower())
    to = ", ".join(json.dumps(f"slack:@{p}") for p in people)
    plan = parse_plan(
        'product = "Acme"\n[access]\nannouncers = ["shell:deployer"]\n'
        f'[[group]]\nid = "everyone"\nack = "none"\nto = [{to}]\nmessage = "Acme {{{{ version }}}} is live."\n'
    )
    samples: list[tuple[float, float, int]] = []
    async with slack:
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(
                {
                    "DATABASE_URL": f"sqlite:///{folder}/herald.db",
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_SIGNING_SECRET": "bench",
                    "SLACK_API_URL": slack.api_url,
                    "SLACK_MESSAGES_PER_MINUTE": str(PER_MINUTE),
                },
                env_file=None,
            )
            assert settings.slack is not None
            storage = await open_storage(settings, migrate=True)
            limiter = RateLimiter(budgets=storage.budgets)
            gateway = slack_gateway(settings.slack, limiter, team=TEAM)
            link = PlatformLink(SlackDirectory(gateway), SlackMessenger(gateway), limits=gateway.limits)
            herald = wire(plan=plan, storage=storage, links={Platform.SLACK: link}, limiter=limiter)
            await gateway.open()
            try:
                for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
                    reply = await herald.desk.handle(parse_release_command(line, "shell:deployer"))
                    assert not reply.failed, reply
                stop = asyncio.Event()
                engine = asyncio.create_task(herald.engine.run(stop, poll=0.05))
                start: float | None = None
                stormed = False
                deadline = time.monotonic() + 60 + 3 * dms * 60 / PER_MINUTE + storm
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.25)
                    posts = sum(1 for c in slack.calls if c.method == POST and c.error is None)
                    if start is None and posts:
                        start = time.monotonic()
                    if start is None:
                        continue
                    now = time.monotonic() - start
                    samples.append((now, limiter.rate(gateway.limits) * 60, posts))
                    if not stormed and now >= storm_at:
                        slack.storm(POST, storm)
                        stormed = True
                    if posts >= dms:
                        break
                stop.set()
                herald.engine.wake()
                await engine
            finally:
                await gateway.close()
                await storage.close()
    return _figures(slack, people, samples, storm_at, storm)


def _figures(
    slack: FakeSlack, people: list[str], samples: list[tuple[float, float, int]], storm_at: float, storm: float
) -> dict[str, Any]:
    got = Counter({p: len(slack.messages(slack.dm_channel(p))) for p in people})
    declared = max(rate for _, rate, _ in samples) if samples else 0.0
    storm_end = storm_at + storm
    back = next((t for t, rate, _ in samples if t >= storm_end and rate >= declared * 0.999), None)
    seconds: list[dict[str, float]] = []
    previous = 0
    for second in range(int(samples[-1][0]) + 1 if samples else 0):
        inside = [s for s in samples if second <= s[0] < second + 1]
        if not inside:
            continue
        seconds.append(
            {"t": second, "ceiling_per_minute": round(min(r for _, r, _ in inside)), "posts": inside[-1][2] - previous}
        )
        previous = inside[-1][2]
    calls = [c for c in slack.calls if c.method == POST]
    throttles = [t for t in slack.throttled if t.method == POST]
    return {
        "dms": len(people),
        "storm": f"{storm:g} s from {storm_at:g} s",
        "declared_per_minute": round(declared),
        "seconds_to_recover": None if back is None else round(back - storm_end, 1),
        "calls": len(calls),
        "429s": len(throttles),
        "429s_outside_the_storm": sum(1 for t in throttles if t.bucket != "storm"),
        "early_calls": len(slack.early_calls),
        "duplicates": sum(1 for n in got.values() if n > 1),
        "losses": sum(1 for n in got.values() if n == 0),
        "timeline": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dms", type=int, default=1200)
    parser.add_argument("--storm-at", type=float, default=20.0)
    parser.add_argument("--storm", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = asyncio.run(run(args.dms, args.storm_at, args.storm))
    if args.json:
        print(json.dumps(found))
        return
    print(f"{found['dms']} DMs at {found['declared_per_minute']} posts a minute; a 429 storm {found['storm']}")
    print(" t (s)  ceiling (/min)  posts")
    for row in found["timeline"]:
        print(f"{row['t']:>6}  {row['ceiling_per_minute']:>14}  {row['posts']:>5}")
    for name in (
        "seconds_to_recover",
        "calls",
        "429s",
        "429s_outside_the_storm",
        "early_calls",
        "duplicates",
        "losses",
    ):
        print(f"{name.replace('_', ' ')}: {found[name]}")


if __name__ == "__main__":
    main()
