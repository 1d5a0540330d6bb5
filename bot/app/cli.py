"""The ``herald`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from adapters.export import FORMATS as EXPORT_FORMATS
from adapters.scheduling.sweeper import Sweeper, sweep_interval
from adapters.shell.render import render_status
from adapters.shell.session import ShellSession
from adapters.shell.world import ShellWorld
from bot.app.actions import run_resend, run_retract
from bot.app.announce import duration_argument, run_announce
from bot.app.bootstrap import (
    delivery_links,
    forge_releases,
    open_storage,
    report_sweeper,
    shell_links,
    sign_in_links,
    web_server,
    wire,
)
from bot.app.operations import new_metrics, ops_server, wants_ops
from bot.app.serve import Service, Watched
from bot.app.settings import Settings, configure_logging, load_settings, opt_outs
from bot.domain.errors import AuditChainBroken, ConfigError, HeraldError, PlanError
from bot.domain.versions import parse_version
from bot.service.planfile import load_plan

_EXIT_ERROR = 1
_EXIT_USAGE = 2


class _AuditForm(argparse.Action):
    """``herald audit VERSION`` or ``herald audit verify VERSION``: sets ``version`` and ``verify``."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        words = [values] if isinstance(values, str) else [str(word) for word in values or ()]
        if words == ["verify"]:
            parser.error("verify needs the release version: herald audit verify 2.4")
        if len(words) == 2 and words[0] == "verify":
            namespace.version, namespace.verify = words[1], True
        elif len(words) == 1:
            namespace.version, namespace.verify = words[0], False
        else:
            parser.error(f"unexpected {' '.join(words)}: give a release version (2.4), or verify and one (verify 2.4)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="herald",
        description="Herald validates, delivers and proves receipt of release communications.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run Herald (with no platform credentials: the local shell workspace)",
        description="Run Herald. With no Slack or Discord credentials it opens the shell workspace, "
        "reading commands from the terminal or from piped input.",
    )
    run.add_argument("--as", dest="user", metavar="NAME", help="the shell user to start as (default: deployer)")

    plan = commands.add_parser("plan", help="work with the plan file", description="Work with the plan file.")
    plan_commands = plan.add_subparsers(dest="plan_command", required=True, metavar="COMMAND")
    check = plan_commands.add_parser(
        "check",
        help="check a plan file and report every problem",
        description="Check a plan file and report every problem at once; exits non-zero if there is any.",
    )
    check.add_argument("path", nargs="?", help="the plan file (default: HERALD_PLAN or release-comms.toml)")

    status = commands.add_parser(
        "status",
        help="deliveries and acknowledgements of a release",
        description="Show, per stakeholder group, targets, sent, failed, pending, and acknowledged of expected.",
    )
    status.add_argument("version", help="the release version, e.g. 2.4")
    status.add_argument("--json", action="store_true", help="print one JSON object")

    audit = commands.add_parser(
        "audit",
        help="the audit log of a release, or (audit verify VERSION) check its hash chain",
        usage="%(prog)s [-h] [--json] [verify] VERSION",
        description="Every step taken on a release, and every refusal, with who and when (oldest first). "
        "With verify: check the log's hash chain instead, and exit 1 naming the first entry that was changed, "
        "removed, added or moved.",
    )
    audit.add_argument(
        "words",
        nargs="+",
        action=_AuditForm,
        metavar="[verify] VERSION",
        help="the release version, e.g. 2.4; verify 2.4 checks its chain",
    )
    audit.add_argument(
        "--json", action="store_true", help="print one JSON object per line (with verify: one object, the whole head)"
    )

    export = commands.add_parser(
        "export",
        help="the evidence pack of a release: plan, approvals, deliveries, receipts, refusals",
        description="Export, from the ledger, what shows that every stakeholder group was told and who "
        "acknowledged: the plan the release was announced under and its SHA-256, each communiqué with its checks "
        "and review steps, the confirmation and final approval, every delivery, every receipt (on time or late; "
        "those from outside the audience apart), every refusal, the counts of herald status and the audit log's "
        "head. People are named, as herald status names them: this is an operator's tool, keep the pack as you "
        "keep the ledger.",
    )
    export.add_argument("version", help="the release version, e.g. 2.4")
    export.add_argument(
        "--format",
        choices=[*EXPORT_FORMATS, "all"],
        default="md",
        help="md: a report for a change ticket (the default); csv: one row per delivery; json: everything, "
        "one object; all: the three files (with --out)",
    )
    export.add_argument(
        "--out",
        metavar="DIR",
        help="write herald-<product>-<version>.<format> into DIR (made if missing) and print its path; "
        "without it the pack goes to standard output",
    )

    announce = commands.add_parser(
        "announce",
        help="announce a release from a pipeline, through a running Herald's release API",
        description="Announce a release on a running Herald (HERALD_API_URL, else HERALD_PUBLIC_URL) with the token in "
        "HERALD_API_TOKEN, as /release announce does in chat: the walkthrough is posted in chat, where people approve "
        "it. Prints the status page and the thread. Exit status: 0 announced (with --wait: sent), 1 refused or "
        "cancelled, 2 not sent within --timeout.",
    )
    announce.add_argument("version", help="the release version, e.g. 2.4 or v2.4, or a monorepo's tag (api-v2.4.0)")
    announce.add_argument(
        "--channel",
        metavar="CHANNEL",
        help="where to post the walkthrough (slack:C… or discord:ID; default: the server's HERALD_ANNOUNCE_CHANNEL)",
    )
    announce.add_argument(
        "--notes",
        metavar="FILE",
        help="the release's notes (Markdown; - reads standard input), used instead of the plan's [notes] source",
    )
    announce.add_argument(
        "--component",
        action="append",
        default=[],
        metavar="NAME",
        help="what the release is of (repeat for several; a monorepo's tag such as api-v2.4.0 names its own)",
    )
    announce.add_argument("--wait", action="store_true", help="wait until the release is sent or cancelled")
    announce.add_argument(
        "--timeout",
        type=duration_argument,
        default=timedelta(hours=1),
        metavar="DURATION",
        help="with --wait, how long to wait (30m, 1h, 2d; default 1h)",
    )

    retract = commands.add_parser(
        "retract",
        help="withdraw a release from a rollback job, through a running Herald's release API",
        description="Retract a release being or already sent on a running Herald (HERALD_API_URL, else "
        "HERALD_PUBLIC_URL) with the token in HERALD_API_TOKEN, as /release retract does in chat: pending messages "
        "stop and every copy says it is withdrawn; when the plan names approvers, it waits for one in chat. "
        "Prints Herald's sentence. Exit status: 0 recorded (in effect or waiting for approval), 1 refused.",
    )
    retract.add_argument("version", help="the release version, e.g. 2.4 or v2.4")
    retract.add_argument("reason", nargs="+", metavar="REASON", help="why it is withdrawn, shown on every copy")

    resend = commands.add_parser(
        "resend",
        help="send a release again to those missed, failed or unread, through a running Herald's release API",
        description="Send a release again, once each, to one set of its people on a running Herald (HERALD_API_URL, "
        "else HERALD_PUBLIC_URL) with the token in HERALD_API_TOKEN, as /release resend does in chat. Prints "
        "Herald's sentence. Exit status: 0 accepted (sending again, or nobody left to send to), 1 refused.",
    )
    resend.add_argument("version", help="the release version, e.g. 2.4 or v2.4")
    resend.add_argument("group", nargs="?", metavar="GROUP", help="only this stakeholder group (default: every group)")
    resend.add_argument(
        "which",
        metavar="missed|failed|unread",
        help="never attempted, whose copy failed, or reached but not yet at their group's level",
    )

    discord = commands.add_parser(
        "discord", help="Discord set-up", description="Set Herald up on Discord (needs DISCORD_BOT_TOKEN)."
    )
    discord_commands = discord.add_subparsers(dest="discord_command", required=True, metavar="COMMAND")
    sync = discord_commands.add_parser(
        "sync",
        help="register the /release commands with Discord",
        description="Register the /release commands with Discord: in one server with --guild (instant), "
        "else globally (may take up to an hour to show). Run it once, and again after upgrading Herald; "
        "Discord allows 200 command creations a day per server.",
    )
    sync.add_argument("--guild", type=int, metavar="ID", help="the server (guild) id to register the commands in")

    commands.add_parser(
        "doctor",
        help="check every configured part once, with the fix for what fails",
        description="Check the database, the plan and every configured platform (Slack token and scopes, Discord "
        "token and intents, SMTP login and DSN, the report mailbox, webhook receivers), one line each, with the fix "
        "for what fails. Exits 1 if anything failed. Changes nothing.",
    )

    mail = commands.add_parser("mail", help="e-mail receipts", description="What comes back to Herald's mail.")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True, metavar="COMMAND")
    explain = mail_commands.add_parser(
        "explain",
        help="what Herald makes of one mail: a bounce, a read receipt, an auto-reply",
        description="Read one mail (a .eml file, or - for standard input) as Herald's report mailbox would: its "
        "kind, per recipient the action, status and the server's words, and which delivery it matches or why "
        "not. Nothing is changed.",
    )
    explain.add_argument("file", help="the mail, as a .eml file; - reads standard input")
    explain.add_argument("--json", action="store_true", help="print one JSON object")

    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser(
        "upgrade", help="create or migrate the database schema", description="Apply every pending migration."
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``herald`` console script and ``python -m bot``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "export" and args.format == "all" and args.out is None:
        parser.error("--format all writes three files: give the folder with --out DIR")
    if args.command == "announce":  # a client of a running Herald: none of the server's settings
        return run_announce(
            args.version,
            channel=args.channel,
            wait=args.wait,
            timeout=args.timeout,
            environ=os.environ,
            notes=args.notes,
            components=args.component,
        )
    if args.command == "retract":
        return run_retract(args.version, args.reason, environ=os.environ)
    if args.command == "resend":
        return run_resend(args.version, args.which, group=args.group, environ=os.environ)
    try:
        settings = load_settings(os.environ)
        configure_logging(settings)
        if args.command == "plan":
            return _plan_check(Path(args.path) if args.path else settings.plan_path)
        if args.command == "export":
            from bot.app.evidence import export

            return export(settings, parse_version(args.version), args.format, args.out)
        if args.command == "mail":
            args.raw = _mail_file(args.file)
        return asyncio.run(_dispatch(args, settings))
    except HeraldError as error:
        print(f"herald: {error}", file=sys.stderr)
        return _EXIT_USAGE if isinstance(error, PlanError) else _EXIT_ERROR
    except KeyboardInterrupt:
        print("\nherald: stopped.", file=sys.stderr)
        return 130
    except Exception as error:  # a person gets a sentence; HERALD_LOG_LEVEL=DEBUG shows the rest
        logging.getLogger("herald").debug("unexpected error", exc_info=True)
        print(
            f"herald: something went wrong: {type(error).__name__}: {error}. "
            "Nothing recorded was lost; run again with HERALD_LOG_LEVEL=DEBUG for details.",
            file=sys.stderr,
        )
        return _EXIT_ERROR


def _plan_check(path: Path) -> int:
    plan = load_plan(path)
    groups = len(plan.groups)
    destinations = sum(len(g.to) for g in plan.groups)
    order = " → ".join(plan.send_order())
    print(f"{path}: OK — {plan.product}, {groups} groups, {destinations} destinations, send order: {order}")
    return 0


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "db":
        storage = await open_storage(settings, migrate=True)
        await storage.close()
        print("The database schema is up to date.")
        return 0
    if args.command == "discord":
        return await _discord_sync(settings, args.guild)
    if args.command == "status":
        return await _status(settings, parse_version(args.version), as_json=args.json)
    if args.command == "audit" and args.verify:
        return await _audit_verify(settings, parse_version(args.version), as_json=args.json)
    if args.command == "audit":
        return await _audit(settings, parse_version(args.version), as_json=args.json)
    if args.command == "mail":
        return await _mail_explain(settings, args.raw, as_json=args.json)
    if args.command == "doctor":
        from bot.app.doctor import diagnose, exit_status

        findings = await diagnose(settings)
        for finding in findings:
            print(finding.line())
        return exit_status(findings)
    return await _run(settings, args.user)


def _mail_file(path: str) -> bytes:
    """The mail to explain, from a file or (``-``) standard input."""
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise ConfigError(f"Cannot read the mail {path}: {error.strerror or error}") from None


async def _mail_explain(settings: Settings, raw: bytes, *, as_json: bool) -> int:
    from adapters.email.explain import explain, render_explanation
    from adapters.email.inbound.matching import ReportReader
    from adapters.email.runtime import mail_refs
    from bot.service.clock import SystemClock
    from bot.service.reports import DeliveryReports

    reader = ReportReader(mail_refs(settings))
    try:
        storage = await open_storage(settings, migrate=False)
    except ConfigError as error:
        found = await explain(raw, reader, None, no_ledger=str(error))
    else:
        try:
            found = await explain(raw, reader, DeliveryReports(uow=storage.uow, clock=SystemClock()))
        finally:
            await storage.close()
    print(json.dumps(found, indent=2) if as_json else render_explanation(found))
    return 0


async def _status(settings: Settings, version: str, *, as_json: bool) -> int:
    plan = load_plan(settings.plan_path)
    storage = await open_storage(settings, migrate=False)
    try:
        herald = wire(plan=plan, storage=storage, links={})
        view = await herald.desk.status(version)
    finally:
        await storage.close()
    print(json.dumps(view.as_json(), indent=2) if as_json else render_status(view))
    return 0


async def _audit(settings: Settings, version: str, *, as_json: bool) -> int:
    storage = await open_storage(settings, migrate=False)
    try:
        entries = await wire(plan=load_plan(settings.plan_path), storage=storage, links={}).desk.audit_log(version)
    finally:
        await storage.close()
    if not entries:
        print(f"Nothing is recorded about release {version}.")
    for entry in entries:
        if as_json:
            record = {
                "at": entry.at.isoformat(),
                "actor": entry.actor,
                "action": entry.action,
                "version": entry.version,
                "outcome": entry.outcome.value,
                "detail": entry.detail,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            }
            print(json.dumps(record))
        else:
            when = entry.at.strftime("%Y-%m-%d %H:%M:%S UTC")
            print(f"{when}  {entry.actor:<24} {entry.outcome.value:<8} {entry.action:<20} {entry.detail}")
    return 0


async def _audit_verify(settings: Settings, version: str, *, as_json: bool) -> int:
    storage = await open_storage(settings, migrate=False)
    try:
        report = await wire(plan=load_plan(settings.plan_path), storage=storage, links={}).desk.audit_chain(version)
    finally:
        await storage.close()
    link = report.broken
    if as_json:
        record: dict[str, object] = {
            "version": version,
            "intact": report.intact,
            "entries": report.entries,
            "head": report.head,
            "broken": None,
        }
        if link is not None:
            record["broken"] = {
                "position": link.position,
                "flaw": link.flaw.value,
                "at": link.entry.at.isoformat(),
                "actor": link.entry.actor,
                "action": link.entry.action,
                "outcome": link.entry.outcome.value,
                "reason": str(AuditChainBroken(version, report)),
            }
        print(json.dumps(record))
    elif link is not None:
        print(AuditChainBroken(version, report))
    elif report.entries == 0:
        print(f"Nothing is recorded about release {version}, so there is no audit log to verify.")
    else:
        noun = "entry" if report.entries == 1 else "entries"
        print(f"Audit log of {version} is intact: {report.entries} {noun}, head {report.head[:16]}…")
    return 0 if report.intact and report.entries else _EXIT_ERROR


async def _run(settings: Settings, user: str | None) -> int:
    for opt_out in opt_outs(settings):  # once, at start: each check or guarantee the operator turned off
        logging.getLogger("herald").warning("%s", opt_out)
    if settings.slack is not None or settings.discord is not None:
        return await _run_platforms(settings)
    plan = load_plan(settings.plan_path)
    world = ShellWorld.load(settings.shell_workspace)
    storage = await open_storage(settings, migrate=settings.is_sqlite or settings.database_url.startswith("memory"))
    try:
        metrics = new_metrics() if wants_ops(settings, shell=True) else None
        session_box: list[ShellSession] = []
        links = {**shell_links(world, lambda posted: session_box[0].show_delivery(posted)), **delivery_links(settings)}
        herald = wire(
            plan=plan,
            storage=storage,
            links=metrics.links(links) if metrics is not None else links,
            limiter=metrics.limiter(budgets=storage.budgets) if metrics is not None else None,
            on_progress=lambda version: session_box[0].note_progress(version),
            sign_in=sign_in_links(settings),
            forges=forge_releases(settings),
        )
        if metrics is not None:
            metrics.watch(engine=herald.engine, uow=storage.uow)
        session = ShellSession(
            herald=herald,
            world=world,
            out=sys.stdout,
            user=user or settings.shell_user,
            echo=not sys.stdin.isatty(),
        )
        session_box.append(session)
        sweeper = Sweeper(herald.reminders.sweep, sweep_interval([g.remind_every for g in plan.groups]))
        server = web_server(settings, herald.desk)
        web = Watched("acknowledgement links", server) if server is not None else None
        ops = ops_server(settings, metrics, [web] if web is not None else []) if metrics is not None else None
        reports = report_sweeper(settings, storage.uow)
        if ops is not None:
            await ops.start()
        try:
            if web is not None:
                await web.start()
            sweeper.start()
            if reports is not None:
                reports.start()
            try:
                return await session.run()
            finally:
                sweeper.stop()
                if reports is not None:
                    reports.stop()
                if web is not None:
                    await web.close()
        finally:
            if ops is not None:
                await ops.close()
    finally:
        await storage.close()


async def _run_platforms(settings: Settings) -> int:
    from bot.app.platforms import chat_herald
    from bot.app.serve import serve

    plan = load_plan(settings.plan_path)
    storage = await open_storage(settings, migrate=settings.is_sqlite)
    try:
        metrics = new_metrics() if wants_ops(settings, shell=False) else None
        served = chat_herald(plan=plan, storage=storage, settings=settings, metrics=metrics)
        herald = served.herald
        watched = served.watched()
        ops = ops_server(settings, metrics, watched) if metrics is not None else None
        names = " and ".join(p for p, on in (("Slack", settings.slack), ("Discord", settings.discord)) if on)
        print(f"herald: serving {names} with the plan {settings.plan_path}. Stop with Ctrl-C.", file=sys.stderr)
        services: list[Service] = [ops, *watched] if ops is not None else [*watched]  # ops: first up, last down
        await serve(engine_run=herald.engine.run, plan=plan, sweep=herald.reminders.sweep, services=services)
        return 0
    finally:
        await storage.close()


async def _discord_sync(settings: Settings, guild: int | None) -> int:
    if settings.discord is None:
        raise ConfigError("DISCORD_BOT_TOKEN is not set; herald discord sync needs the bot's token")
    from adapters.discord.runtime import sync_commands

    count = await sync_commands(settings.discord, guild)
    where = f"in server {guild} (available now)" if guild else "globally (Discord may take up to an hour to show them)"
    print(f"Registered /release ({count} command{'s' if count != 1 else ''}) {where}.")
    return 0
