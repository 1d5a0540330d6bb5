"""The walkthrough in chat, once for every platform: a flow over a fake surface.

Slack's and Discord's front doors and the shell only translate their payloads into these
calls and draw on their ``Surface``; what is posted, what is redrawn and what a person is
told is decided here, so one test of the flow covers all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.domain.communique import ReviewState
from bot.domain.errors import PermanentDeliveryError, RateLimited
from bot.domain.receipt import ReceiptSource
from bot.domain.release import ReleaseState
from bot.service.actions import Act
from bot.service.chat.flow import ChatFlow
from bot.service.chat.surface import Thread
from bot.service.ports import OutgoingMessage
from bot.service.views import CommuniqueView, ReleaseView, StatusView
from tests.service.conftest import World


@dataclass
class FakeSurface:
    """A chat platform that keeps what it was asked to post and draw (refs ``fake:ROOM:N``)."""

    name: str = "Fake"
    post_hint: str = "Invite Herald to the room"
    refuse: Exception | None = None  # raised by the next post
    posted: list[tuple[str, str]] = field(default_factory=list)  # (ref, what)
    drawn: list[tuple[str, str]] = field(default_factory=list)  # (ref, what, as drawn)

    def owns(self, ref: str) -> bool:
        return ref.startswith("fake:")

    def place(self, ref: str) -> str:
        return f"<#{ref.split(':')[1]}>"

    def mention_people(self, text: str) -> str:
        return text.replace("shell:", "@")

    def _post(self, room: str, what: str) -> str:
        if self.refuse is not None:
            raise self.refuse
        ref = f"fake:{room}:{len(self.posted) + 1}"
        self.posted.append((ref, what))
        return ref

    async def open_thread(self, channel: str, view: ReleaseView) -> Thread:
        ref = self._post(channel, f"release {view.version}")
        return Thread(parent=ref, room=f"fake:thread-{channel}")

    async def post_communique(self, thread: Thread, view: CommuniqueView) -> str:
        return self._post(thread.room.split(":")[1], f"{view.group_id} r{view.revision} {view.review.value}")

    async def draw_release(self, ref: str, view: ReleaseView, status: StatusView) -> None:
        shown = ",".join(f"{g.id}={g.acknowledged}/{g.expected}" for g in status.groups)
        self.drawn.append((ref, f"release {view.state.value} {shown}"))

    async def draw_communique(self, ref: str, view: CommuniqueView) -> None:
        self.drawn.append((ref, f"{view.group_id} r{view.revision} {view.review.value}"))

    async def draw_copy(self, ref: str, message: OutgoingMessage, tally: str) -> None:
        self.drawn.append((ref, f"copy {tally}"))


@pytest.fixture
def surface() -> FakeSurface:
    return FakeSurface()


@pytest.fixture
def flow(world: World, surface: FakeSurface) -> ChatFlow:
    return ChatFlow(world.herald.desk, surface, redraw_every=0.0)


async def test_announce_posts_the_release_and_each_communique_once(flow: ChatFlow, surface: FakeSurface) -> None:
    """The thread is posted once; announcing again points to it and redraws it instead."""
    outcome = await flow.command("shell:deployer", "announce 2.4", "C1")
    assert not outcome.failed
    assert outcome.text == "Release 2.4: the walkthrough is in <#thread-C1>. Approve each communiqué there, then Send."
    assert [what for _, what in surface.posted] == ["release 2.4", "engineering r1 pending", "support r1 pending"]
    again = await flow.command("shell:dana", "announce 2.4", "C2")
    assert again.text == "Release 2.4 is already being announced in <#C1>; it is up to date there."
    await flow.flush()
    assert len(surface.posted) == 3  # nothing posted twice
    assert {ref for ref, _ in surface.drawn} == {ref for ref, _ in surface.posted}  # everything redrawn instead


async def test_a_press_redraws_its_communique_and_tells_only_what_the_thread_does_not_show(
    flow: ChatFlow, surface: FakeSurface
) -> None:
    """Approve shows in the redrawn message (nothing said); Confirm and Send are worth a word."""
    await flow.command("shell:deployer", "announce 2.4", "C1")
    approved = await flow.press("shell:deployer", Act.APPROVE, "2.4", "engineering")
    assert not approved.failed
    assert not approved.tell
    await flow.flush()
    assert ("fake:thread-C1:2", "engineering r1 approved") in surface.drawn
    assert not [what for ref, what in surface.drawn if ref == "fake:thread-C1:3"]  # support was not touched
    confirmed = await flow.press("shell:deployer", Act.CONFIRM, "2.4")
    assert confirmed.tell
    assert not confirmed.failed
    refused = await flow.press("shell:deployer", Act.SEND, "2.4")  # support is not approved yet
    assert refused.failed
    assert refused.tell
    assert "still to approve: support" in refused.text


async def test_edit_and_send_back_ask_for_their_text_first(flow: ChatFlow, world: World) -> None:
    """An empty edit or reason is refused before the desk; a reason is kept on one line."""
    await flow.command("shell:deployer", "announce 2.4", "C1")
    empty = await flow.press("shell:deployer", Act.EDIT, "2.4", "support", "  \n ")
    assert empty.failed
    assert empty.text == "A communiqué cannot be empty; nothing was changed."
    no_reason = await flow.press("shell:lead", Act.REJECT, "2.4", "support", "")
    assert no_reason.failed
    assert "Say what must change" in no_reason.text
    back = await flow.press("shell:lead", Act.REJECT, "2.4", "support", "Name the\n  maintenance   window.")
    assert not back.failed
    communique = world.store.releases["2.4"].communiques["support"]
    assert communique.review is ReviewState.SENT_BACK
    assert communique.note == "Name the maintenance window."


async def test_a_press_that_lost_its_communique_is_refused_in_a_sentence(flow: ChatFlow) -> None:
    """A communiqué's button without its group (an old message) changes nothing."""
    await flow.command("shell:deployer", "announce 2.4", "C1")
    outcome = await flow.press("shell:deployer", Act.APPROVE, "2.4", None)
    assert outcome.failed
    assert outcome.text == "That message is no longer part of release 2.4's walkthrough."


