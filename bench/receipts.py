"""Receipts benchmark: reactions and Acknowledge clicks against Herald serving Slack over HTTP.

    .venv/bin/python bench/receipts.py [--recipients 1000] [--rates 250,500,1000,2000] [--json]

Herald runs in its own process (``bench/_slack_herald.py``: ``herald run``'s wiring, a
SQLite file, a fake Slack Web API), with one release already sent to every recipient
per stage: ``--recipients`` DMs and one post in a channel of ``--channel-members``. For
each offered rate, this process POSTs to ``/slack/events``, open loop (request i leaves
at i/rate whatever the answers), one signed request per recipient and message: half
``reaction_added`` (:white_check_mark: on their own message), half Acknowledge
``block_actions`` (``--buttons`` sets the share of clicks), plus duplicates that must
count once: Slack's retries of an event (same ``event_id`` and body,
``X-Slack-Retry-Num: 1``), double clicks, and the same person both reacting and clicking.

After each stage the benchmark waits until the stage's receipts are in the ledger (or
none has come for ``--stall`` seconds) and the server's work has drained, so stages do
not overlap. Printed per stage: ack latency p50/p99 (from the moment each request was
due, so a client falling behind counts against the server), receipts persisted per
second (rows in the ledger's receipts table, read from the SQLite file, over the time
from the first request to the last row written) and the busiest second. Then exactly
once (every intended receipt stored, none twice, one audit entry each, every answer a
200), how long Herald took to stop on SIGTERM, the live counts (every ``chat.update``
the fake Slack received while serving, per message and in total) and the acknowledged
counts in the final parent messages and channel copies against the ledger, and the
errors the server logged.

Targets: >= 1,000 receipts/s persisted on SQLite with p99 ack <= 50 ms; exactly once;
<= 1 update per message per 5 s; <= 40 chat.update a minute in total; final counts = ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import platform
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._slack_bench import HeraldProcess, ack_click, percentile, print_table
from tests.fakes.slack import SignedRequest, event_callback, reaction_added

EMOJI = "white_check_mark"
GROUP_NAMES = {"engineering": "Engineering", "everyone": "Everyone"}
TARGET_P99_MS = 50.0
_DUPLICATE_LAG = 25  # a duplicate leaves this many requests after its original


@dataclass(frozen=True, slots=True)
class Probe:
    """One signed request and what it is."""

    kind: str  # reaction, reaction-retry, button, button-again
    request: SignedRequest


@dataclass
class Stage:
    """One offered rate, on its own release."""

    rate: float
    version: str
    probes: list[Probe]
    expected: set[tuple[str, str]]  # (group, person)
    latencies: list[float] = field(default_factory=list)
    by_kind: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    first_sent: float = 0.0  # wall clock
    last_sent: float = 0.0
    achieved: float = 0.0
    persisted: int = 0
    persist_rate: float = 0.0
    peak_rate: float = 0.0
    drain_lag: float = math.nan
    duplicate_rows: int = 0
    missing: int = 0
    unexpected: int = 0
    audit: int = 0
    refused: int = 0


def build_probes(
    secret: str,
    refs: list[list[str]],
    response_url: str,
    duplicates: float,
    rng: random.Random,
    buttons: float = 0.5,
) -> list[Probe]:
    """Every recipient's receipt, a share ``buttons`` by click and the rest by reaction, with duplicates mixed in."""
    originals: list[tuple[Probe, list[Probe]]] = []
    for index, (channel, ts, user, _group, key) in enumerate(refs):
        by_reaction = rng.random() >= buttons
        extra: list[Probe] = []
        click = partial(ack_click, secret, channel=channel, ts=ts, user=user, key=key, response_url=response_url)
        if by_reaction:
            event = reaction_added(user=user, reaction=EMOJI, channel=channel, ts=ts)
            event_id, stamp = f"Ev0BENCH{index:07d}{ts.replace('.', '')}", int(time.time())
            first = event_callback(secret, event=event, event_id=event_id, event_time=stamp, timestamp=stamp)
            probe = Probe("reaction", first)
            if rng.random() < duplicates:
                retry = event_callback(
                    secret, event=event, event_id=event_id, event_time=stamp, timestamp=stamp, retry_num=1
                )
                assert retry.body == first.body
                extra.append(Probe("reaction-retry", retry))
        else:
            probe = Probe("button", click())
            if rng.random() < duplicates:
                extra.append(Probe("button-again", click()))
        if rng.random() < duplicates:  # the same person both reacts and clicks
            if by_reaction:
                extra.append(Probe("button-again", click()))
            else:
                event = reaction_added(user=user, reaction=EMOJI, channel=channel, ts=ts)
                extra.append(Probe("reaction", event_callback(secret, event=event)))
        originals.append((probe, extra))
    rng.shuffle(originals)
    probes: list[Probe] = []
    later: list[tuple[int, Probe]] = []
    for probe, extra in originals:
        probes.append(probe)
        later += [(len(probes) + _DUPLICATE_LAG, e) for e in extra]
        while later and later[0][0] <= len(probes):
            probes.append(later.pop(0)[1])
    probes += [probe for _, probe in later]
    return probes


