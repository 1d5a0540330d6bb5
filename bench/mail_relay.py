"""E-mail at subscriber scale: personal mails through one relay, Herald against the loop a user would write.

    .venv/bin/python bench/mail_relay.py [--mails 10000] [--per-minute 840 | --unlimited] [--connections 3]
        [--refuse 0.01] [--no-pipelining] [--only herald|naive] [--timings] [--json]

The relay is aiosmtpd on 127.0.0.1 (``tests.servers.smtp``), in this process. It behaves
as a hosted relay does: it advertises DSN and PIPELINING (``--no-pipelining``: not), it
holds the configured limit with a token bucket of one second's worth (a MAIL FROM over
it is answered as Amazon SES answers, ``454 Throttling failure: Maximum sending rate
exceeded``), and it greylists a share of the recipients (``--refuse``, 1 % by default):
their first RCPT is answered ``451 4.7.1``, the next one accepted. It records every mail
it accepts: when, the recipient, the envelope sender and the bytes.

Each contender sends ``--mails`` personal mails, each to its own address, with its own
acknowledgement link and its own VERP return path, in its own process:

* Herald: the real ``SmtpMessenger`` (``build_message``, reused sessions, pipelining),
  the delivery engine and the SQLite ledger, as ``herald run`` wires them
  (``delivery_links``), with ``SMTP_MAX_PER_MINUTE`` (or ``unlimited``) and
  ``HERALD_SMTP_CONNECTIONS``; one group of ``email:`` addresses, announced, approved and
  sent through the desk.
* Naive: the loop a user would write: for each recipient, build the mail (the same
  parts, link and return path) and ``await aiosmtplib.send(...)``, a new connection each,
  then sleep 60 / per-minute seconds to keep to the limit; an exception is logged and
  the loop goes on (no retry).

Printed for each: mails per second (first accepted mail to last), time from the send to
the last accepted mail, the configured limit and the efficiency against it, peak RSS,
and from what the relay accepted: duplicates and losses (keyed by recipient), whether
every mail had its own return path and link, 4xx answered and mails accepted after a
4xx (retried), 454s (over the limit), reads that carried MAIL, RCPT and DATA together,
connections opened, and the CPU each side spent per mail (the contender's, from the send
on; the relay's). ``--timings`` adds where Herald's time went, per call: the shared
budget's transaction, the SMTP transaction (waiting for a session included) and the
ledger's commits (claims, start notes, outcomes).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import os
import platform
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402

from tests.servers.smtp import RecordingHandler, smtp_server  # noqa: E402

PUBLIC_URL = "https://herald.example.com"
LINK_SECRET = "bench-link-secret-" + "k" * 32
SENDER = "Acme Releases <releases@acme.example>"
BOUNCES = "bounces@lists.acme.example"
TEXT = (
    "Acme Cloud {{ version }} is live.\n\n- Dashboards are faster\n- Single sign-on on every plan\n\n"
    "Release notes: https://acme.example/releases/{{ version }}"
)
_LINK = re.compile(re.escape(PUBLIC_URL).encode() + rb"/ack/[A-Za-z0-9_.=-]+")
_RETURN_PATH = re.compile(r"^bounces\+[A-Za-z0-9_=.-]+@lists\.acme\.example$")
_UNSETTLED = "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')"
_THROTTLED = "454 4.7.0 Throttling failure: Maximum sending rate exceeded."
_GREYLISTED = "451 4.7.1 Greylisted, please try again later"


def address(n: int) -> str:
    return f"subscriber{n:05d}@example.org"


# -- the relay ------------------------------------------------------------------------------------


@dataclass
class Relay(RecordingHandler):
    """A relay with a rate limit and greylisting, recording every mail it accepts (parsed later, not here)."""

    per_minute: float | None = None
    refuse_share: float = 0.0
    accepted: list[tuple[float, str, str, bytes]] = field(default_factory=list)  # (time, rcpt, mail from, bytes)
    throttled: int = 0
    greylisted: set[str] = field(default_factory=set)
    _tokens: float = 0.0
    _updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._tokens = self._burst

    @property
    def _burst(self) -> float:
        return max(1.0, (self.per_minute or 0.0) / 60.0)

    def _over_limit(self) -> bool:
        if self.per_minute is None:
            return False
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self.per_minute / 60.0)
        self._updated = now
        if self._tokens < 1.0:
            return True
        self._tokens -= 1.0
        return False

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, sender: str, options: list[str]
    ) -> str:
        if self._over_limit():
            self.throttled += 1
            return _THROTTLED
        envelope.mail_from = sender
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, to: str, options: list[str]) -> str:
        chosen = zlib.crc32(to.encode()) % 10_000 < self.refuse_share * 10_000
        if chosen and to not in self.greylisted:
            self.greylisted.add(to)
            return _GREYLISTED
        envelope.rcpt_tos.append(to)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.accepted.append((time.time(), envelope.rcpt_tos[0], str(envelope.mail_from), content))
        return "250 2.0.0 Ok: queued"


# -- the contenders, each in a child process ---------------------------------------------------------


def _plan(mails: int) -> str:
    to = ", ".join(f'"email:{address(n)}"' for n in range(mails))
    return (
        'product = "Acme Cloud"\n[access]\nannouncers = ["shell:deployer"]\n'
        f'[[group]]\nid = "subscribers"\nname = "Subscribers"\nto = [{to}]\n'
        'subject = "{{ product }} {{ version }} is live"\n'
        f'message = """\n{TEXT}\n"""\n'
    )


class _Timings:
    """Seconds and counts of what each mail costs Herald (``--timings``): wraps the calls, changes none."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.counts[label] += 1

        setattr(owner, name, timed)

    def report(self) -> dict[str, str]:
        return {
            label: f"{self.counts[label]} × {1000 * self.seconds[label] / max(1, self.counts[label]):.2f} ms"
            for label in sorted(self.counts)
        }