@pytest.mark.parametrize(
    ("refusal", "said"),
    [
        (PermanentDeliveryError("not_in_channel"), "Herald cannot post the walkthrough here (not_in_channel). "),
        (RateLimited("slow down", retry_after=7.0), "Fake asked Herald to wait 7s before posting here"),
    ],
)
async def test_a_thread_that_cannot_be_posted_says_why_and_can_be_posted_later(
    flow: ChatFlow, surface: FakeSurface, world: World, refusal: Exception, said: str
) -> None:
    """The release is announced but not placed; the next announce posts the thread."""
    surface.refuse = refusal
    outcome = await flow.command("shell:deployer", "announce 2.4", "C1")
    assert outcome.failed
    assert outcome.text.startswith(said)
    assert world.store.releases["2.4"].thread is None
    surface.refuse = None
    retried = await flow.command("shell:deployer", "announce 2.4", "C1")
    assert "the walkthrough is in" in retried.text
    assert world.store.releases["2.4"].thread == "fake:C1:1"


async def test_a_walkthrough_on_another_platform_is_not_redrawn_here(
    flow: ChatFlow, surface: FakeSurface, world: World
) -> None:
    """Two platforms share one ledger: each redraws only its own messages."""
    other = ChatFlow(world.herald.desk, FakeSurface(name="Other"), redraw_every=0.0)
    await other.command("shell:deployer", "announce 2.4", "C9")
    world.store.releases["2.4"].thread = "other:C9:1"  # as if the other platform's
    await flow.command("shell:deployer", "confirm 2.4")
    await flow.flush()
    assert surface.drawn == []
    assert surface.posted == []
    again = await flow.command("shell:deployer", "announce 2.4", "C1")
    assert again.text == "Release 2.4 is already being announced in Other; it is up to date there."


async def test_without_a_surface_each_reply_is_shown_as_it_comes(world: World) -> None:
    """The shell has no thread: announcing shows the walkthrough in the reply and posts nothing."""
    flow = ChatFlow(world.herald.desk, None)
    outcome = await flow.command("shell:deployer", "announce 2.4", "terminal")
    assert not outcome.failed
    assert any(isinstance(v, ReleaseView) for v in outcome.reply.views)
    assert world.store.releases["2.4"].thread is None
    typo = await flow.command("shell:deployer", "anounce 2.4")
    assert typo.failed
    assert "anounce" in typo.text


async def test_receipts_redraw_the_release_counts(flow: ChatFlow, surface: FakeSurface, world: World) -> None:
    """An acknowledgement is recorded once and the release message shows the new count."""
    await flow.command("shell:deployer", "announce 2.4", "C1")
    await world.ready_to_send()
    await flow.press("shell:deployer", Act.SEND, "2.4")
    final = await flow.press("shell:lead", Act.FINAL, "2.4")  # four eyes
    assert final.tell
    assert not final.failed
    await world.herald.engine.run_until_idle()
    assert world.store.releases["2.4"].state in (ReleaseState.SENDING, ReleaseState.SENT)
    dm = next(d for d in world.store.deliveries.values() if d.target == "shell:@sam")
    first = await flow.acknowledge("shell:sam", dm.message_ref or "", ReceiptSource.BUTTON)
    second = await flow.acknowledge("shell:sam", dm.message_ref or "", ReceiptSource.REACTION)
    assert first.reply.recorded is True
    assert second.reply.recorded is False
    await flow.flush()
    assert surface.drawn[-1][1].startswith("release ")
    assert "support=1/" in surface.drawn[-1][1]
