"""Herald's exceptions. Every one carries a sentence a person can read.

HeraldError
├── PlanError                 the plan file is broken (carries every problem found)
├── ConfigError               an environment setting is wrong
├── CommandError              a typed command does not parse
├── NotAllowed                the person may not do that (announcer/approver rules)
├── NotFound                  no such release, group or message
├── InvalidState              the release is not in a state that allows that step
├── InsecureConnection        a server could not be reached securely, so nothing was sent to it
├── AuditChainBroken          a release's audit log does not verify as a hash chain
├── NotesUnavailable          a release's notes could not be read (no such tag, a refused token, unreachable)
└── DeliveryError             sending to one target failed
    ├── RetryableDeliveryError    try again later (timeouts, 5xx, rate limits)
    └── PermanentDeliveryError    never retry (unknown channel, blocked user, ...)
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.audit import ChainReport, Flaw


class HeraldError(Exception):
    """Base of every error Herald reports to a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a plan file, located by group and field."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        location = f"{self.where}: {self.field}" if self.field else self.where
        return f"{location}: {self.message}"


class PlanError(HeraldError):
    """The plan file cannot be used; ``problems`` lists every problem found."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The plan {path} has {count} {noun}:\n{lines}")


class ConfigError(HeraldError):
    """A configuration value from the environment or .env is wrong."""


class CommandError(HeraldError):
    """A command typed by a person does not parse."""


class NotAllowed(HeraldError):
    """The person is not allowed to take that step."""


class NotFound(HeraldError):
    """The release, group or message named does not exist."""


class InvalidState(HeraldError):
    """The release's current state does not allow that step."""


class NotesUnavailable(HeraldError):
    """A release's notes could not be read; the sentence says where and why (``notes: GitHub has no release …``)."""


class InsecureConnection(HeraldError):
    """Herald would not talk to a server: its certificate did not verify, or it offered no TLS where TLS is due."""


class AuditChainBroken(HeraldError):
    """A release's audit log does not verify: ``report.broken`` is the first broken link, and the sentence names it."""

    def __init__(self, version: str, report: ChainReport) -> None:
        self.version = version
        self.report = report
        broken = report.broken
        if broken is None:
            raise ValueError("an intact chain is not broken")
        entry = broken.entry
        when = entry.at.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        if broken.flaw is Flaw.ALTERED:
            why = "its hash does not match its content: it was changed after it was written"
        elif broken.position == 1:
            why = "its prev_hash does not start a chain: entries before it were removed"
        else:
            why = (
                f"its prev_hash does not match the hash of entry {broken.position - 1}: "
                "an entry was removed, added or moved before it"
            )
        super().__init__(
            f"The audit log of {version} is broken at entry {broken.position} of {report.entries} "
            f"({when}, {entry.actor}, {entry.action}, {entry.outcome.value}): {why}."
        )


class DeliveryError(HeraldError):
    """Sending one communiqué to one target failed."""

    permanent: bool = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = bounded_wait(retry_after)


MAX_RETRY_AFTER = 86_400.0  # a day: longer waits a platform asks for are read as a day


def bounded_wait(seconds: float | None) -> float | None:
    """A platform's Retry-After as Herald waits it: from 0 to a day; None (unknown) for NaN.

    A server may send anything (``Retry-After: 1e400``); an unbounded value would overflow
    the dates it is added to and stop the delivery loop.
    """
    if seconds is None or seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


class RetryableDeliveryError(DeliveryError):
    """The platform may accept the message if asked again later.

    ``uncertain``: no answer came (a time-out, a dropped connection), so the message may
    have arrived all the same; it is looked for before it is sent again.
    """

    permanent = False

    def __init__(self, message: str, *, retry_after: float | None = None, uncertain: bool = False) -> None:
        super().__init__(message, retry_after=retry_after)
        self.uncertain = uncertain


class PermanentDeliveryError(DeliveryError):
    """The platform will never accept this message for this target."""

    permanent = True


class Unreachable(PermanentDeliveryError):
    """The person cannot be messaged there at all (a deactivated account, a bot, DMs closed): never attempted,
    as opposed to a delivery that failed. ``/release resend VERSION missed`` tries them again."""


class RateLimited(RetryableDeliveryError):
    """The platform said 429. ``scope`` names the budget it applies to: "target", "method" or "ceiling"."""

    def __init__(self, message: str, *, retry_after: float, scope: str = "ceiling", method: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.scope = scope
        self.method = method