async def _herald(port: int, mails: int, per_minute: int, connections: int, timings: bool) -> dict[str, Any]:
    from bot.app.bootstrap import delivery_links, open_storage, wire
    from bot.app.settings import load_settings
    from bot.domain.commands import parse_release_command
    from bot.domain.delivery import DeliveryStatus
    from bot.domain.destinations import Platform
    from bot.service.limits import RateLimiter
    from bot.service.planfile import parse_plan

    measured = _Timings() if timings else None
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            {
                "DATABASE_URL": f"sqlite:///{folder}/herald.db",
                "SMTP_URL": f"smtp://127.0.0.1:{port}",
                "HERALD_MAIL_FROM": SENDER,
                "SMTP_MAX_PER_MINUTE": str(per_minute) if per_minute else "unlimited",
                "HERALD_SMTP_CONNECTIONS": str(connections),
                "HERALD_PUBLIC_URL": PUBLIC_URL,
                "HERALD_LINK_SECRET": LINK_SECRET,
                "HERALD_BOUNCE_ADDRESS": BOUNCES,
            },
            env_file=None,
        )
        storage = await open_storage(settings, migrate=True)
        links = delivery_links(settings)  # what `herald run` sends e-mail with
        if measured is not None:
            from storage.unit_of_work import SqlUnitOfWork

            measured.wrap(storage.budgets, "reserve", "shared budget: reserve a token")
            measured.wrap(links[Platform.EMAIL].messenger, "send", "SMTP: one mail (session, pipelined transaction)")
            measured.wrap(SqlUnitOfWork, "commit", "ledger: a commit (claims, start notes, outcomes)")
        limiter = RateLimiter(budgets=storage.budgets)
        herald = wire(plan=parse_plan(_plan(mails)), storage=storage, links=links, limiter=limiter)
        for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all"):
            reply = await herald.desk.handle(parse_release_command(line, "shell:deployer"))
            assert not reply.failed, reply
        started, cpu_before = time.time(), _cpu()
        reply = await herald.desk.handle(parse_release_command("send 2.4", "shell:deployer"))
        assert not reply.failed, reply
        stop = asyncio.Event()
        engine = asyncio.create_task(herald.engine.run(stop, poll=0.05))
        deadline = time.monotonic() + 600 + 3 * mails * 60 / (per_minute or 6000)
        # Watched with a count, not ``desk.status``: a status report reads every e-mail delivery
        # (for its delivery reports), which at 10,000 mails would be the benchmark's own load.
        ledger_file = sqlite3.connect(f"{folder}/herald.db")
        while True:
            await asyncio.sleep(1.0)
            pending = ledger_file.execute(_UNSETTLED).fetchone()[0]
            if pending == 0 or time.monotonic() > deadline:
                break
        ledger_file.close()
        cpu_sending = _cpu() - cpu_before
        stop.set()
        herald.engine.wake()
        await engine
        async with storage.uow() as uow:
            ledger = await uow.deliveries.for_release("2.4")
        messenger = links[Platform.EMAIL].messenger
        await messenger.sessions.close()  # type: ignore[attr-defined]  # QUIT, as `herald run` does at exit
        await storage.close()
    result: dict[str, Any] = {
        "started": started,
        "failed": sum(1 for d in ledger if d.status is DeliveryStatus.FAILED),
        "unsettled": pending,
        "tried_again": sum(1 for d in ledger if d.attempts > 1),
        "cpu_sending_s": cpu_sending,
        "leases_lost": herald.engine.leases.lost,
        "leases_abandoned": herald.engine.leases.abandoned,
    }
    if measured is not None:
        result["timings"] = measured.report()
    return result


