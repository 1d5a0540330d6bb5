"""A real Herald serving Slack over HTTP, against a fake Slack Web API in the same process.

    .venv/bin/python bench/_slack_herald.py --db PATH [--recipients 1000] [--releases 1] [--channel-members 100]

Not a benchmark by itself: ``bench/receipts.py`` and ``bench/commands.py`` start it as a
separate process and load it over HTTP from their own. The signing secret is read from
``SLACK_SIGNING_SECRET``, as ``herald run`` reads it.

1. Seeds ``tests.fakes.slack.FakeSlack``: ``--recipients`` users in the user group
   ``S0BENCH``, the channel ``#bench-eng`` (the first ``--channel-members`` of them), and
   ``#releases`` where the walkthrough threads live.
2. Announces, confirms, approves and sends ``--releases`` releases (2.4, 2.5, ...) with
   the desk, the walkthrough thread posted as ``/release announce`` posts it, and runs the
   engine until every message is delivered: one DM per recipient (group ``everyone``) and
   one post in ``#bench-eng`` (group ``engineering``). Release 9.0 is announced and left
   validating, so its walkthrough has Approve buttons to click. Seeding lifts Slack's
   budgets (the fake does not enforce them); what is measured afterwards does not.
3. Serves exactly as ``herald run`` does (``bot/app/cli.py`` ``_run_slack``): SQLite through
   ``open_storage``, ``slack_gateway`` with Slack's real budgets, ``SlackFrontDoor``,
   ``HttpServer`` and ``SlackRuntime`` (engine, reminder sweep, SIGTERM handling).

Stdout carries two JSON lines. When listening: ``port`` (``POST /slack/events``),
``stats_port`` (``GET /stats``: the fake's call counts so far), ``slack`` (the fake's base
URL, for ``response_url``), ``releases`` ({version: [[channel, ts, user, group, key], ...]},
one entry per recipient of each delivered message), ``threads`` and ``copies`` (the parent
message and the channel copy of each release) and ``walkthrough``. After SIGTERM, once
Herald has stopped: every ``chat.update`` made while serving, the final text of the
parent messages and channel copies, and the fake's call counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.slack import translate
from adapters.slack.app import SlackFrontDoor
from adapters.slack.runtime import SlackService, slack_gateway, slack_link
from adapters.slack.server import HttpServer
from bot.app import serve as serving
from bot.app.bootstrap import open_storage, wire
from bot.app.platforms import chat_herald
from bot.app.settings import Settings, configure_logging, load_settings
from bot.domain.commands import parse_release_command
from bot.domain.delivery import DeliveryStatus
from bot.domain.destinations import Platform
from bot.service.limits import Limits, RateLimiter
from bot.service.planfile import load_plan
from tests.fakes.slack import BOT_TOKEN, BOT_USER_ID, FakeSlack

ANNOUNCER = "U0ANNOUNCE1"
RELEASE_CHANNEL = "C0RELEASES"
ENG_CHANNEL = "C0BENCHENG"
WALKTHROUGH = "9.0"
TROUBLE = "problem on its side"  # in the sentence a person gets when Herald's own side failed

PLAN = """\
product = "Bench Cloud"

[access]
announcers = ["slack:U0ANNOUNCE1"]
approvers = []                      # no four-eyes step: the announcer's approval sends

[defaults]
ack = "required"
ack_within = "24h"                  # no reminder or escalation falls due during a benchmark
remind_every = "12h"

[[group]]
id = "engineering"
name = "Engineering"
to = ["slack:#bench-eng"]
message = ":rocket: *Bench Cloud {{ version }}* is live. Notes: https://example.com/releases/{{ version }}"

