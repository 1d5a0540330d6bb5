"""Engine fan-out benchmark: a 100-channel + 1,000-DM campaign through the delivery engine alone.

    .venv/bin/python bench/engine_fanout.py [--channels 100] [--dms 1000] [--rate 50] [--burst 20] [--latency 0.02]

The fake platform enforces what Slack does: one message per second per target, a
workspace ceiling (``--rate`` messages a second, with a ``--burst``), and a 429 with
Retry-After for any call over either. It records every call. Herald runs for real:
the plan loader, the desk, the SQLite ledger (a temporary file) and the engine with
its rate limiter configured with the platform's published budgets.

Printed: T_ideal (what the ceiling allows: the burst at once, the rest at the rate),
T_actual (first call to last), efficiency eta = T_ideal / T_actual, 429s received,
calls made inside a Retry-After window the platform had already announced,
duplicates and losses. Targets: eta >= 0.95, no early call, no duplicate, no loss.
The default rate is Slack's 600/min scaled up fivefold to keep the run short; pass
``--rate 10`` for Slack's real pace (the campaign then takes about two minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import platform
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app.bootstrap import open_storage, wire
from bot.app.settings import load_settings
from bot.domain.commands import parse_release_command
from bot.domain.destinations import Platform
from bot.domain.errors import RateLimited
from bot.service.limits import Limits, Rate
from bot.service.planfile import parse_plan
from bot.service.ports import OutgoingMessage, PlatformLink
from tests.fakes import FakeDirectory


@dataclass
class FakePlatform:
    """Slack-like limits, enforced on arrival; every call recorded."""

    rate: float
    burst: float
    latency: float
    per_target: float = 1.0
    tokens: float = 0.0
    updated: float = field(default_factory=time.monotonic)
    last_to: dict[str, float] = field(default_factory=dict)
    calls: list[tuple[float, str]] = field(default_factory=list)
    delivered: Counter[str] = field(default_factory=Counter)
    windows: list[tuple[str, float, float]] = field(default_factory=list)  # (target or "*", start, end)
    throttled: int = 0

    def __post_init__(self) -> None:
        self.tokens = self.burst

    async def send(self, message: OutgoingMessage) -> str:
        now = time.monotonic()
        self.calls.append((now, message.target))
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        too_soon = now - self.last_to.get(message.target, -math.inf) < 1.0 / self.per_target
        await asyncio.sleep(self.latency)
        if too_soon or self.tokens < 1.0:
            self.throttled += 1
            wait = (1.0 - self.tokens) / self.rate if not too_soon else 1.0 / self.per_target
            retry_after = max(1, math.ceil(wait))  # Slack answers in whole seconds
            answered = time.monotonic()
            self.windows.append((message.target if too_soon else "*", answered, answered + retry_after))
            raise RateLimited("ratelimited", retry_after=retry_after, scope="target" if too_soon else "ceiling")
        self.tokens -= 1.0
        self.last_to[message.target] = now
        self.delivered[message.delivery_key] += 1
        return f"ts-{len(self.calls)}"


def _plan(channels: int, dms: int) -> str:
    channel_list = ", ".join(f'"slack:C{i:08d}"' for i in range(channels))
    dm_list = ", ".join(f'"slack:@U{i:08d}"' for i in range(dms))
    return (
        'product = "Acme"\n[access]\nannouncers = ["shell:deployer"]\n'
        f'[[group]]\nid = "everyone"\nack = "none"\nto = [{channel_list}, {dm_list}]\n'
        'message = "Acme {{ version }} is live."\n'
    )


async def run(channels: int, dms: int, rate: float, burst: float, latency: float) -> dict[str, float]:
    fake = FakePlatform(rate=rate, burst=burst, latency=latency)
    limits = Limits(name="slack:T0BENCH", per_target=Rate(1.0), ceiling=Rate(rate, burst=burst))
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({"DATABASE_URL": f"sqlite:///{folder}/bench.db"}, env_file=None)
        storage = await open_storage(settings, migrate=True)
        plan = parse_plan(_plan(channels, dms))
        herald = wire(
            plan=plan, storage=storage, links={Platform.SLACK: PlatformLink(FakeDirectory(), fake, limits=limits)}
        )
        for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
            reply = await herald.desk.handle(parse_release_command(line, "shell:deployer"))
            assert not reply.failed, reply
        stop = asyncio.Event()
        engine = asyncio.create_task(herald.engine.run(stop, poll=0.05))
        total = channels + dms
        while True:
            await asyncio.sleep(0.1)
            status = await herald.desk.status("2.4")
            if sum(g.pending for g in status.groups) == 0:
                break
        stop.set()
        herald.engine.wake()
        await engine
        await storage.close()
    first, last = fake.calls[0][0], fake.calls[-1][0]
    actual = last - first
    ideal = max(0.0, total - burst) / rate
    early = sum(
        1
        for at, target in fake.calls
        for scope, start, end in fake.windows
        if start < at < end and scope in ("*", target)
    )
    return {
        "targets": total,
        "t_ideal_s": ideal,
        "t_actual_s": actual,
        "efficiency": ideal / actual if actual else 1.0,
        "calls": len(fake.calls),
        "throttled_429": fake.throttled,
        "early_calls": early,
        "duplicates": sum(n - 1 for n in fake.delivered.values() if n > 1),
        "losses": total - len(fake.delivered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--dms", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="workspace ceiling, messages per second")
    parser.add_argument("--burst", type=float, default=20.0)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the platform takes per call")
    args = parser.parse_args()
    figures = asyncio.run(run(args.channels, args.dms, args.rate, args.burst, args.latency))
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"ceiling {args.rate:g}/s burst {args.burst:g}, latency {args.latency * 1000:.0f} ms")
    for name, value in figures.items():
        print(f"{name:>12}: {value:.3f}" if isinstance(value, float) else f"{name:>12}: {value}")
    target_met = (
        figures["efficiency"] >= 0.95
        and figures["early_calls"] == 0
        and figures["duplicates"] == 0
        and figures["losses"] == 0
    )
    print("target (eta >= 0.95, 0 early, 0 duplicates, 0 losses):", "met" if target_met else "MISSED")


if __name__ == "__main__":
    main()