async def _naive(port: int, mails: int, per_minute: int, connections: int, timings: bool) -> dict[str, Any]:
    import hashlib
    import hmac
    from email.message import EmailMessage

    import aiosmtplib

    pause = 60.0 / per_minute if per_minute else 0.0
    failed = 0
    started = time.time()
    for n in range(mails):
        to = address(n)
        token = hmac.new(LINK_SECRET.encode(), to.encode(), hashlib.sha256).hexdigest()[:32]
        link = f"{PUBLIC_URL}/ack/{token}"
        mail = EmailMessage()
        mail["From"] = SENDER
        mail["To"] = to
        mail["Subject"] = "Acme Cloud 2.4 is live"
        text = TEXT.replace("{{ version }}", "2.4")
        mail.set_content(f"{text}\n\nPlease acknowledge that you have read this: {link}")
        mail.add_alternative(f"<p>{text}</p><p><a href='{link}'>Acknowledge</a></p>", subtype="html")
        try:
            await aiosmtplib.send(
                mail, hostname="127.0.0.1", port=port, sender=f"bounces+{token[:16]}@lists.acme.example", timeout=30
            )
        except aiosmtplib.SMTPException as error:
            failed += 1
            print(f"{to}: {error}", file=sys.stderr)
        if pause:
            await asyncio.sleep(pause)
    return {"started": started, "failed": failed}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(role: str, port: int, mails: int, per_minute: int, connections: int, timings: bool) -> None:
    runner = _herald if role == "herald" else _naive
    result = asyncio.run(runner(port, mails, per_minute, connections, timings))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.setdefault("cpu_sending_s", _cpu())
    print(json.dumps(result))


# -- the run ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    mails: int
    per_minute: int  # 0: unlimited
    connections: int
    refuse: float
    pipelining: bool
    timings: bool


async def _contest(role: str, options: Options) -> dict[str, Any]:
    relay = Relay(pipelining=options.pipelining, per_minute=options.per_minute or None, refuse_share=options.refuse)
    relay_cpu = _cpu()
    async with smtp_server(relay) as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--role",
            role,
            "--port",
            str(server.port),
            "--mails",
            str(options.mails),
            "--per-minute",
            str(options.per_minute),
            "--connections",
            str(options.connections),
            *(["--timings"] if options.timings else []),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HERALD_LOG_LEVEL": "ERROR"},
        )
        out, _ = await process.communicate()
        assert process.returncode == 0, f"{role} failed"
    relay_cpu = _cpu() - relay_cpu
    child: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    child["relay_cpu_s"] = relay_cpu
    return _figures(role, relay, options, child)


def _figures(role: str, relay: Relay, options: Options, child: dict[str, Any]) -> dict[str, Any]:
    expected = {address(n) for n in range(options.mails)}
    got = Counter(rcpt for _at, rcpt, _from, _bytes in relay.accepted)
    times = sorted(at for at, *_ in relay.accepted)
    links: set[bytes] = set()
    return_paths: set[str] = set()
    for _at, _rcpt, mail_from, content in relay.accepted:
        if _RETURN_PATH.match(mail_from):
            return_paths.add(mail_from)
        links.update(_LINK.findall(_text(content)))
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    per_second = (len(times) - 1) / span if span else 0.0
    limit = options.per_minute / 60.0 if options.per_minute else None
    row: dict[str, Any] = {
        "contender": role,
        "mails": options.mails,
        "accepted": len(relay.accepted),
        "mails_per_s": round(per_second, 2),
        "to_last_mail_s": round(times[-1] - child["started"], 1) if times else None,
        "limit_per_s": round(limit, 2) if limit else "unlimited",
        "efficiency": round(per_second / limit, 3) if limit else "-",
        "duplicates": sum(1 for n in got.values() if n > 1),
        "losses": len(expected - set(got)),
        "own_return_path": len(return_paths),
        "own_ack_link": len(links),
        "4xx_answered": len(relay.greylisted),
        "retried_then_accepted": len(relay.greylisted & set(got)),
        "454_over_limit": relay.throttled,
        "pipelined_reads": relay.arrivals.count(("MAIL", "RCPT", "DATA")),
        "connections": relay.arrivals.count(("EHLO",)),
        "failed": child["failed"],
        "peak_rss_mb": round(child["peak_rss_mb"], 1),
        "relay_cpu_ms_per_mail": round(1000 * child["relay_cpu_s"] / max(1, len(relay.accepted)), 1),
        "cpu_ms_per_mail": round(1000 * child["cpu_sending_s"] / max(1, len(relay.accepted)), 1),
    }
    for key in ("unsettled", "tried_again", "leases_lost", "leases_abandoned"):
        if key in child:
            row[key] = child[key]
    if "timings" in child:
        row["timings"] = child["timings"]
    return row


