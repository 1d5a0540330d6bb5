"""The plan's ``[people]`` directory: one person reached on two media is expected, and acknowledges, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app.bootstrap import Herald, Storage, memory_storage, open_storage, wire
from bot.app.settings import load_settings
from bot.domain.commands import Acknowledge, parse_release_command
from bot.domain.delivery import Delivery, Purpose
from bot.domain.destinations import Platform
from bot.domain.receipt import ReceiptSource
from bot.service.clock import FixedClock
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from bot.service.views import GroupStatus, ReleaseView, Reply
from tests.fakes import FakeDirectory, FakeMessenger

PLAN = """
product = "Acme Cloud"

[access]
announcers = ["shell:deployer"]
approvers = ["shell:lead"]

[people.alice]
slack = "U0ALICE"
email = "Alice@Example.com"
name = "Alice Example"

[[group]]
id = "support"
name = "Customer Support"
to = ["slack:@U0ALICE", "email:alice@example.com"]
ack_within = "2h"
remind_every = "30m"
message = "Support: Acme Cloud {{ version }} is live."

[[group]]
id = "engineering"
name = "Engineering"
to = ["shell:@sam", "email:alice@example.com"]
ack = "optional"
message = "Acme Cloud {{ version }} is live."
"""


@dataclass
class Desk:
    """A Herald over one storage, Slack, the shell and e-mail faked."""

    herald: Herald
    storage: Storage
    messenger: FakeMessenger
    clock: FixedClock

    async def say(self, text: str, actor: str = "shell:deployer") -> Reply:
        """Type a /release command as ``actor``."""
        return await self.herald.desk.handle(parse_release_command(text, actor))

    async def deliveries(self) -> dict[tuple[str, str], Delivery]:
        """The communiqué deliveries of 2.4, by group and target."""
        async with self.storage.uow() as uow:
            found = await uow.deliveries.for_release("2.4")
        return {(d.group_id, d.target): d for d in found if d.purpose is Purpose.COMMUNIQUE}

    async def group(self, group_id: str) -> GroupStatus:
        """The status of one group of 2.4."""
        status = await self.herald.desk.status("2.4")
        return next(g for g in status.groups if g.id == group_id)

    async def acknowledge(self, actor: str, delivery: Delivery) -> Reply:
        """``actor`` acknowledges the message ``delivery`` was sent as."""
        ack = Acknowledge(actor=actor, message_ref=delivery.message_ref or "", source=ReceiptSource.BUTTON)
        return await self.herald.desk.handle(ack)


@pytest.fixture(params=["memory", "sqlite"])
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    if request.param == "memory":
        storage = memory_storage()
    else:
        settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/herald.db"}, env_file=None)
        storage = await open_storage(settings, migrate=True)
    messenger = FakeMessenger()
    links = {p: PlatformLink(FakeDirectory(), messenger) for p in (Platform.SLACK, Platform.SHELL, Platform.EMAIL)}
    clock = FixedClock()
    herald = wire(plan=parse_plan(PLAN), storage=storage, links=links, clock=clock)
    try:
        yield Desk(herald, storage, messenger, clock)
    finally:
        await storage.close()


async def _sent(desk: Desk) -> dict[tuple[str, str], Delivery]:
    for line in ("announce 2.4", "confirm 2.4", "approve 2.4 all", "send 2.4"):
        assert not (await desk.say(line)).failed, line
    assert not (await desk.say("approve 2.4", actor="shell:lead")).failed
    await desk.herald.engine.run_until_idle()
    return await desk.deliveries()


async def test_the_walkthrough_expects_a_person_on_two_media_once(desk: Desk) -> None:
    """The send summary counts Alice's Slack DM and mailbox as one person expected to acknowledge."""
    reply = await desk.say("announce 2.4")
    view = next(v for v in reply.views if isinstance(v, ReleaseView))
    assert "Customer Support: 1 DM, 1 e-mail, 1 people expected to acknowledge" in view.summary


