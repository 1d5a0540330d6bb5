"""Release notes in the walkthrough: each group gets its sections, an empty group is a finding, never a blank message.

The plan reads a Keep a Changelog file next to it, or a GitHub release through a local fake
of GitHub's REST API; the notes read at announce time are kept with the release.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.forges.releases import ForgeClient
from bot.app.bootstrap import memory_storage, wire
from bot.app.settings import load_settings
from bot.domain.audit import Outcome
from bot.domain.commands import AnnounceRelease
from bot.domain.destinations import Platform
from bot.service.clock import FixedClock
from bot.service.planfile import parse_plan
from bot.service.ports import PlatformLink
from bot.service.ports.forges import ForgeReleases
from bot.service.views import CommuniqueView, ReleaseView, Reply
from storage.memory import MemoryStore
from tests.fakes import FakeDirectory, FakeMessenger
from tests.fakes.forges import FakeForges, fake_forges
from tests.service.conftest import World, notices

PLAN = '''
product = "Acme Cloud"

[access]
announcers = ["shell:deployer", "shell:dana"]

[notes]
source = "changelog:CHANGELOG.md"

[[group]]
id = "engineering"
to = ["shell:#engineering"]
ack = "optional"
message = """Acme Cloud {{ version }} is live (since {{ notes.previous_version }}).
{% for entry in notes.entries() %}
- {{ entry }}
{% endfor %}"""

[[group]]
id = "customers"
name = "Customers"
to = ["email:customers@example.com"]
ack = "none"
sections = ["Added", "Security"]
subject = "Acme Cloud {{ version }}: {{ group_notes | join(' and ') }}"
message = """Acme Cloud {{ version }} is out.
{% for section, entries in group_notes.items() %}

**{{ section }}**
{% for entry in entries %}
- {{ entry }}
{% endfor %}
{% endfor %}"""

[[group]]
id = "support"
to = ["shell:@sam"]
ack = "none"
message = "Acme Cloud {{ version }} is live."
'''

CHANGELOG = """# Changelog

## [2.4.1] - 2026-12-01

### Fixed

- A 500 on empty filters

## [2.4.0] - 2026-11-20

### Added

- SSO on every plan

### Security

- Patched CVE-2026-1234

[2.4.1]: https://example.com/acme/compare/v2.4.0...v2.4.1
[2.4.0]: https://example.com/acme/compare/v2.3.0...v2.4.0
"""
CONFIGURED = (Platform.SHELL, Platform.EMAIL)
EMPTY = (
    "2.4.1 has no Added or Security entries; skip this group (/release skip 2.4.1 customers REASON) "
    "or write the text (/release edit 2.4.1 customers TEXT)"
)


def a_world(
    folder: Path, plan: str = PLAN, *, store: MemoryStore | None = None, forges: ForgeReleases | None = None
) -> World:
    """Herald over the plan in ``folder`` (with its CHANGELOG.md), memory storage and fake platforms."""
    directory = FakeDirectory(members={"shell:#engineering": ("shell:alex", "shell:kim")})
    messenger = FakeMessenger()
    links = {p: PlatformLink(directory, messenger) for p in CONFIGURED}
    clock = FixedClock()
    the_store = store if store is not None else MemoryStore()
    storage = memory_storage(the_store)
    herald = wire(plan=parse_plan(plan, base_dir=folder), storage=storage, links=links, clock=clock, forges=forges)
    return World(herald, the_store, messenger, directory, clock)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    return tmp_path


def view_of(reply: Reply) -> ReleaseView:
    return next(v for v in reversed(reply.views) if isinstance(v, ReleaseView))


def checks_of(reply: Reply, group_id: str) -> dict[str, str]:
    """The failing blocking checks of a group's communiqué, by code."""
    shown = [v for v in reply.views if isinstance(v, CommuniqueView)]
    shown += [c for v in reply.views if isinstance(v, ReleaseView) for c in v.communiques]
    communique = next(c for c in shown if c.group_id == group_id)
    return {check.code: check.message for check in communique.checks if check.blocks}