def _text(content: bytes) -> bytes:
    """The mail's parts decoded (a link may be wrapped by quoted-printable or base64)."""
    message = email.message_from_bytes(content, policy=email.policy.default)
    parts = [p.get_payload(decode=True) for p in message.walk() if not p.is_multipart()]
    return b"\n".join(p for p in parts if isinstance(p, bytes))


def targets(herald: dict[str, Any], naive: dict[str, Any] | None) -> dict[str, bool]:
    """The issue's targets for Herald, each met or not."""
    personal = herald["own_return_path"] == herald["own_ack_link"] == herald["mails"]
    met = {
        "0 duplicates": herald["duplicates"] == 0,
        "0 losses": herald["losses"] == 0,
        "<= 200 MB": herald["peak_rss_mb"] <= 200,
        "every mail its own return path and link": personal,
    }
    if isinstance(herald["efficiency"], float):
        met[">= 0.9 of the relay's limit"] = herald["efficiency"] >= 0.9
    elif naive is not None and naive["mails_per_s"]:
        met[">= 5x the naive loop"] = herald["mails_per_s"] >= 5 * naive["mails_per_s"]
    return met


def _table(rows: list[dict[str, Any]]) -> str:
    keys = [k for k in dict.fromkeys(key for row in rows for key in row) if k != "timings"]
    width = max(len(k) for k in keys)
    column = max(12, *(len(str(row.get(key, ""))) for row in rows for key in keys))
    lines = [f"{'':>{width}}  " + "  ".join(f"{r['contender']:>{column}}" for r in rows)]
    lines += [f"{k:>{width}}  " + "  ".join(f"{r.get(k, '-')!s:>{column}}" for r in rows) for k in keys[1:]]
    for row in rows:
        for label, figure in row.get("timings", {}).items():
            lines.append(f"{row['contender']}: {label}: {figure}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--per-minute", type=int, default=840, help="the relay's limit (840: a default SES account)")
    parser.add_argument("--unlimited", action="store_true", help="no limit at the relay or in Herald")
    parser.add_argument("--connections", type=int, default=3, help="HERALD_SMTP_CONNECTIONS")
    parser.add_argument("--refuse", type=float, default=0.01, help="share of recipients greylisted once (451)")
    parser.add_argument("--no-pipelining", action="store_true", help="the relay does not offer PIPELINING")
    parser.add_argument("--only", choices=["herald", "naive"])
    parser.add_argument("--timings", action="store_true", help="where Herald's time goes, per mail")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--role", choices=["herald", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    per_minute = 0 if args.unlimited else args.per_minute
    if args.role:
        _child(args.role, args.port, args.mails, per_minute, args.connections, args.timings)
        return
    options = Options(args.mails, per_minute, args.connections, args.refuse, not args.no_pipelining, args.timings)
    roles = [args.only] if args.only else ["herald", "naive"]
    rows = [asyncio.run(_contest(role, options)) for role in roles]
    herald = next((row for row in rows if row["contender"] == "herald"), None)
    naive = next((row for row in rows if row["contender"] == "naive"), None)
    met = targets(herald, naive) if herald is not None else {}
    if args.json:
        print(json.dumps({"machine": platform.machine(), "cores": os.cpu_count(), "rows": rows, "targets": met}))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    limit = f"{per_minute}/min" if per_minute else "unlimited"
    print(
        f"{options.mails} personal mails; relay limit {limit}, {options.refuse:.0%} greylisted once, "
        f"PIPELINING {'offered' if options.pipelining else 'not offered'}; "
        f"HERALD_SMTP_CONNECTIONS={options.connections}"
    )
    print(_table(rows))
    if herald is not None and naive is not None and naive["mails_per_s"]:
        print(f"Herald / naive, mails a second: {herald['mails_per_s'] / naive['mails_per_s']:.2f}x")
    if met:
        print("Herald targets:", ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in met.items()))


if __name__ == "__main__":
    main()
