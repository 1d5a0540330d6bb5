"""The interactive shell workspace: type commands as any local user, watch deliveries land."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol, TextIO

from adapters.shell.render import render, render_progress
from adapters.shell.world import Posted, ShellWorld
from bot.domain.durations import parse_duration
from bot.domain.errors import CommandError
from bot.domain.receipt import ReceiptSource
from bot.domain.versions import parse_version
from bot.service.chat.flow import ChatFlow
from bot.service.desk import ReleaseDesk
from bot.service.engine import DeliveryEngine
from bot.service.reminders import Reminders
from bot.service.views import Reply

log = logging.getLogger(__name__)

SHELL_HELP = """\
Shell workspace commands:
  /release …                 the /release commands (see /release help)
  /as NAME                   act as another person (shell user, or a full id such as slack:U0SUPPORT1)
  /whoami                    who you are acting as
  /ack MESSAGE               press Acknowledge on a message you received (its m-… id)
  /ack VERSION GROUP         the same, naming the release and the group
  /react MESSAGE [:emoji:]   react to a message (a reaction counts as a receipt)
  /inbox                     what was delivered to you
  /channel NAME              what was posted in a channel
  /wait DURATION             let time pass (e.g. /wait 15s) so reminders and escalations fall due
  /help                      this list
  /quit                      leave (end of input does the same)
