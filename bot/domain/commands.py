"""What people ask Herald to do, and the parser for ``/release …`` text.

Every platform's front door turns its payload into one of these commands; the text
form is the same everywhere (Slack's slash command, Discord's options joined, the shell).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.domain.errors import CommandError
from bot.domain.receipt import ReceiptSource
from bot.domain.subscriptions import ALL, Level, parse_component
from bot.domain.versions import parse_version


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of every command: who asked."""

    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnounceRelease(Command):
    version: str
    components: tuple[str, ...] = ()  # what the release is of (a monorepo's packages); none: the whole product
    notes: str | None = field(default=None, repr=False)  # its release notes, handed over by a pipeline


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmRelease(Command):
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ApproveCommunique(Command):
    version: str
    group_id: str  # "*" approves every communiqué whose checks pass


@dataclass(frozen=True, slots=True, kw_only=True)
class EditCommunique(Command):
    version: str
    group_id: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrectCommunique(Command):
    """A corrected text for a communiqué already sent: checked, approved, then it replaces every copy."""

    version: str
    group_id: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SendBackCommunique(Command):
    version: str
    group_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SkipGroup(Command):
    """Leave a group out of a release before it is sent (its notes have nothing for it): it gets nothing."""

    version: str
    group_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSend(Command):
    version: str
    group_id: str | None = None  # set: send that group now, although an earlier group's receipts hold it