async def test_a_person_on_two_media_gets_both_messages_and_is_expected_once(desk: Desk) -> None:
    """Alice gets the communiqué by Slack and by e-mail, and counts once in expected."""
    sent = await _sent(desk)
    assert sorted(target for group, target in sent if group == "support") == [
        "email:alice@example.com",
        "slack:@U0ALICE",
    ]
    assert all(d.message_ref for d in sent.values())
    support = await desk.group("support")
    assert (support.sent, support.acknowledged, support.expected) == (2, 0, 1)


async def test_her_mailbox_acknowledgement_counts_for_both_media(desk: Desk) -> None:
    """Acknowledging by e-mail counts Alice once; her later Slack acknowledgement is already recorded."""
    sent = await _sent(desk)

    by_mail = await desk.acknowledge("email:Alice@Example.com", sent["support", "email:alice@example.com"])
    assert by_mail.recorded is True
    support = await desk.group("support")
    assert (support.acknowledged, support.expected, support.not_acknowledged) == (1, 1, ())

    on_slack = await desk.acknowledge("slack:U0ALICE", sent["support", "slack:@U0ALICE"])
    assert on_slack.recorded is False
    support = await desk.group("support")
    assert (support.acknowledged, support.expected, support.outside) == (1, 1, 0)


async def test_the_mails_acknowledgement_link_acknowledges_her_for_both_media(desk: Desk) -> None:
    """The link in Alice's mail acknowledges as Alice; the Slack DM then finds her acknowledgement recorded."""
    sent = await _sent(desk)
    mail = sent["support", "email:alice@example.com"]
    link = await desk.herald.desk.ack_link(mail.message_ref or "")
    ack = Acknowledge(
        actor=link.person, message_ref="", delivery_key=link.delivery_key, source=ReceiptSource.LINK, with_tally=False
    )
    assert (await desk.herald.desk.handle(ack)).recorded is True

    assert (await desk.acknowledge("slack:U0ALICE", sent["support", "slack:@U0ALICE"])).recorded is False
    assert (await desk.herald.desk.ack_link(mail.message_ref or "")).acknowledged is True
    support = await desk.group("support")
    assert (support.acknowledged, support.expected) == (1, 1)


async def test_status_names_the_people_the_directory_names(desk: Desk) -> None:
    """Who has not acknowledged is Alice by her name; someone unlisted stays their id."""
    await _sent(desk)
    support = await desk.group("support")
    engineering = await desk.group("engineering")
    assert support.not_acknowledged == ("Alice Example",)
    assert engineering.not_acknowledged == ("shell:sam", "Alice Example")
    assert engineering.expected == 2


async def test_she_is_reminded_once_at_her_first_listed_id(desk: Desk) -> None:
    """Alice, waited for on Slack and by e-mail, gets one reminder, by Slack (her first listed id)."""
    await _sent(desk)
    desk.clock.advance(timedelta(minutes=30))
    await desk.herald.reminders.sweep()
    await desk.herald.engine.run_until_idle()
    assert [m.target for m in desk.messenger.sent if m.purpose is Purpose.REMINDER] == ["slack:@U0ALICE"]


@pytest.mark.parametrize(
    ("person", "counted_as"),
    [
        ("email:alice@example.com", "slack:U0ALICE"),
        ("email:ALICE@example.com", "slack:U0ALICE"),
        ("slack:U0ALICE", "slack:U0ALICE"),
        ("shell:sam", "shell:sam"),
        ("email:Bob@Example.com", "email:Bob@Example.com"),
    ],
)
def test_a_person_is_counted_by_their_first_listed_id(person: str, counted_as: str) -> None:
    """Any of Alice's ids (a mailbox in any case) stands for her first listed one; an unlisted id for itself."""
    assert parse_plan(PLAN).people.canonical(person) == counted_as
