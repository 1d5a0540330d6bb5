"""The plan file's schema: one pydantic model per TOML table, holding the domain's values.

Each field names its TOML type and its rule (the types are in ``values.py``). The models
are strict (``"yes"`` is not ``true``) and refuse unknown keys; ``errors.py`` tells their
validation errors as Herald's problems. The rules that span fields or groups are in
``rules.py``, because pydantic skips a model's validators once one of its fields is
wrong, and the plan check reports every problem in one pass.

``PlanFile.to_plan`` turns a valid file into the domain's ``Plan``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PlainValidator, Tag

from bot.domain.fallback import FallbackStep, Medium, parse_medium
from bot.domain.notes import DEFAULT_TAG
from bot.domain.order import OnTimeout, ReceiptGate
from bot.domain.plan import DEFAULT_SUBJECT, AckPolicy, Group, Plan, ReceiptLevel, ReleaseLevel, Sender, Versioning
from bot.service.planfile.notes import NotesSourceValue, SectionNames, TagTemplate
from bot.service.planfile.people import PersonKey, PersonTable, to_people
from bot.service.planfile.values import (
    Ack,
    Acknowledged,
    AfterName,
    AnnounceFor,
    Announcer,
    Destinations,
    DiscordAvatar,
    DiscordUsername,
    DiscordWebhook,
    Duration,
    EmailFrom,
    EscalateTo,
    GroupId,
    MessageFile,
    Moment,
    Person,
    Require,
    SlackIcon,
    SlackUsername,
    Subject,
    Template,
    Text,
    VarName,
    VarsFile,
    VarValue,
    VersioningScheme,
    WhenTimedOut,
    filled,
)

_ANNOUNCERS = filled(
    "is required; name at least one person who may announce", "is empty; name at least one person who may announce"
)
_SOMEWHERE = filled("has no destinations; a group must be sent somewhere")
_SOME_GROUP = filled("no [[group]] is defined; a plan needs at least one stakeholder group")


class _Table(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AccessTable(_Table):
    """``[access]``: who may announce, approve, and see who has acknowledged."""

    announcers: Annotated[list[Announcer], _ANNOUNCERS] = Field(default=None, validate_default=True)
    approvers: list[Person] = Field(default_factory=list)
    viewers: list[Person] = Field(default_factory=list)
    # Who may act for which groups only (``rules.py`` checks the people and the groups exist).
    scopes: dict[Announcer, list[GroupId]] = Field(default_factory=dict)


class DefaultsTable(_Table):
    """``[defaults]``: what a group asks of its readers, and who it comes from, when it says nothing itself."""

    ack: Ack = AckPolicy.REQUIRED
    ack_within: Duration = timedelta(hours=24)
    remind_every: Duration = timedelta(hours=4)
    ack_link_valid_for: Duration = timedelta(days=30)
    email_from: EmailFrom | None = Field(default=None, alias="from")  # ``from`` is a Python keyword
    slack_username: SlackUsername | None = None
    slack_icon: SlackIcon | None = None


class ReleasesTable(_Table):
    """``[releases]``: where each release's own values are kept."""

    vars_file: VarsFile | None = None


class NotesTable(_Table):
    """``[notes]``: where each release's own notes are read (``rules.py`` checks ``tag`` suits the source)."""

    source: NotesSourceValue
    tag: TagTemplate = DEFAULT_TAG


class AfterTable(_Table):
    """One table of a group's ``after``: wait for that group's receipts, not only for its sending."""

    group: Text
    acknowledged: Acknowledged
    timeout: Duration | None = None
    on_timeout: WhenTimedOut = OnTimeout.SEND

    def to_gate(self) -> ReceiptGate:
        """The domain's receipt gate."""
        return ReceiptGate(
            group=self.group, acknowledged=self.acknowledged, timeout=self.timeout, on_timeout=self.on_timeout
        )


class CorrectionsTable(_Table):
    """A group's ``corrections``: how a correction of its communiqué, once sent, is made known."""

    notify: bool = False  # chat copies, edited in place, also get a short notice below (as mail always does)


class FallbackTable(_Table):
    """One step of a group's ``fallback``: who still waits ``after`` the group was asked gets it on ``to``."""

    after: Duration
    to: Annotated[Medium, PlainValidator(parse_medium)]

    def to_step(self) -> FallbackStep:
        """The domain's fallback step."""
        return FallbackStep(after=self.after, to=self.to)


def _after_form(value: object) -> str:
    return AFTER_TABLE if isinstance(value, dict) else "name"


AFTER_TABLE = "table"
"""The tag pydantic puts in the path of a problem inside one of ``after``'s tables."""
After = Annotated[
    Annotated[str, AfterName, Tag("name")] | Annotated[AfterTable, Tag(AFTER_TABLE)], Discriminator(_after_form)
]
"""One entry of ``after``: a group id (wait for its sending) or a table (wait for its receipts)."""