[[group]]
id = "everyone"
name = "Everyone"
to = ["slack:usergroup:S0BENCH"]
message = "Bench Cloud {{ version }} is live. Please acknowledge."
"""


def user_id(index: int) -> str:
    """The Slack id of the ``index``-th recipient."""
    return f"UB{index:07d}"


def versions(count: int) -> list[str]:
    """The versions of the releases sent before serving."""
    return [f"2.{4 + i}" for i in range(count)]


def seed_workspace(slack: FakeSlack, recipients: int, channel_members: int) -> None:
    """The users, the user group and the channels of the benchmark workspace."""
    slack.add_user(ANNOUNCER, "dana")
    people = [user_id(i) for i in range(recipients)]
    for i, person in enumerate(people):
        slack.add_user(person, f"user{i}")
    slack.add_usergroup("S0BENCH", people)
    slack.add_channel(RELEASE_CHANNEL, "releases", members=[ANNOUNCER, BOT_USER_ID])
    slack.add_channel(ENG_CHANNEL, "bench-eng", members=[*people[:channel_members], BOT_USER_ID])


async def seed_releases(settings: Settings, released: list[str]) -> dict[str, Any]:
    """Send every release in ``released`` to everyone and leave 9.0 validating; say where it all is."""
    assert settings.slack is not None
    plan = load_plan(settings.plan_path)
    storage = await open_storage(settings, migrate=True)
    try:
        limiter = RateLimiter(budgets=storage.budgets)
        gateway = slack_gateway(settings.slack, limiter)
        gateway.limits = Limits(name="slack:bench-seed")  # seeding only; serving uses Slack's budgets
        herald = wire(plan=plan, storage=storage, links={Platform.SLACK: slack_link(gateway)}, limiter=limiter)
        front = SlackFrontDoor(desk=herald.desk, gateway=gateway, signing_secret=None)
        actor = f"slack:{ANNOUNCER}"
        for version in [*released, WALKTHROUGH]:
            _must(await front.flow.command(actor, f"announce {version}", RELEASE_CHANNEL))
            if version == WALKTHROUGH:
                continue
            for line in (f"confirm {version}", f"approve {version} all", f"send {version}"):
                _must(await herald.desk.handle(parse_release_command(line, actor)))
        await herald.engine.run_until_idle()
        found: dict[str, Any] = {"releases": {}, "threads": {}, "copies": {}, "walkthrough": {}}
        async with storage.uow() as uow:
            for version in released:
                refs: list[list[str]] = []
                for delivery in await uow.deliveries.for_release(version):
                    place = translate.parse_message_ref(delivery.message_ref or "")
                    if delivery.status is not DeliveryStatus.SENT or place is None:
                        raise SystemExit(f"seeding failed: {delivery.target} is {delivery.status.value}")
                    if delivery.group_id == "engineering":
                        found["copies"][version] = list(place)
                    for person in delivery.audience:
                        refs.append([*place, person.split(":", 1)[1], delivery.group_id, delivery.key])
                found["releases"][version] = refs
            for version in [*released, WALKTHROUGH]:
                release = await uow.releases.get(version)
                assert release is not None
                assert release.thread is not None
                found["threads"][version] = list(translate.parse_message_ref(release.thread) or ())
                if version == WALKTHROUGH:
                    found["walkthrough"] = {
                        "version": version,
                        "communiques": {
                            gid: list(translate.parse_message_ref(c.message_ref or "") or ())
                            for gid, c in release.communiques.items()
                        },
                    }
        return found
    finally:
        await storage.close()


def _must(reply: Any) -> None:
    if reply.failed:
        raise SystemExit(f"seeding failed: {reply.views}")


class _AnnouncedServer(HttpServer):
    """``HttpServer`` that says where it listens once it does."""

    def __init__(self, *args: Any, ready: Callable[[int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ready = ready

    async def start(self) -> None:
        await super().start()
        self._ready(self.port)


async def _stats_server(slack: FakeSlack) -> web.AppRunner:
    """``GET /stats`` on 127.0.0.1: the fake's call counts, so a benchmark can see the work drain."""
    counted = {"calls": 0, "responses": 0, "ephemerals": 0, "click_responses": 0}
    calls: Counter[str] = Counter()
    troubled = Counter[str]()

    async def stats(_request: web.Request) -> web.Response:
        # Counted as they come, so that polling costs the server little.
        calls.update(call.method for call in slack.calls[counted["calls"] :])
        troubled["responses"] += sum(TROUBLE in json.dumps(p.body) for p in slack.responses[counted["responses"] :])
        troubled["ephemerals"] += sum(TROUBLE in str(e.get("text")) for e in slack.ephemerals[counted["ephemerals"] :])
        counted["click_responses"] += sum(p.name.startswith("click-") for p in slack.responses[counted["responses"] :])
        counted.update(calls=len(slack.calls), responses=len(slack.responses), ephemerals=len(slack.ephemerals))
        return web.json_response(
            {
                "calls": calls,
                "responses": counted["responses"],
                "ephemerals": counted["ephemerals"],
                "click_responses": counted["click_responses"],
                "troubled_responses": troubled["responses"],
                "troubled_ephemerals": troubled["ephemerals"],
                "tasks": len(asyncio.all_tasks()),
            }
        )

    application = web.Application()
    application.router.add_get("/stats", stats)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _dump_tasks() -> None:
    """On SIGUSR1: what every pending task is waiting in, to stderr (for a stop that takes too long)."""
    tasks = asyncio.all_tasks()
    where: Counter[str] = Counter()
    for task in tasks:
        coroutine: Any = task.get_coro()
        name = getattr(coroutine, "__qualname__", repr(coroutine))
        chain = []
        while coroutine is not None and getattr(coroutine, "cr_frame", None) is not None:
            chain.append(f"{coroutine.cr_frame.f_code.co_qualname}:{coroutine.cr_frame.f_lineno}")
            coroutine = coroutine.cr_await
        where[f"{name} @ {' > '.join(chain[1:3])} ... {' > '.join(chain[-3:])}"] += 1
    print(f"_slack_herald: {len(tasks)} tasks pending", file=sys.stderr)
    for place, count in where.most_common(15):
        print(f"  {count:5d}  {place}", file=sys.stderr)
    sys.stderr.flush()