async def test_each_group_gets_the_sections_it_picked(folder: Path) -> None:
    """Customers get Added and Security, under their names; engineering gets every entry."""
    world = a_world(folder)
    reply = await world.say("announce 2.4.0")
    texts = {c.group_id: c.text for c in view_of(reply).communiques}
    assert texts["customers"] == (
        "Acme Cloud 2.4.0 is out.\n\n**Added**\n- SSO on every plan\n\n**Security**\n- Patched CVE-2026-1234"
    )
    assert texts["engineering"] == (
        "Acme Cloud 2.4.0 is live (since 2.3.0).\n- SSO on every plan\n- Patched CVE-2026-1234"
    )
    assert checks_of(reply, "customers") == {}


async def test_a_group_whose_sections_are_all_empty_is_blocked_and_sends_nothing(folder: Path) -> None:
    """2.4.1 has only a fix: customers get the finding, cannot be approved, and the release cannot be sent."""
    world = a_world(folder)
    reply = await world.say("announce 2.4.1")
    assert checks_of(reply, "customers") == {"notes": EMPTY}
    assert (await world.say("approve 2.4.1 customers")).failed
    await world.say("confirm 2.4.1")
    approved = await world.say("approve 2.4.1 all")
    assert "Not approved, checks failing: customers." in notices(approved)[0]
    refused = await world.say("send 2.4.1")
    assert refused.failed
    assert f"customers: {EMPTY}" in notices(refused)[0]
    await world.herald.engine.run_until_idle()
    assert world.messenger.sent == []


async def test_skipping_the_empty_group_lets_the_rest_go_and_it_gets_nothing(folder: Path) -> None:
    """/release skip leaves customers out (audited, listed as skipped); the others are sent, customers nothing."""
    world = a_world(folder)
    await world.say("announce 2.4.1")
    reply = await world.say("skip 2.4.1 customers nothing customer-facing in a patch", actor="shell:dana")
    assert notices(reply) == ["Skipped customers: it gets nothing from Acme Cloud 2.4.1."]
    assert "customers is skipped: left out by dana: nothing customer-facing in a patch" in [
        check.message for check in view_of(reply).checks
    ]
    assert [c.group_id for c in view_of(reply).communiques] == ["engineering", "support"]
    assert [line.partition(":")[0] for line in view_of(reply).summary] == ["engineering", "support"]  # what a send does
    entry = world.store.audit[-1]
    assert (entry.actor, entry.action, entry.outcome) == ("shell:dana", "skip_group", Outcome.DONE)
    assert entry.detail == "customers: nothing customer-facing in a patch"
    for line in ("confirm 2.4.1", "approve 2.4.1 all", "send 2.4.1"):
        assert not (await world.say(line)).failed, line
    await world.herald.engine.run_until_idle()
    assert {m.group_id for m in world.messenger.sent} == {"engineering", "support"}
    assert all(d.group_id != "customers" for d in world.store.deliveries.values())


async def test_a_skip_is_refused_once_sending_began_and_the_refusal_is_audited(folder: Path) -> None:
    """After the send, skipping says why not, and the refusal is in the audit log."""
    world = a_world(folder)
    for line in ("announce 2.4.0", "confirm 2.4.0", "approve 2.4.0 all", "send 2.4.0"):
        assert not (await world.say(line)).failed, line
    reply = await world.say("skip 2.4.0 customers")
    assert notices(reply) == ["Release 2.4.0 is being sent; you cannot skip a group now."]
    assert world.store.audit[-1].outcome is Outcome.REFUSED


async def test_skipping_a_stranger_or_the_last_group_is_refused(folder: Path) -> None:
    """Only announcers and approvers skip; the last group is not skipped (cancelling is what tells nobody)."""
    world = a_world(folder)
    await world.say("announce 2.4.1")
    assert notices(await world.say("skip 2.4.1 customers", actor="shell:mallory")) == [
        "Only announcers and approvers can skip a group."
    ]
    await world.say("skip 2.4.1 customers")
    await world.say("skip 2.4.1 support")
    last = await world.say("skip 2.4.1 engineering")
    assert notices(last) == [
        "engineering is the last group 2.4.1 reaches; to tell nobody, cancel it instead (/release cancel 2.4.1)."
    ]