To edit a communiqué over several lines, type /release edit VERSION GROUP on its own,
then the new text, then a line with a single dot."""

_REF = re.compile(r"^m-[0-9a-f]{6}\Z")


_ICONS = {  # how each kind of message is marked as it lands; a communiqué is 📨
    "reminder": "🔔 reminder to",
    "escalation": "🚨 escalation to",
    "correction": "✏️ correction to",
    "notice": "✏️ notice to",
    "retraction": "🚫 withdrawal to",
}


class Wired(Protocol):
    """What the shell drives: the desk people talk to, the engine, the reminders (a wired Herald)."""

    @property
    def desk(self) -> ReleaseDesk: ...

    @property
    def engine(self) -> DeliveryEngine: ...

    @property
    def reminders(self) -> Reminders: ...


class ShellSession:
    """Reads commands, hands them to the desk, prints what happens."""

    def __init__(
        self,
        *,
        herald: Wired,
        world: ShellWorld,
        out: TextIO,
        user: str = "deployer",
        echo: bool = False,
    ) -> None:
        self._herald = herald
        self._desk = herald.desk
        self._flow = ChatFlow(herald.desk, None)  # the chat platforms' flow; the shell shows each reply as it comes
        self._world = world
        self._out = out
        self.user = _person(user)
        self._echo = echo
        self._progress: set[str] = set()

    # -- output ----------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Print text to the person at the terminal."""
        self._out.write(text + "\n")
        self._out.flush()

    def show_delivery(self, posted: Posted, *, full: bool | None = None) -> None:
        """Print a message as it lands; simulated platforms get one line, local ones the text."""
        local = posted.where.startswith(("#", "@"))
        hint = f"  ← /ack {posted.ref} or /react {posted.ref} :white_check_mark:" if posted.ack_hint else ""
        label = posted.where if local else f"{posted.where} (simulated)"
        icon = _ICONS.get(posted.purpose, "📨")
        self.say(f"  {icon} {label} · {posted.group_name} · {posted.ref}{hint}")
        if full if full is not None else local:
            for line in posted.text.splitlines():
                self.say(f"     {line}")

    def _show(self, reply: Reply) -> None:
        for view in reply.views:
            self.say(render(view))

    def note_progress(self, version: str) -> None:
        """The engine settled a delivery of ``version``; a progress line follows shortly."""
        self._progress.add(version)

    async def _report_progress(self) -> None:
        for version in sorted(self._progress):
            self._progress.discard(version)
            view = await self._desk.status(version)
            self.say(render_progress(view))

    async def _drain(self) -> None:
        """Send whatever is due now and report progress (scripted input: deterministic)."""
        try:
            await self._herald.engine.run_until_idle()
            await self._report_progress()
        except Exception:  # the database went away: say so; the ledger resumes it later
            log.exception("sending failed")
            self.say("✖ Herald could not reach its database to send; it will carry on when it can.")

    async def _background(self, stop: asyncio.Event) -> None:
        """Interactive use: the engine runs on its own and progress is reported each second."""
        engine = asyncio.create_task(self._herald.engine.run(stop, poll=1.0))
        try:
            while not stop.is_set():
                await asyncio.sleep(1.0)
                if self._progress:
                    await self._report_progress()
        finally:
            await engine

    # -- input -----------------------------------------------------------------------

    async def run(self, readline: Callable[[], str] | None = None) -> int:
        """Read and carry out commands until /quit or end of input.

        With a terminal, deliveries, reminders and escalations arrive on their own;
        with piped input each command is followed by whatever it made due (use /wait
        to let time pass).
        """
        stop = asyncio.Event()
        background = None if self._echo else asyncio.create_task(self._background(stop))
        try:
            await self._drain()
            return await self._loop(_Lines(readline or sys.stdin.readline))
        finally:
            stop.set()
            if background is not None:
                await background

    async def _loop(self, lines: _Lines) -> int:
        if not self._echo:
            self.say(f"Herald shell workspace. You are {self.user}. Type /help to see what you can type.")
        while True:
            if not self._echo:
                self._out.write(f"{_short(self.user)}> ")
                self._out.flush()
            line = await lines.next()
            if not line:
                return 0
            line = line.rstrip("\n")
            if self._echo:
                self.say(f"{_short(self.user)}> {line}" if line.strip() else "")
            if line.strip() in ("/quit", "/exit"):
                return 0
            if line.strip().startswith("/release edit") and len(line.split()) == 4:
                line = line + "\n" + await self._read_block(lines)
            await self.execute(line)

    async def _read_block(self, lines: _Lines) -> str:
        block: list[str] = []
        while True:
            line = await lines.next()
            if not line or line.rstrip("\n") == ".":
                if self._echo:
                    self.say("\n".join(block) + "\n.")
                return "\n".join(block)
            block.append(line.rstrip("\n"))

    async def execute(self, line: str) -> None:
        """Carry out one line of input."""
        text = line.strip()
        if not text or text.startswith("#"):
            return
        word, _, rest = text.partition(" ")
        handler = {
            "/release": self._release,
            "/as": self._as,
            "/whoami": self._whoami,
            "/ack": self._ack,
            "/react": self._react,
            "/inbox": self._inbox,
            "/channel": self._channel,
            "/help": self._help,
            "/wait": self._wait,
        }.get(word)
        if handler is None:
            self.say(f"✖ “{word[:30]}” is not something I understand. Type /help to see what you can type.")
            return
        await handler(rest.strip() if word != "/release" else line)

    async def _release(self, line: str) -> None:
        outcome = await self._flow.command(self.user, line.strip())
        self._show(outcome.reply)
        await self._drain()

    async def _as(self, rest: str) -> None:
        if not rest or len(rest.split()) != 1:
            self.say("✖ Usage: /as NAME (e.g. /as lead, or /as slack:U0SUPPORT1)")
            return
        try:
            self.user = _person(rest)
        except ValueError as error:
            self.say(f"✖ {error}")
            return
        self.say(f"· You are now {self.user}.")

    async def _whoami(self, _rest: str) -> None:
        self.say(f"· You are {self.user}.")

    async def _ack(self, rest: str) -> None:
        await self._acknowledge(rest, ReceiptSource.BUTTON)

    async def _react(self, rest: str) -> None:
        words = rest.split()
        if words and words[-1].startswith(":") and words[-1].endswith(":"):
            words = words[:-1]
        await self._acknowledge(" ".join(words), ReceiptSource.REACTION)

    async def _acknowledge(self, rest: str, source: ReceiptSource) -> None:
        words = rest.split()
        verb = "/ack" if source is ReceiptSource.BUTTON else "/react"
        if len(words) == 1 and _REF.match(words[0]):
            ref = words[0]
        elif len(words) == 2:
            try:
                version = parse_version(words[0])
            except CommandError as error:
                self.say(f"✖ {error}")
                return
            found = self._find_message(version, words[1].lower())
            if found is None:
                self.say(f"✖ No {words[1]} message of release {version} was delivered to you.")
                return
            ref = found
        else:
            self.say(f"✖ Usage: {verb} MESSAGE (its m-… id) or {verb} VERSION GROUP")
            return
        self._show((await self._flow.acknowledge(self.user, ref, source, tally=True)).reply)

    def _addressed_to_me(self, posted: Posted) -> bool:
        platform, _, name = self.user.partition(":")
        if platform == "shell":
            if posted.where == f"@{name}":
                return True
            channel = posted.where.lstrip("#") if posted.where.startswith("#") else None
            return channel is not None and name in self._world.channels.get(channel, ())
        return posted.where in (f"slack:@{name}", f"discord:user:{name}", f"slack:{name}") or (
            platform == "email" and posted.where == self.user
        )

    def _find_message(self, version: str, group: str) -> str | None:
        for posted in reversed(self._world.posted):
            if posted.version == version and posted.group_id == group and self._addressed_to_me(posted):
                return posted.ref
        return None

    async def _inbox(self, _rest: str) -> None:
        mine = [p for p in self._world.posted if self._addressed_to_me(p)]
        if not mine:
            self.say("· Nothing has been delivered to you yet.")
        for posted in mine:
            self.show_delivery(posted, full=True)

    async def _channel(self, rest: str) -> None:
        name = rest.strip().lstrip("#")
        if name not in self._world.channels:
            self.say(
                f"✖ There is no channel #{name}. Channels: {', '.join('#' + c for c in sorted(self._world.channels))}"
            )
            return
        posts = [p for p in self._world.posted if p.where == f"#{name}"]
        self.say(f"· #{name} · members: {', '.join(self._world.channels[name])}")
        for posted in posts:
            self.show_delivery(posted)

    async def _help(self, _rest: str) -> None:
        self.say(SHELL_HELP)

    async def _wait(self, rest: str) -> None:
        try:
            duration = parse_duration(rest.strip())
        except ValueError as error:
            self.say(f"✖ {error}")
            return
        if duration > timedelta(minutes=10):
            self.say("✖ /wait takes at most 10m.")
            return
        self.say(f"· Waiting {rest.strip()}…")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration.total_seconds()
        while (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(0.5, left))
            await self._herald.reminders.sweep()
            await self._drain()


def _short(person: str) -> str:
    return person.split(":", 1)[1] if person.startswith("shell:") else person


class _Lines:
    """Lines from a blocking reader, read on a daemon thread so Ctrl-C ends Herald at once."""

    def __init__(self, read: Callable[[], str]) -> None:
        self._read = read
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._thread: threading.Thread | None = None

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            line = self._read()
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, line)
            except RuntimeError:  # the loop has closed: Herald is exiting
                return
            if not line:
                return

    async def next(self) -> str:
        """The next line, with its newline; "" at end of input."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._pump, args=(asyncio.get_running_loop(),), daemon=True)
            self._thread.start()
        return await self._queue.get()


_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}\Z")
_FULL = re.compile(r"^(slack|discord|email):[A-Za-z0-9@._+\-:]{1,120}\Z")


def _person(text: str) -> str:
    text = text.strip().lstrip("@")
    if text.startswith("shell:"):
        text = text[len("shell:") :]
    if _NAME.match(text):
        return f"shell:{text}"
    if _FULL.match(text):
        return text
    raise ValueError(
        f"“{text[:40]}” is not a person; use a shell name such as lead, or a full id such as slack:U0SUPPORT1."
    )
