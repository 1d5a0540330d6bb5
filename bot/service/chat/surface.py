"""The port a chat platform gives the walkthrough: where its messages go and how they are redrawn.

A ``Surface`` knows its platform's widgets and nothing of the flow: it posts the release's
message and a thread under it, posts and redraws one message per communiqué, and redraws a
delivered copy with its count. Which message shows what, when it is redrawn and what a
press does is ``ChatFlow``'s (``bot/service/chat/flow.py``), the same on every platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.service.ports import OutgoingMessage
from bot.service.views import CommuniqueView, HelpView, ReleaseView, Reply, StatusView


@dataclass(frozen=True, slots=True)
class Thread:
    """Where a walkthrough was posted: the release's own message, and the room its communiqués go in."""

    parent: str  # the release message's reference
    room: str  # the platform's handle for the thread (a Slack parent ts, a Discord thread channel)


class Surface(Protocol):
    """One chat platform's messages, as the walkthrough uses them."""

    @property
    def name(self) -> str:
        """The platform, as people call it ("Slack")."""
        ...

    @property
    def post_hint(self) -> str:
        """What to grant Herald when it may not post the walkthrough where it was asked."""
        ...

    def owns(self, ref: str) -> bool:
        """Whether ``ref`` is a message on this platform."""
        ...

    def place(self, ref: str) -> str:
        """How people see where message ``ref`` is (a channel mention), for a sentence."""
        ...

    def mention_people(self, text: str) -> str:
        """``text`` with Herald's person ids (``slack:U…``) written as the platform mentions people."""
        ...

    async def open_thread(self, channel: str, view: ReleaseView) -> Thread:
        """Post the release's message in ``channel`` and open the thread its communiqués go in."""
        ...

    async def post_communique(self, thread: Thread, view: CommuniqueView) -> str:
        """Post one communiqué for review in the thread; its message reference."""
        ...

    async def draw_release(self, ref: str, view: ReleaseView, status: StatusView) -> None:
        """Redraw the release's message: where it stands, its buttons, the live counts."""
        ...

    async def draw_communique(self, ref: str, view: CommuniqueView) -> None:
        """Redraw one communiqué's message in the thread."""
        ...

    async def draw_copy(self, ref: str, message: OutgoingMessage, tally: str) -> None:
        """Redraw a delivered channel copy with its own count of acknowledgements."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of a command or a press, for the person who acted (privately).

    ``text`` is what the desk said, people written as the platform mentions them; ``tell``
    says whether it is worth a message where a platform may stay quiet (a click whose
    effect shows in the redrawn thread is not).
    """

    reply: Reply
    text: str
    tell: bool = True
    failed_to_post: bool = False  # the walkthrough could not be posted: ``text`` says what to grant

    @property
    def failed(self) -> bool:
        """Whether it was refused (or could not be shown)."""
        return self.reply.failed or self.failed_to_post

    @property
    def status(self) -> StatusView | None:
        """The status asked for, if any."""
        return next((v for v in self.reply.views if isinstance(v, StatusView)), None)

    @property
    def help(self) -> HelpView | None:
        """The help asked for, if any."""
        return next((v for v in self.reply.views if isinstance(v, HelpView)), None)