async def test_writing_the_text_by_hand_clears_the_finding(folder: Path) -> None:
    """An edited text is the person's: the empty-sections finding no longer applies, and it can be approved."""
    world = a_world(folder)
    await world.say("announce 2.4.1")
    reply = await world.say("edit 2.4.1 customers Acme Cloud 2.4.1 fixes a bug some of you reported.")
    assert "notes" not in checks_of(reply, "customers")
    assert not (await world.say("approve 2.4.1 customers")).failed


async def test_the_notes_are_kept_with_the_release_for_later_renders(folder: Path) -> None:
    """The subject is rendered at send time, in another process, from the notes kept when it was announced."""
    world = a_world(folder)
    for line in ("announce 2.4.0", "confirm 2.4.0", "approve 2.4.0 all"):
        assert not (await world.say(line)).failed, line
    kept = world.store.releases["2.4.0"].notes
    assert kept is not None
    assert kept.url == "https://example.com/acme/compare/v2.3.0...v2.4.0"
    (folder / "CHANGELOG.md").write_text("# Changelog\n", encoding="utf-8")  # the file moved on since
    other = a_world(folder, store=world.store)  # another Herald process over the same ledger
    assert not (await other.say("send 2.4.0")).failed
    await other.herald.engine.run_until_idle()
    mail = next(m for m in other.messenger.sent if m.group_id == "customers")
    assert mail.subject == "Acme Cloud 2.4.0: Added and Security"
    assert "SSO on every plan" in mail.text


async def test_notes_that_cannot_be_read_fail_only_the_communiques_that_use_them(folder: Path) -> None:
    """2.5.0 is not in the changelog: engineering and customers say why in one sentence; support renders."""
    world = a_world(folder)
    reply = await world.say("announce 2.5.0")
    sentence = "notes: CHANGELOG.md has no section for 2.5.0 (its newest is 2.4.1)"
    assert checks_of(reply, "engineering") == {
        "rendered": f"the template did not render: group 'engineering' message: {sentence}"
    }
    said = sentence.removeprefix("notes: ")  # the check's code says "notes"
    assert checks_of(reply, "customers")["notes"].startswith(f"{said}; skip this group")
    assert checks_of(reply, "support") == {}
    assert [c.message for c in view_of(reply).checks if c.code == "notes"] == [said]


async def test_announcing_again_reads_the_notes_that_could_not_be_read(folder: Path) -> None:
    """Once 2.5.0's section is written, /release announce 2.5.0 again reads it and renders those communiqués anew."""
    world = a_world(folder)
    await world.say("announce 2.5.0")
    text = CHANGELOG.replace("## [2.4.1]", "## [2.5.0] - 2026-12-08\n\n### Added\n\n- Audit log export\n\n## [2.4.1]")
    (folder / "CHANGELOG.md").write_text(text, encoding="utf-8")
    reply = await world.say("announce 2.5.0")
    assert checks_of(reply, "engineering") == {}
    assert checks_of(reply, "customers") == {}
    texts = {c.group_id: c.text for c in view_of(reply).communiques}
    assert texts["customers"] == "Acme Cloud 2.5.0 is out.\n\n**Added**\n- Audit log export"
    assert world.store.audit[-1].detail == (
        "resumed; notes read again from changelog:CHANGELOG.md, rendered engineering, customers again"
    )


async def test_notes_handed_over_replace_the_plans_source(folder: Path) -> None:
    """A pipeline's notes (herald announce --notes) are used instead of the changelog."""
    world = a_world(folder)
    given = "### Security\n- Rotated every signing key\n"
    await world.do(AnnounceRelease(actor="shell:deployer", version="2.4.1", notes=given))
    release = world.store.releases["2.4.1"]
    assert release.notes is not None
    assert release.notes.origin == "the notes given with the announcement"
    assert release.communiques["customers"].text == (
        "Acme Cloud 2.4.1 is out.\n\n**Security**\n- Rotated every signing key"
    )