@dataclass(frozen=True, slots=True, kw_only=True)
class ApproveRelease(Command):
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRelease(Command):
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RetractRelease(Command):
    """Withdraw a release already being sent (rolled back): stop what is pending, strike out every copy."""

    version: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RescheduleRelease(Command):
    """Withdraw a release being or already sent because its go-live moves: every copy says to when, and why."""

    version: str
    go_live: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resend(Command):
    """Send again to exactly one set of a release's intended people: ``missed`` (never attempted), ``unread``
    (reached, not at the group's level yet) or ``failed``."""

    version: str
    which: str  # "missed" | "unread" | "failed"
    group_id: str | None = None  # None: every group


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryFailed(Command):
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RemindNow(Command):
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowStatus(Command):
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenDashboard(Command):
    """A private, short-lived sign-in link to the release's live dashboard, for the person who asked."""

    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowHelp(Command):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(Command):
    """The person asks to hear, where they typed it, of ``component``'s releases (``*``: any) at ``level``."""

    component: str = ALL
    level: Level = Level.ALL
    medium: str | None = None  # a mailbox signing up on the web; None: where the person typed it
    confirmed: bool = True  # False: a web sign-up, kept waiting until its confirmation link is used


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe(Command):
    """The person stops hearing, there, of ``component``'s releases (None: of anything).

    ``medium`` names the place when it is not where the person typed (a mail's one-click link); ``within``
    set (a communiqué's own way out) removes every subscription that brought the person that message:
    to that component and to every component.
    """

    component: str | None = None
    medium: str | None = None
    within: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowSubscriptions(Command):
    """The person's subscriptions, where they asked."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Acknowledge(Command):
    """A person acknowledged the message ``message_ref`` (a platform's reference).

    ``with_tally`` asks for the group's count in the reply; front ends that do not show
    it (a reaction) leave it off, so a flood of receipts costs one write each. A link names
    the delivery by its key: it may be used before the send is recorded with its reference.
    """

    message_ref: str
    source: ReceiptSource
    with_tally: bool = True
    delivery_key: str | None = None  # names the delivery directly (a signed link); then message_ref is unused


USAGE = {
    "announce": "announce VERSION [COMPONENT,…] — start announcing a release (or a tag such as api-v2.4.0)",
    "confirm": "confirm VERSION — confirm the release was declared a success and is available",
    "approve": "approve VERSION GROUP|all — approve communiqués; approve VERSION — the final approval",
    "edit": "edit VERSION GROUP NEW TEXT — replace a communiqué's text (it is checked again)",
    "reject": "reject VERSION GROUP [REASON] — send a communiqué back for rework (after sending: drop its correction)",
    "skip": "skip VERSION GROUP [REASON] — leave a group out of a release before it is sent (it gets nothing)",
    "correct": "correct VERSION GROUP NEW TEXT — after sending: correct a communiqué in every copy, once approved",
    "send": "send VERSION [GROUP] — send once every communiqué is approved; with GROUP: send a held group now",
    "cancel": "cancel VERSION — cancel a release before it is sent",
    "retract": "retract VERSION REASON — withdraw a release being or already sent: every copy says so",
    "reschedule": "reschedule VERSION YYYY-MM-DDTHH:MM REASON — its go-live moves (UTC): every copy says to when",
    "status": "status VERSION — deliveries and acknowledgements, per group",
    "dashboard": "dashboard VERSION — a private sign-in link to the release's live dashboard on the web",
    "remind": "remind VERSION — remind everyone who has not acknowledged, now",
    "retry": "retry VERSION — send again to the targets that failed",
    "resend": "resend VERSION [GROUP] missed|unread|failed — send again to exactly that set, once",
    "subscribe": "subscribe [COMPONENT] [major|minor|all] — hear of releases here (default: every release)",
    "unsubscribe": "unsubscribe [COMPONENT] — stop hearing of a component's releases here (none: of any)",
    "subscriptions": "subscriptions — what you are subscribed to here",
    "help": "help — this list",
}
_NO_VERSION = frozenset({"subscribe", "unsubscribe", "subscriptions"})

_GROUP = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
_COMPONENT = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}\Z")
_TAG = re.compile(r"^([A-Za-z][A-Za-z0-9_.]*(?:-[A-Za-z][A-Za-z0-9_.]*)*)-[vV]?([0-9].*)\Z")  # api-v2.4.0
_ALIASES = {"sendback": "reject", "send-back": "reject", "announcement": "announce"}


def parse_release_command(text: str, actor: str) -> Command:
    """Parse the words after ``/release``.

    Raises:
        CommandError: one sentence saying what is wrong and what to type instead.
    """
    if not isinstance(text, str):
        raise CommandError("Type a command, e.g. /release announce 2.4.")
    cleaned = text.replace("\u00a0", " ").strip()
    if cleaned.startswith("/release"):
        cleaned = cleaned[len("/release") :].strip()
    if not cleaned:
        return ShowHelp(actor=actor)
    head, _, rest = re.sub(r"^(\S+)\s", r"\1 ", cleaned, count=1).partition(" ")
    verb = _ALIASES.get(head.lower(), head.lower())
    if verb == "help":
        return ShowHelp(actor=actor)
    if verb not in USAGE:
        shown = head if len(head) <= 30 else head[:30] + "…"
        raise CommandError(f"“{shown}” is not a /release command; try one of: {', '.join(USAGE)} (or /release help).")
    words = rest.split()
    if verb in _NO_VERSION:
        return _subscription_command(verb, actor, words)
    if not words:
        raise CommandError(f"Missing the version. Usage: /release {USAGE[verb]}")
    tagged = _TAG.match(words[0]) if verb == "announce" else None
    version = parse_version(tagged.group(2) if tagged else words[0])
    after_version = rest.strip()[len(words[0]) :].strip()
    if verb == "announce":
        _no_extra(verb, words, allowed=2)
        named = [c.strip().lower() for c in words[1].split(",")] if len(words) == 2 else []
        if tagged:  # a monorepo's tag names its component: api-v2.4.0
            named.insert(0, tagged.group(1).lower())
        return AnnounceRelease(actor=actor, version=version, components=_components(named))
    if verb == "confirm":
        _no_extra(verb, words)
        return ConfirmRelease(actor=actor, version=version)
    if verb == "send":
        _no_extra(verb, words, allowed=2)
        group = _group(words[1].lower(), verb) if len(words) == 2 else None
        return RequestSend(actor=actor, version=version, group_id=group)
    if verb == "cancel":
        _no_extra(verb, words)
        return CancelRelease(actor=actor, version=version)
    if verb == "status":
        _no_extra(verb, words)
        return ShowStatus(actor=actor, version=version)
    if verb == "dashboard":
        _no_extra(verb, words)
        return OpenDashboard(actor=actor, version=version)
    if verb == "remind":
        _no_extra(verb, words)
        return RemindNow(actor=actor, version=version)
    if verb == "retry":
        _no_extra(verb, words)
        return RetryFailed(actor=actor, version=version)
    if verb == "reschedule":
        return _reschedule(actor, version, words[1:])
    if verb == "resend":
        return _resend(actor, version, words[1:])
    if verb == "approve":
        if len(words) == 1:
            return ApproveRelease(actor=actor, version=version)
        _no_extra(verb, words, allowed=2)
        group = words[1].lower()
        return ApproveCommunique(actor=actor, version=version, group_id="*" if group == "all" else _group(group, verb))
    if verb == "retract":
        reason = " ".join(after_version.split())
        if not reason:
            raise CommandError(f"Say why it is withdrawn. Usage: /release {USAGE['retract']}")
        return RetractRelease(actor=actor, version=version, reason=reason)
    match = re.match(r"(\S+)[ \t]*\n?(.*)", after_version, re.DOTALL)
    if match is None:
        raise CommandError(f"Missing the group. Usage: /release {USAGE[verb]}")
    group = _group(match.group(1).lower(), verb)
    # Keep the new text's line breaks: only the separating whitespace is dropped.
    body = match.group(2).strip()
    if verb == "edit":
        if not body:
            raise CommandError(f"Missing the new text. Usage: /release {USAGE['edit']}")
        return EditCommunique(actor=actor, version=version, group_id=group, text=body)
    if verb == "correct":
        if not body:
            raise CommandError(
                f"Missing the corrected text. Usage: /release {USAGE['correct']} "
                "(in chat, the communiqué's “Send a correction” button opens it with the current text)"
            )
        return CorrectCommunique(actor=actor, version=version, group_id=group, text=body)
    if verb == "skip":
        return SkipGroup(actor=actor, version=version, group_id=group, reason=" ".join(body.split()))
    return SendBackCommunique(actor=actor, version=version, group_id=group, reason=" ".join(body.split()))


def _subscription_command(verb: str, actor: str, words: list[str]) -> Command:
    usage = f"Usage: /release {USAGE[verb]}"
    if verb == "subscriptions":
        _no_extra(verb, words, allowed=0)
        return ShowSubscriptions(actor=actor)
    levels = {level.value for level in Level}
    if verb == "unsubscribe":
        _no_extra(verb, words)
        return Unsubscribe(actor=actor, component=_component(words[0], usage) if words else None)
    _no_extra(verb, words, allowed=2)
    level = Level.ALL
    if words and words[-1].lower() in levels and (len(words) == 2 or words[-1].lower() != "all"):
        level = Level(words.pop().lower())
    elif len(words) == 2:
        raise CommandError(f"“{words[1][:30]}” is not a level: say major, minor or all. {usage}")
    return Subscribe(actor=actor, component=_component(words[0], usage) if words else ALL, level=level)


def _component(text: str, usage: str) -> str:
    try:
        return parse_component(text)
    except ValueError as error:
        raise CommandError(f"{error}. {usage}") from None


def _reschedule(actor: str, version: str, words: list[str]) -> RescheduleRelease:
    usage = f"Usage: /release {USAGE['reschedule']}"
    if len(words) < 2:
        raise CommandError(f"Give the new go-live time and why. {usage}")
    try:
        when = datetime.fromisoformat(words[0].replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"“{words[0][:30]}” is not a time such as 2026-12-09T14:00 (UTC). {usage}") from None
    go_live = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return RescheduleRelease(actor=actor, version=version, go_live=go_live, reason=" ".join(words[1:]))


def _components(named: list[str]) -> tuple[str, ...]:
    for name in named:
        if not _COMPONENT.match(name):
            raise CommandError(f"“{name[:30]}” is not a component name. Usage: /release {USAGE['announce']}")
    return tuple(dict.fromkeys(named))


def _resend(actor: str, version: str, words: list[str]) -> Resend:
    which = words[-1].lower() if words else ""
    if which not in ("missed", "failed", "unread") or len(words) > 2:
        raise CommandError(f"Say whom to send to again. Usage: /release {USAGE['resend']}")
    group = _group(words[0].lower(), "resend") if len(words) == 2 else None
    return Resend(actor=actor, version=version, which=which, group_id=group)


def _group(text: str, verb: str) -> str:
    if not _GROUP.match(text):
        shown = text if len(text) <= 30 else text[:30] + "…"
        raise CommandError(f"“{shown}” is not a group id. Usage: /release {USAGE[verb]}")
    return text


def _no_extra(verb: str, words: list[str], allowed: int = 1) -> None:
    if len(words) > allowed:
        raise CommandError(f"Too many words after {verb}. Usage: /release {USAGE[verb]}")