async def offer(http: aiohttp.ClientSession, url: str, stage: Stage) -> None:
    """Send the stage's requests open loop at its rate; record each ack's latency from when it was due."""
    loop = asyncio.get_running_loop()

    async def post(probe: Probe, due: float) -> None:
        try:
            async with http.post(url, data=probe.request.body, headers=probe.request.headers) as response:
                await response.read()
                stage.statuses[response.status] += 1
        except (aiohttp.ClientError, TimeoutError):
            stage.statuses[0] += 1
        latency = loop.time() - due
        stage.latencies.append(latency)
        stage.by_kind[probe.kind.split("-")[0]].append(latency)

    start = loop.time() + 0.05
    stage.first_sent = time.time() + 0.05
    tasks: list[asyncio.Task[None]] = []
    for i, probe in enumerate(stage.probes):
        due = start + i / stage.rate
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(post(probe, due)))
    stage.last_sent = time.time()
    stage.achieved = len(stage.probes) / max(1e-9, loop.time() - start)
    await asyncio.gather(*tasks)


def _moment(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


async def drain(herald: HeraldProcess, stage: Stage, stall: float, deadline: float) -> None:
    """Wait until every receipt of the stage is in the ledger, or nothing more comes for ``stall`` s."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    last_count, last_change = -1, loop.time()
    while loop.time() < give_up:
        ((count,),) = await asyncio.to_thread(
            herald.query, "SELECT COUNT(*) FROM receipts WHERE version = ?", stage.version
        )
        if count != last_count:
            last_count, last_change = count, loop.time()
        if count >= len(stage.expected) or loop.time() - last_change > stall:
            break
        await asyncio.sleep(0.05)
    rows = await asyncio.to_thread(
        herald.query, "SELECT group_id, person, at FROM receipts WHERE version = ?", stage.version
    )
    got = {(group, person.split(":", 1)[1]) for group, person, _ in rows}
    moments = sorted(_moment(at) for _, _, at in rows)
    stage.persisted = len(rows)
    stage.duplicate_rows = len(rows) - len(got)
    stage.missing = len(stage.expected - got)
    stage.unexpected = len(got - stage.expected)
    if moments:
        stage.persist_rate = len(moments) / max(1e-9, moments[-1] - stage.first_sent)
        stage.drain_lag = moments[-1] - stage.last_sent
        j = 0
        for i, moment in enumerate(moments):
            while moments[j] < moment - 1.0:
                j += 1
            stage.peak_rate = max(stage.peak_rate, i - j + 1)
    audit = await asyncio.to_thread(
        herald.query,
        "SELECT outcome, COUNT(*) FROM audit_log WHERE version = ? AND action = 'acknowledge' GROUP BY outcome",
        stage.version,
    )
    outcomes = dict(audit)
    stage.audit, stage.refused = outcomes.get("done", 0), outcomes.get("refused", 0)


async def quiet(herald: HeraldProcess, http: aiohttp.ClientSession, baseline: int, within: float) -> None:
    """Let the server finish what the stage started (its task count back near idle), so stages do not overlap."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while loop.time() < give_up:
        if (await herald.stats(http))["tasks"] <= baseline + 5:
            return
        await asyncio.sleep(0.2)


def live_counts(herald: HeraldProcess, stages: list[Stage]) -> dict[str, Any]:
    """chat.update per message and in total while serving; final counts shown against the ledger."""
    summary = herald.summary
    if not summary:  # Herald did not stop: nothing to read
        return {"stopped": False, "problem": herald.stop_problem, "final_counts_match_ledger": False}
    per_message: defaultdict[str, list[float]] = defaultdict(list)
    moments: list[float] = []
    for channel, ts, at, _error in summary["updates"]:
        per_message[f"{channel}:{ts}"].append(at)
        moments.append(at)
    gaps = [b - a for times in per_message.values() for a, b in itertools.pairwise(sorted(times))]
    span = max(1e-9, summary["stopped"] - summary["started"])
    mismatches: list[str] = []
    for stage in stages:
        stored = herald.query(
            "SELECT group_id, COUNT(*) FROM receipts WHERE version = ? GROUP BY group_id", stage.version
        )
        ledger = Counter(dict(stored))
        channel, ts = herald.ready["threads"][stage.version]
        parent = "\n".join(summary["messages"].get(f"{channel}:{ts}", []))
        for group, name in GROUP_NAMES.items():
            found = re.search(rf"\*{name}\*: [^\n]*?· (\d+)/(\d+) acknowledged", parent)
            if found is None or int(found.group(1)) != ledger[group]:
                shown = found.group(0) if found else "no status table"
                mismatches.append(f"{stage.version} parent, {name}: shows {shown!r}; ledger {ledger[group]}")
        copy = herald.ready["copies"].get(stage.version)
        if copy:
            text = "\n".join(summary["messages"].get(f"{copy[0]}:{copy[1]}", []))
            found = re.search(r"· (\d+) of (\d+) acknowledged", text)
            if found is None or int(found.group(1)) != ledger["engineering"]:
                shown = found.group(0) if found else "no count"
                mismatches.append(f"{stage.version} channel copy: shows {shown!r}; ledger {ledger['engineering']}")
    return {
        "stopped": True,
        "stop_s": round(herald.stop_seconds, 2),
        "updates": len(moments),
        "messages_updated": len(per_message),
        "serving_s": round(span, 1),
        "min_gap_same_message_s": round(min(gaps), 2) if gaps else None,
        "max_per_message_per_min": max((_max_in_window(sorted(t), 60.0) for t in per_message.values()), default=0),
        "max_total_per_min": _max_in_window(sorted(moments), 60.0),
        "final_counts_match_ledger": not mismatches,
        "mismatches": mismatches,
        "update_errors": sum(1 for *_, error in summary["updates"] if error),
    }


def _max_in_window(times: list[float], window: float) -> int:
    best, j = 0, 0
    for i, moment in enumerate(times):
        while times[j] <= moment - window:
            j += 1
        best = max(best, i - j + 1)
    return best


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rates = [float(r) for r in args.rates.split(",")]
    rng = random.Random(args.seed)
    async with HeraldProcess(
        recipients=args.recipients,
        releases=len(rates),
        channel_members=args.channel_members,
        profile=args.profile,
        keep_log=args.log,
    ) as herald:
        stages: list[Stage] = []
        for rate, (version, refs) in zip(rates, herald.ready["releases"].items(), strict=True):
            probes = build_probes(herald.secret, refs, herald.response_url("ack"), args.duplicates, rng, args.buttons)
            stages.append(Stage(rate, version, probes, {(group, user) for _c, _t, user, group, _k in refs}))
        connector = aiohttp.TCPConnector(limit=args.connections)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
            baseline = (await herald.stats(http))["tasks"]
            for stage in stages:
                print(f"{stage.rate:g}/s: {len(stage.probes)} requests on release {stage.version}", file=sys.stderr)
                await offer(http, herald.url, stage)
                await drain(herald, stage, args.stall, args.drain_timeout)
                await quiet(herald, http, baseline, args.quiet_timeout)
                print(
                    f"  p99 ack {percentile(stage.latencies, 99) * 1000:.1f} ms, "
                    f"{stage.persisted}/{len(stage.expected)} persisted, {stage.persist_rate:.0f}/s",
                    file=sys.stderr,
                )
            await asyncio.sleep(args.settle)  # the last coalesced redraw is due within 5 s
        await herald.stop(args.stop_timeout)
        if args.dump is not None:
            args.dump.write_text(json.dumps({"ready": herald.ready, "summary": herald.summary}))
        live = live_counts(herald, stages)
        errors = herald.log_errors()
    return {"stages": stages, "live": live, "recipients": args.recipients, "server_errors": errors}


def report(figures: dict[str, Any], as_json: bool) -> bool:
    stages: list[Stage] = figures["stages"]
    live = figures["live"]
    rows = []
    best = 0.0
    for s in stages:
        p50, p99 = percentile(s.latencies, 50) * 1000, percentile(s.latencies, 99) * 1000
        if p99 <= TARGET_P99_MS:
            best = max(best, s.persist_rate)
        rows.append(
            {
                "offered_per_s": s.rate,
                "achieved_per_s": round(s.achieved, 1),
                "requests": len(s.probes),
                "duplicates_sent": len(s.probes) - len(s.expected),
                "non_200": sum(n for status, n in s.statuses.items() if status != 200),
                "ack_p50_ms": round(p50, 2),
                "ack_p99_ms": round(p99, 2),
                "ack_max_ms": round(max(s.latencies) * 1000, 2),
                "reaction_p99_ms": round(percentile(s.by_kind["reaction"], 99) * 1000, 2),
                "button_p99_ms": round(percentile(s.by_kind["button"], 99) * 1000, 2),
                "expected": len(s.expected),
                "persisted": s.persisted,
                "persisted_per_s": round(s.persist_rate, 1),
                "peak_1s": s.peak_rate,
                "drain_lag_s": round(s.drain_lag, 2),
                "missing": s.missing,
                "duplicate_rows": s.duplicate_rows,
                "unexpected": s.unexpected,
                "audit_entries": s.audit,
                "audit_refusals": s.refused,
            }
        )
    exact = all(
        r["missing"] == r["duplicate_rows"] == r["unexpected"] == r["non_200"] == 0
        and r["audit_entries"] == r["persisted"]
        for r in rows
    )
    stopped = live["stopped"]
    gap = live.get("min_gap_same_message_s")
    per_message = live.get("max_per_message_per_min", 0)
    total = live.get("max_total_per_min", 0)
    shown = live["final_counts_match_ledger"]
    checks: list[tuple[str, str, str, bool | None]] = [
        (f"receipts/s persisted with p99 ack <= {TARGET_P99_MS:g} ms", f"{best:.0f}", ">= 1,000", best >= 1000),
        ("exactly once (none missing, none twice, 1 audit each)", "yes" if exact else "no", "yes", exact),
        ("Herald stopped after SIGTERM", f"in {live['stop_s']:.1f} s" if stopped else "no", "", stopped),
        (
            "min gap between updates of one message",
            "-" if gap is None else f"{gap:.2f} s",
            ">= 5 s",
            stopped and (gap is None or gap >= 5.0 - 0.01),
        ),
        ("max chat.update of one message in any 60 s", str(per_message), "<= 12", stopped and per_message <= 12),
        ("max chat.update in any 60 s, total", str(total), "<= 40", stopped and total <= 40),
        ("final counts shown = ledger", "yes" if shown else "no", "yes", shown),
    ]
    met = all(ok for *_, ok in checks if ok is not None)
    if as_json:
        print(
            json.dumps(
                {
                    "recipients": figures["recipients"],
                    "stages": rows,
                    "live": live,
                    "checks": [{"figure": f, "value": v, "target": t, "met": ok} for f, v, t, ok in checks],
                    "server_errors": figures["server_errors"],
                    "met": met,
                }
            )
        )
        return met
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(
        f"per stage, a release sent to {figures['recipients']} DMs + 1 channel post; "
        "SQLite; latency from when each request was due"
    )
    print(
        "\n  offered  sent/s  reqs  dups  !200  p50 ms  p99 ms  max ms  react p99  click p99   stored  stored/s  peak/s"
    )
    for r in rows:
        print(
            f"  {r['offered_per_s']:>7g} {r['achieved_per_s']:>7.0f} {r['requests']:>5} {r['duplicates_sent']:>5} "
            f"{r['non_200']:>5} {r['ack_p50_ms']:>7.1f} {r['ack_p99_ms']:>7.1f} {r['ack_max_ms']:>7.1f} "
            f"{r['reaction_p99_ms']:>10.1f} {r['button_p99_ms']:>10.1f} {r['persisted']:>4}/{r['expected']:<4}"
            f"{r['persisted_per_s']:>9.0f} {r['peak_1s']:>7}"
        )
    print_table("targets", checks)
    if stopped:
        print(f"  chat.update while serving: {live['updates']} on {live['messages_updated']} messages")
    else:
        print(f"  {live['problem']}")
    for line in live.get("mismatches", []):
        print(f"  mismatch: {line}")
    for line, count in sorted(figures["server_errors"].items(), key=lambda item: -item[1])[:5]:
        print(f"  server log: {count} x {line}")
    print("\ntarget:", "met" if met else "MISSED")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=1000, help="DM recipients per release")
    parser.add_argument("--channel-members", type=int, default=100, help="recipients also in the release's channel")
    parser.add_argument("--rates", default="250,500,1000,2000", help="offered requests per second, one stage each")
    parser.add_argument("--buttons", type=float, default=0.5, help="share of receipts by Acknowledge click")
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of receipts sent again (each kind)")
    parser.add_argument("--connections", type=int, default=256, help="client connections at most")
    parser.add_argument("--stall", type=float, default=10.0, help="seconds without a new receipt before giving up")
    parser.add_argument("--drain-timeout", type=float, default=45.0, help="seconds a stage may take to persist")
    parser.add_argument("--quiet-timeout", type=float, default=15.0, help="seconds to let a stage's work finish")
    parser.add_argument("--settle", type=float, default=6.0, help="seconds from the last receipt to SIGTERM")
    parser.add_argument("--stop-timeout", type=float, default=60.0, help="seconds Herald may take to stop")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, help="py-spy the server into this file (.svg, or .txt for raw)")
    parser.add_argument("--log", type=Path, help="keep the server's stderr in this file")
    parser.add_argument("--dump", type=Path, help="write the server's ready line and final summary (JSON) here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    sys.exit(0 if report(figures, args.json) else 1)


if __name__ == "__main__":
    main()
