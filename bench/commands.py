"""Commands benchmark: bursts of 50 concurrent slash commands and clicks against Herald on Slack (HTTP).

    .venv/bin/python bench/commands.py [--recipients 1000] [--concurrency 50] [--rounds 40] [--json]

Herald runs in its own process (``bench/_slack_herald.py``: ``herald run``'s wiring, a
SQLite file, a fake Slack Web API), with release 2.4 sent to ``--recipients`` people and
release 9.0 still in its walkthrough. Each round, ``--concurrency`` signed requests leave
at once and the next round starts ``--interval`` seconds after the one before. The mix
(``--mix``), in every 20: 6 ``/release status 2.4``, 1 ``/release status 9.0``, 3 ``/release help``,
8 Acknowledge clicks (each by a recipient on their own message) and 2 Approve clicks on
a communiqué of the 9.0 walkthrough.

Printed: ack latency p50/p99/p99.9 overall and per kind (each from the moment its
request left), then whether every command got its answer on its ``response_url`` and
every click its answer (a DM redrawn as the receipt through the click's ``response_url``,
or an ephemeral on a channel post; and how many answers say Herald failed on its side),
how long after the last request the answers were all in, how long Herald took to stop
on SIGTERM, and the ``chat.update`` calls the clicks caused. Target: p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.slack import translate
from bench._slack_bench import HeraldProcess, ack_click, percentile, print_table
from tests.fakes.slack import SignedRequest, block_action, slash_command

ANNOUNCER = "U0ANNOUNCE1"
RELEASE_CHANNEL = "C0RELEASES"
KINDS = ("status", "status-walkthrough", "help", "ack", "approve")
MIX = "status=6,status-walkthrough=1,help=3,ack=8,approve=2"
TARGET_P99_MS = 100.0


class Requests:
    """Builds the signed request for the n-th slot of the mix."""

    def __init__(self, herald: HeraldProcess, mix: list[str]) -> None:
        self._herald = herald
        self._mix = mix
        self._secret = herald.secret
        self._refs = list(herald.ready["releases"]["2.4"])
        self._next_ref = 0
        walkthrough = herald.ready["walkthrough"]
        self._walkthrough = walkthrough["version"]
        self._communiques = sorted(walkthrough["communiques"].items())
        self.sent: Counter[str] = Counter()

    def build(self, n: int) -> tuple[str, SignedRequest]:
        kind = self._mix[n % len(self._mix)]
        self.sent[kind] += 1
        user = self._refs[n % len(self._refs)][2]
        if kind in ("status", "status-walkthrough", "help"):
            text = {"status": "status 2.4", "status-walkthrough": f"status {self._walkthrough}", "help": "help"}[kind]
            return kind, slash_command(
                self._secret,
                text=text,
                user_id=user,
                channel_id="C0BENCHENG",
                response_url=self._herald.response_url(f"command-{n}"),
            )
        if kind == "ack":
            channel, ts, person, _group, key = self._refs[self._next_ref % len(self._refs)]
            self._next_ref += 1
            return kind, ack_click(
                self._secret,
                channel=channel,
                ts=ts,
                user=person,
                key=key,
                response_url=self._herald.response_url(f"click-{n}"),
            )
        group, (channel, ts) = self._communiques[n % len(self._communiques)]
        return kind, block_action(
            self._secret,
            user_id=ANNOUNCER,
            action_id=translate.APPROVE,
            channel_id=channel,
            message_ts=ts,
            thread_ts=self._herald.ready["threads"][self._walkthrough][1],
            value=translate.subject_value(self._walkthrough, group),
            block_id=f"herald:{group}",
            response_url=self._herald.response_url(f"click-{n}"),
        )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with HeraldProcess(
        recipients=args.recipients, channel_members=args.channel_members, profile=args.profile, keep_log=args.log
    ) as herald:
        requests = Requests(herald, _mix(args.mix))
        latencies: defaultdict[str, list[float]] = defaultdict(list)
        statuses: Counter[int] = Counter()
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:

            async def post(kind: str, request: SignedRequest) -> None:
                began = loop.time()
                try:
                    async with http.post(herald.url, data=request.body, headers=request.headers) as response:
                        await response.read()
                        statuses[response.status] += 1
                except (aiohttp.ClientError, TimeoutError):
                    statuses[0] += 1
                latencies[kind].append(loop.time() - began)

            n = 0
            for _ in range(args.rounds):
                began = loop.time()
                burst = [requests.build(n + i) for i in range(args.concurrency)]
                n += args.concurrency
                await asyncio.gather(*(post(kind, request) for kind, request in burst))
                await asyncio.sleep(max(0.0, began + args.interval - loop.time()))
            last_sent = loop.time()
            commands = sum(requests.sent[k] for k in ("status", "status-walkthrough", "help"))
            stats = await herald.stats(http)
            while loop.time() - last_sent < args.drain_timeout:
                answered = stats["responses"] - stats["click_responses"]
                if answered >= commands and stats["ephemerals"] + stats["click_responses"] >= requests.sent["ack"]:
                    break
                await asyncio.sleep(0.1)
                stats = await herald.stats(http)
            answered_after = loop.time() - last_sent
        summary = await herald.stop(args.stop_timeout)
        errors = herald.log_errors()
    every = [value for values in latencies.values() for value in values]
    return {
        "recipients": args.recipients,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "requests": len(every),
        "non_200": sum(count for status, count in statuses.items() if status != 200),
        "ack_ms": _percentiles(every),
        "by_kind_ms": {kind: _percentiles(values) for kind, values in sorted(latencies.items())},
        "commands_sent": commands,
        "commands_answered": stats["responses"] - stats["click_responses"],
        "acks_sent": requests.sent["ack"],
        "acks_answered": stats["ephemerals"] + stats["click_responses"],
        "troubled_answers": stats["troubled_responses"] + stats["troubled_ephemerals"],
        "approve_clicks": requests.sent["approve"],
        "answers_in_after_s": round(answered_after, 2),
        "stopped_in_s": None if herald.stop_problem else round(herald.stop_seconds, 2),
        "stop_problem": herald.stop_problem,
        "chat_update_calls": summary.get("calls", {}).get("chat.update", 0) if summary else None,
        "slack_errors": summary.get("errors"),
        "server_errors": errors,
    }


def _mix(text: str) -> list[str]:
    slots: list[str] = []
    for part in text.split(","):
        kind, _, count = part.partition("=")
        if kind.strip() not in KINDS or not count.strip().isdigit():
            raise SystemExit(f"--mix: {part!r} is not KIND=COUNT with KIND one of {', '.join(KINDS)}")
        slots += [kind.strip()] * int(count)

    # Spread each kind evenly over the cycle, so that every burst carries the whole mix.
    def place(i: int) -> tuple[float, int]:
        return (slots[: i + 1].count(slots[i]) / slots.count(slots[i]), i)

    return [slots[i] for i in sorted(range(len(slots)), key=place)]


def _percentiles(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50) * 1000, 2),
        "p99": round(percentile(values, 99) * 1000, 2),
        "p99.9": round(percentile(values, 99.9) * 1000, 2),
        "max": round(max(values) * 1000, 2),
    }


def report(figures: dict[str, Any], as_json: bool) -> bool:
    ack = figures["ack_ms"]
    answered = bool(
        figures["commands_answered"] >= figures["commands_sent"] and figures["acks_answered"] >= figures["acks_sent"]
    )
    troubled = int(figures["troubled_answers"])
    met = bool(ack["p99"] <= TARGET_P99_MS and figures["non_200"] == 0 and troubled == 0)
    if as_json:
        print(json.dumps({**figures, "target_p99_ms": TARGET_P99_MS, "met": met}))
        return met
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(
        f"{figures['rounds']} bursts of {figures['concurrency']} concurrent requests, "
        f"release sent to {figures['recipients']} people, SQLite"
    )
    print(f"\n  {'kind':<20} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8}")
    for kind, p in [*figures["by_kind_ms"].items(), ("all", ack)]:
        print(f"  {kind:<20} {p['n']:>5} {p['p50']:>8.1f} {p['p99']:>8.1f} {p['p99.9']:>9.1f} {p['max']:>8.1f}")
    commands = f"{figures['commands_answered']}/{figures['commands_sent']}"
    clicks = f"{figures['acks_answered']}/{figures['acks_sent']}"
    stopped = figures["stopped_in_s"]
    updates = f"{figures['chat_update_calls']} ({figures['approve_clicks']} Approve clicks)"
    print_table(
        "targets",
        [
            ("ack p50", f"{ack['p50']:.1f} ms", "", None),
            ("ack p99", f"{ack['p99']:.1f} ms", f"<= {TARGET_P99_MS:.0f} ms", ack["p99"] <= TARGET_P99_MS),
            ("ack p99.9", f"{ack['p99.9']:.1f} ms", "", None),
            ("answers other than 200", str(figures["non_200"]), "0", figures["non_200"] == 0),
            ("commands answered (response_url)", commands, "all", None),
            ("Acknowledge clicks answered (DM redrawn / ephemeral)", clicks, "all", None),
            ("answers saying Herald failed (its side)", str(figures["troubled_answers"]), "0", troubled == 0),
            ("all answers in, after the last request", f"{figures['answers_in_after_s']:.1f} s", "", answered),
            ("Herald stopped after SIGTERM", "no" if stopped is None else f"in {stopped:.1f} s", "", None),
            ("chat.update calls while serving", updates, "", None),
        ],
    )
    if figures["stop_problem"]:
        print(f"  {figures['stop_problem']}")
    for line, count in sorted(figures["server_errors"].items(), key=lambda item: -item[1])[:5]:
        print(f"  server log: {count} x {line}")
    print("\ntarget:", "met" if met else "MISSED")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=1000, help="people release 2.4 was sent to")
    parser.add_argument("--channel-members", type=int, default=100, help="recipients also in the release's channel")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in each burst")
    parser.add_argument("--rounds", type=int, default=40, help="bursts")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds from one burst to the next")
    parser.add_argument("--mix", default=MIX, help=f"requests of each kind in every cycle (default {MIX})")
    parser.add_argument("--drain-timeout", type=float, default=60.0, help="seconds to wait for every answer")
    parser.add_argument("--stop-timeout", type=float, default=60.0, help="seconds Herald may take to stop")
    parser.add_argument("--profile", type=Path, help="py-spy the server into this file (.svg, or .txt for raw)")
    parser.add_argument("--log", type=Path, help="keep the server's stderr in this file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    sys.exit(0 if report(figures, args.json) else 1)


if __name__ == "__main__":
    main()