async def test_a_whole_changelog_handed_over_gives_the_versions_section(folder: Path) -> None:
    """herald announce 2.4.0 --notes CHANGELOG.md: the 2.4.0 section is taken, with its link."""
    world = a_world(folder)
    await world.do(AnnounceRelease(actor="shell:deployer", version="2.4.0", notes=CHANGELOG))
    release = world.store.releases["2.4.0"]
    assert release.notes is not None
    assert release.notes.url == "https://example.com/acme/compare/v2.3.0...v2.4.0"
    assert "2.4.1" not in release.notes.text
    assert release.communiques["customers"].text.endswith("**Security**\n- Patched CVE-2026-1234")


GITHUB_PLAN = PLAN.replace('source = "changelog:CHANGELOG.md"', 'source = "github:acme/api"')


@pytest.fixture
async def forges() -> AsyncIterator[FakeForges]:
    async with fake_forges() as served:
        yield served


async def test_a_github_release_is_read_through_the_api(folder: Path, forges: FakeForges) -> None:
    """The release tagged v2.4.0 on (a fake of) GitHub gives the notes and their URL."""
    forges.release_on_github("acme/api", "v2.4.0", "## What's Changed\n* feat: SSO by @dana in #1\n")
    settings = load_settings({"GITHUB_API_URL": forges.github_url}, env_file=None)
    world = a_world(folder, GITHUB_PLAN, forges=ForgeClient(settings.forges))
    reply = await world.say("announce 2.4.0")
    assert checks_of(reply, "customers") == {}
    kept = world.store.releases["2.4.0"].notes
    assert kept is not None
    assert kept.url == "https://github.com/acme/api/releases/tag/v2.4.0"
    assert "release notes from github:acme/api v2.4.0: Added 1" in [c.message for c in view_of(reply).checks]


async def test_a_missing_github_release_is_a_sentence_not_a_crash(folder: Path, forges: FakeForges) -> None:
    """No release tagged v2.4.1: the communiqués that use the notes say so; the announcement itself goes on."""
    settings = load_settings({"GITHUB_API_URL": forges.github_url}, env_file=None)
    world = a_world(folder, GITHUB_PLAN, forges=ForgeClient(settings.forges))
    reply = await world.say("announce 2.4.1")
    assert not reply.failed
    sentence = "notes: GitHub has no release tagged v2.4.1 in acme/api (404; a private project also needs GITHUB_TOKEN)"
    assert checks_of(reply, "engineering")["rendered"].endswith(sentence)
    assert checks_of(reply, "support") == {}
    assert world.store.audit[-1].detail.endswith(f"notes: {sentence}")


FILE_PLAN = PLAN.replace('source = "changelog:CHANGELOG.md"', 'source = "file:notes/{version}.md"')


async def test_a_file_per_release_and_the_version_before_from_the_ledger(folder: Path) -> None:
    """file:notes/{version}.md: a missing file is a sentence; the version before comes from the ledger."""
    world = a_world(folder, FILE_PLAN)
    first = await world.say("announce 2.4.0")
    missing = world.store.releases["2.4.0"].notes
    assert missing is not None
    assert missing.problem == (
        f"notes: the notes file notes/2.4.0.md does not exist next to the plan ({folder / 'notes' / '2.4.0.md'})"
    )
    assert checks_of(first, "support") == {}
    (folder / "notes").mkdir()
    (folder / "notes" / "2.4.1.md").write_text("### Security\n- Patched CVE-2026-4321\n", encoding="utf-8")
    second = await world.say("announce 2.4.1")
    texts = {c.group_id: c.text for c in view_of(second).communiques}
    assert texts["engineering"] == "Acme Cloud 2.4.1 is live (since 2.4.0).\n- Patched CVE-2026-4321"