class GroupTable(_Table):
    """One ``[[group]]``, its fields in the order their problems are listed."""

    id: GroupId
    name: Text | None = None
    to: Annotated[Destinations, _SOMEWHERE] = Field(default=None, validate_default=True)
    escalate_to: EscalateTo = Field(default_factory=list)
    after: list[After] = Field(default_factory=list)
    message: Template | None = None
    message_file: MessageFile | None = None
    allow_broadcast_mentions: bool = False
    ack: Ack | None = None  # None: as [defaults] says
    announce_for: AnnounceFor = ReleaseLevel.PATCH  # the smallest release this group hears of
    prereleases: bool = True  # whether it hears of pre-releases
    components: list[GroupId] = Field(default_factory=list)  # set: it hears only of releases of these
    require: Require | None = None  # what completes a reader (None: acknowledged, when ack asks for receipts)
    ack_within: Duration | None = None
    remind_every: Duration | None = None
    ack_link_valid_for: Duration | None = None
    send_at: Moment | None = None
    send_after: Duration | None = None
    subject: Subject = DEFAULT_SUBJECT
    read_receipt: bool = False
    email_from: EmailFrom | None = Field(default=None, alias="from")
    slack_username: SlackUsername | None = None
    slack_icon: SlackIcon | None = None
    # A group's own only: a webhook posts in its one channel (``rules.py`` checks the group has it).
    discord_webhook: DiscordWebhook | None = None
    discord_username: DiscordUsername | None = None
    discord_avatar: DiscordAvatar | None = None
    corrections: CorrectionsTable = Field(default_factory=CorrectionsTable)
    announcers: list[Announcer] = Field(default_factory=list)  # set: only they (and approvers) act for it
    fallback: list[FallbackTable] = Field(default_factory=list)  # ``rules.py`` checks the steps reach someone
    sections: SectionNames = ()  # the notes' sections its template is about (``rules.py``: needs [notes])

    def to_group(self, defaults: DefaultsTable) -> Group:
        """The domain's group, taking from ``defaults`` what this table leaves out."""
        if self.message_file is not None:
            template, template_name = self.message_file.text, self.message_file.path
        else:  # rules.py has seen to it that exactly one of the two is given
            template, template_name = self.message or "", f"group {self.id!r} message"
        return Group(
            id=self.id,
            name=self.name or self.id,
            to=tuple(self.to),
            template=template,
            template_name=template_name,
            ack=defaults.ack if self.ack is None else self.ack,
            ack_within=defaults.ack_within if self.ack_within is None else self.ack_within,
            remind_every=defaults.remind_every if self.remind_every is None else self.remind_every,
            escalate_to=tuple(self.escalate_to),
            after=tuple(entry if isinstance(entry, str) else entry.group for entry in self.after),
            gates=tuple(entry.to_gate() for entry in self.after if isinstance(entry, AfterTable)),
            allow_broadcast_mentions=self.allow_broadcast_mentions,
            send_at=self.send_at,
            send_after=self.send_after,
            subject=self.subject,
            read_receipt=self.read_receipt,
            ack_link_valid_for=(
                defaults.ack_link_valid_for if self.ack_link_valid_for is None else self.ack_link_valid_for
            ),
            sender=self._sender(defaults),
            notify_corrections=self.corrections.notify,
            announcers=frozenset(self.announcers),
            fallback=tuple(step.to_step() for step in self.fallback),
            require=self.require or ReceiptLevel.ACKNOWLEDGED,
            announce_for=self.announce_for,
            prereleases=self.prereleases,
            components=frozenset(self.components),
            sections=self.sections,
        )

    def _sender(self, defaults: DefaultsTable) -> Sender | None:
        """Who this group's messages come from, each key left out taken from ``defaults`` (None: nobody named)."""
        sender = Sender(
            email_from=self.email_from or defaults.email_from,
            username=self.slack_username or defaults.slack_username,
            icon=self.slack_icon or defaults.slack_icon,
            discord_webhook=self.discord_webhook,
            discord_username=self.discord_username,
            discord_avatar=self.discord_avatar,
        )
        return None if sender == Sender() else sender


class PlanFile(_Table):
    """A whole plan file, its tables in the order their problems are listed."""

    product: Text
    versioning: VersioningScheme = Versioning.SEMVER  # how announce_for compares versions
    access: AccessTable = Field(default_factory=dict, validate_default=True)  # checked even when left out
    people: dict[PersonKey, PersonTable] = Field(default_factory=dict)
    defaults: DefaultsTable = Field(default_factory=DefaultsTable)
    vars: dict[VarName, VarValue] = Field(default_factory=dict)
    releases: ReleasesTable = Field(default_factory=ReleasesTable)
    notes: NotesTable | None = None  # where each release's own notes are read
    group: Annotated[list[GroupTable], _SOME_GROUP] = Field(default=None, validate_default=True)

    def to_plan(self, *, source: str, base_dir: str, text: str | None = None) -> Plan:
        """The domain's plan, remembering the file it came from, the folder its paths start in and its text."""
        return Plan(
            product=self.product,
            announcers=frozenset(self.access.announcers),
            approvers=frozenset(self.access.approvers),
            viewers=frozenset(self.access.viewers),
            people=to_people(self.people),
            scopes={person: frozenset(groups) for person, groups in self.access.scopes.items()},
            versioning=self.versioning,
            groups=tuple(group.to_group(self.defaults) for group in self.group),
            vars=dict(self.vars),
            vars_file=self.releases.vars_file,
            notes=replace(self.notes.source, tag=self.notes.tag) if self.notes is not None else None,
            source=source,
            base_dir=base_dir,
            text=text,
        )


def keys_of(model: type[BaseModel]) -> list[str]:
    """The keys a table may have, as the file writes them (``from``, not ``email_from``), sorted."""
    return sorted(field.alias or name for name, field in model.model_fields.items())


TABLES: dict[str, type[BaseModel]] = {
    "access": AccessTable,
    "people": PersonTable,
    "defaults": DefaultsTable,
    "releases": ReleasesTable,
    "notes": NotesTable,
    "group": GroupTable,
}
"""The model of each table a plan file may have, by its key; the top level is ``PlanFile``."""