def _texts(message: dict[str, Any]) -> list[str]:
    """The mrkdwn of a stored message's sections and context elements, in order."""
    found: list[str] = []
    for block in message.get("blocks") or ():
        if isinstance(block.get("text"), dict):
            found.append(str(block["text"].get("text", "")))
        for element in block.get("elements") or ():
            if isinstance(element, dict) and element.get("type") == "mrkdwn":
                found.append(str(element.get("text", "")))
    return found


async def serve(db: Path, recipients: int, releases: int, channel_members: int) -> None:
    plan_path = db.parent / f"{db.stem}-plan.toml"
    plan_path.write_text(PLAN, encoding="utf-8")
    async with FakeSlack() as slack:
        seed_workspace(slack, recipients, channel_members)
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": os.environ.get("SLACK_SIGNING_SECRET", "bench-signing-secret"),
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": f"sqlite:///{db}",
                "HERALD_PLAN": str(plan_path),
                "HERALD_HTTP_HOST": "127.0.0.1",
                "HERALD_LOG_LEVEL": os.environ.get("HERALD_LOG_LEVEL", "WARNING"),
            },
            env_file=None,
        )
        configure_logging(settings)
        found = await seed_releases(settings, versions(releases))
        stats = await _stats_server(slack)
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _dump_tasks)
        mark = len(slack.calls)
        started = slack.clock()

        # What follows is what `herald run` does (bot/app/cli.py, chat_herald), on port 0 with a ready line.
        slack_settings = settings.slack
        assert slack_settings is not None
        assert slack_settings.signing_secret is not None
        plan = load_plan(settings.plan_path)
        storage = await open_storage(settings, migrate=settings.is_sqlite)
        try:
            served = chat_herald(plan=plan, storage=storage, settings=settings)
            herald, front = served.herald, served.front(SlackFrontDoor)

            def ready(port: int) -> None:
                line = {
                    "port": port,
                    "pid": os.getpid(),
                    "stats_port": stats.addresses[0][1],
                    "slack": slack.base_url,
                    "recipients": recipients,
                    **found,
                }
                print(json.dumps(line), flush=True)

            server = _AnnouncedServer(front.app, "127.0.0.1", 0, signing_secret=front.signing_secret, ready=ready)
            await serving.serve(
                engine_run=herald.engine.run,
                plan=plan,
                sweep=herald.reminders.sweep,
                services=[SlackService(front, server)],
            )
        finally:
            await storage.close()
            await stats.cleanup()

        served = slack.calls[mark:]
        shown: dict[str, list[str]] = {}
        for version in found["releases"]:
            for place in (found["threads"][version], found["copies"].get(version)):
                if place:
                    shown[f"{place[0]}:{place[1]}"] = _texts(slack.message(place[0], place[1]))
        summary = {
            "started": started,
            "stopped": slack.clock(),
            "updates": [
                [call.params.get("channel"), call.params.get("ts"), call.at, call.error]
                for call in served
                if call.method == "chat.update"
            ],
            "calls": Counter(call.method for call in served),
            "errors": Counter(f"{call.method}:{call.error}" for call in served if call.error),
            "responses": [post.name for post in slack.responses],
            "ephemerals": len(slack.ephemerals),
            "troubled_responses": sum(TROUBLE in json.dumps(post.body) for post in slack.responses),
            "troubled_ephemerals": sum(TROUBLE in str(post.get("text")) for post in slack.ephemerals),
            "messages": shown,
        }
        print(json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the SQLite file (created; its folder must exist)")
    parser.add_argument("--recipients", type=int, default=1000, help="people DMed, one message each")
    parser.add_argument("--releases", type=int, default=1, help="releases sent before serving (2.4, 2.5, ...)")
    parser.add_argument("--channel-members", type=int, default=100, help="recipients also in #bench-eng")
    args = parser.parse_args()
    if args.db.exists():
        parser.error(f"{args.db} exists; give a new file")
    seeded = time.monotonic()
    asyncio.run(serve(args.db, args.recipients, args.releases, min(args.channel_members, args.recipients)))
    print(f"_slack_herald: ran {time.monotonic() - seeded:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
