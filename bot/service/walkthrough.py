"""The validation walkthrough: rendering communiqués and checking them before anything leaves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.checks import CheckResult, Severity, check_text
from bot.domain.communique import Communique, ReviewState
from bot.domain.destinations import Destination, Kind, Platform, Target
from bot.domain.durations import format_duration
from bot.domain.notes import KeptNotes
from bot.domain.people import display_name
from bot.domain.plan import AckPolicy, Group, Plan
from bot.domain.release import Release, ReleaseState
from bot.service.notes.checks import notes_check, notes_read
from bot.service.notes.values import notes_value, with_group_notes
from bot.service.planfile import load_release_vars
from bot.service.ports import PlatformLink, Resolution
from bot.service.templating import RenderError, render
from bot.service.views import CommuniqueView, ReleaseView


def _context(plan: Plan, version: str, notes: KeptNotes | None = None) -> tuple[dict[str, Any], list[str]]:
    """The variables templates see for ``version`` (with ``notes``, the release's notes), and the errors of
    ``[vars]`` entries that failed."""
    release_vars = load_release_vars(plan, version)
    context: dict[str, Any] = {**release_vars, "product": plan.product, "version": version}
    if notes is not None:
        context["notes"] = notes_value(notes, version)
    var_errors: list[str] = []
    for name, source in plan.vars.items():
        if name in release_vars:
            continue  # the release's own value is more specific than the plan's default
        try:
            context[name] = render(source, {**context, **release_vars}, name=f"[vars] {name}")
        except RenderError as error:
            var_errors.append(str(error))
    return context, var_errors


def render_communiques(
    plan: Plan, version: str, groups: list[Group] | None = None, notes: KeptNotes | None = None
) -> dict[str, Communique]:
    """Render each group's template for ``version`` (with its ``notes``); a failure is kept as ``render_error``."""
    context, var_errors = _context(plan, version, notes)
    communiques: dict[str, Communique] = {}
    for group in groups if groups is not None else list(plan.groups):
        try:
            if var_errors:
                raise RenderError("; ".join(var_errors))
            text = render(group.template, with_group_notes(context, group), name=group.template_name).strip()
            communiques[group.id] = Communique(group_id=group.id, text=text)
        except RenderError as error:
            communiques[group.id] = Communique(group_id=group.id, text="", render_error=str(error))
    return communiques


def render_subject(plan: Plan, version: str, group: Group, notes: KeptNotes | None = None) -> str:
    """The group's e-mail subject for ``version`` (with the notes kept with the release): one line.

    Raises:
        RenderError: when it does not render, or renders to more than one line (a header
            injection attempt, or a variable holding a line break).
    """
    context, var_errors = _context(plan, version, notes)
    if var_errors:
        raise RenderError("; ".join(var_errors))
    subject = render(group.subject, with_group_notes(context, group), name=f"group '{group.id}' subject").strip()
    if any(c in subject for c in "\r\n\x00"):
        raise RenderError(f"the subject {subject[:60]!r} holds a line break; a subject must be one line")
    if not subject:
        raise RenderError("the subject renders empty")
    return subject


def subject_check(release: Release, plan: Plan, group: Group) -> CheckResult | None:
    """For a group sent by e-mail: whether its subject renders to one clean line (None otherwise)."""
    if not any(d.kind is Kind.EMAIL for d in group.to):
        return None
    try:
        subject = render_subject(plan, release.version, group, release.notes)
    except RenderError as error:
        return _fail("subject", f"the e-mail subject cannot be used: {error}")
    return _ok("subject", f"e-mail subject: {subject}")


def _ok(code: str, message: str) -> CheckResult:
    return CheckResult(code, True, Severity.BLOCKING, message)


def _fail(code: str, message: str, severity: Severity = Severity.BLOCKING) -> CheckResult:
    return CheckResult(code, False, severity, message)


def reach_checks(
    group: Group,
    links: Mapping[Platform, PlatformLink],
    resolutions: Mapping[Destination, Resolution],
) -> list[CheckResult]:
    """Which of the group's destinations can be reached, and whether at least one can."""
    results: list[CheckResult] = []
    reachable: list[Destination] = []
    simulated: list[str] = []
    for destination in group.to:
        link = links.get(destination.platform)
        if link is None:
            results.append(
                _fail(
                    "platform",
                    f"{destination}: {destination.platform.value} is not configured, so it will not be delivered",
                    Severity.WARNING,
                )
            )
            continue
        resolution = resolutions.get(destination)
        if resolution is not None and resolution.problem:
            problem = resolution.problem
            if resolution.transient:
                problem = f"could not be looked up just now ({problem}); Herald asks again before sending"
            results.append(_fail("reachable", f"{destination}: {problem}", Severity.WARNING))
            continue
        reachable.append(destination)
        if link.simulated:
            simulated.append(str(destination))
    total = len(group.to)
    if not reachable:
        results.insert(0, _fail("reachable", f"none of the {total} destinations can be reached"))
    else:
        message = f"{len(reachable)} of {total} destinations reachable"
        if simulated:
            message += f" ({len(simulated)} simulated locally)"
        results.insert(0, _ok("reachable", message))
    return results


def communique_checks(
    release: Release,
    group: Group,
    communique: Communique,
    links: Mapping[Platform, PlatformLink],
    resolutions: Mapping[Destination, Resolution],
    plan: Plan | None = None,
) -> list[CheckResult]:
    """Every check on one communiqué (with ``plan``, the e-mail subject's too)."""
    return content_checks(release, group, communique, plan) + reach_checks(group, links, resolutions)


def content_checks(
    release: Release, group: Group, communique: Communique, plan: Plan | None = None
) -> list[CheckResult]:
    """The checks on a communiqué's text (with ``plan``, its e-mail subject's too); none asks a platform."""
    if communique.render_error:
        results = [_fail("rendered", f"the template did not render: {communique.render_error}")]
    else:
        results = [
            _ok("rendered", "rendered with every variable defined"),
            *check_text(communique.text, group, release.version),
        ]
    subject = subject_check(release, plan, group) if plan is not None else None
    if subject is not None:
        results.append(subject)
    notes = notes_check(release, group, communique)
    if notes is not None:
        results.append(notes)
    return results


def release_checks(release: Release, plan: Plan) -> list[CheckResult]:
    """Checks on the release as a whole: success confirmed, completeness, approvals."""
    results: list[CheckResult] = []
    if release.confirmed_by is None:
        results.append(
            _fail(
                "confirmed",
                f"nobody has confirmed yet that {release.product} {release.version} was declared a success "
                f"and is available (/release confirm {release.version})",
            )
        )
    else:
        when = release.confirmed_at.strftime("%Y-%m-%d %H:%M UTC") if release.confirmed_at else "?"
        results.append(
            _ok(
                "confirmed",
                f"declared a success and available: confirmed by {display_name(release.confirmed_by)} at {when}",
            )
        )
    missing = [g.id for g in plan.groups if g.id not in release.communiques and g.id not in release.skipped]
    if missing:
        results.append(_fail("complete", f"no communiqué for: {', '.join(missing)}"))
    else:
        heard = len(plan.groups) - len(release.skipped)
        reach = f"it reaches ({heard} of {len(plan.groups)})" if release.skipped else f"({len(plan.groups)})"
        results.append(_ok("complete", f"every stakeholder group {reach} has a communiqué"))
    for group_id, why in release.skipped.items():  # the plan's announce rules (or a person) leave it out
        results.append(_ok("skipped", f"{group_id} is skipped: {why}"))
    if release.notes is not None:
        results.append(notes_read(release.notes, release.version))
    stale = [gid for gid in release.communiques if gid not in {g.id for g in plan.groups}]
    if stale:
        results.append(
            _fail(
                "complete",
                f"communiqués for groups no longer in the plan (not sent): {', '.join(stale)}",
                Severity.WARNING,
            )
        )
    unapproved = [gid for gid, c in release.communiques.items() if not c.approved and gid not in stale]
    if unapproved:
        results.append(_fail("approved", f"still to approve: {', '.join(unapproved)}"))
    else:
        results.append(_ok("approved", "every communiqué is approved"))
    return results


def build_view(
    release: Release,
    plan: Plan,
    links: Mapping[Platform, PlatformLink],
    resolutions: Mapping[Destination, Resolution],
) -> ReleaseView:
    """The whole walkthrough thread for a release."""
    views: list[CommuniqueView] = []
    for group in plan.groups:
        communique = release.communiques.get(group.id)
        if communique is None:
            continue
        correction = communique.correction
        shown = communique if correction is None else Communique(group_id=group.id, text=correction.text)
        checks = communique_checks(release, group, shown, links, resolutions, plan)
        views.append(
            CommuniqueView(
                version=release.version,
                group_id=group.id,
                group_name=group.name,
                destinations=tuple(str(d) for d in group.to),
                text=shown.text,
                review=communique.review if correction is None else ReviewState.PENDING,
                revision=communique.revision + (correction is not None),
                reviewed_by=communique.reviewed_by if correction is None else None,
                note=communique.note,
                checks=tuple(checks),
                receipt=describe_receipt(group),
                allow_mentions=group.allow_broadcast_mentions,
                sent=release.sending_began,
                closed=release.state in (ReleaseState.CANCELLED, ReleaseState.RETRACTED),
                correction_by=correction.by if correction is not None else None,
            )
        )
    checks = release_checks(release, plan)
    summary, estimate = send_summary(plan, links, resolutions, left_out=frozenset(release.skipped))
    return ReleaseView(
        version=release.version,
        product=release.product,
        state=release.state,
        announced_by=release.announced_by,
        confirmed_by=release.confirmed_by,
        approved_by=release.approved_by,
        approvers=tuple(sorted(plan.approvers)),
        checks=tuple(checks),
        communiques=tuple(views),
        next_step=next_step(release, plan, checks, views),
        summary=summary,
        estimate_seconds=estimate,
        retraction=release.retraction.reason if release.retraction is not None else None,
        retraction_waiting=release.retraction_waiting,
    )


_KIND_WORDS = {
    "channel": ("channel", "channels"),
    "dm": ("DM", "DMs"),
    "email": ("e-mail", "e-mails"),
    "webhook": ("web page", "web pages"),
    "group": ("group", "groups"),
}


def send_summary(
    plan: Plan,
    links: Mapping[Platform, PlatformLink],
    resolutions: Mapping[Destination, Resolution],
    left_out: frozenset[str] = frozenset(),
) -> tuple[tuple[str, ...], float | None]:
    """Per group (but those ``left_out``: skipped), the messages a send will make by kind and the people expected;
    and the time at the ceilings."""
    lines: list[str] = []
    per_platform: dict[Platform, int] = {}
    for group in plan.groups:
        if group.id in left_out:
            continue
        kinds: dict[str, set[Target]] = {}
        people: set[str] = set()
        for destination in group.to:
            resolution = resolutions.get(destination)
            if destination.platform not in links or resolution is None or resolution.problem:
                continue
            for target in resolution.targets:
                kinds.setdefault(target.kind.value, set()).add(target.to)
                people.update(plan.people.canonical(p) for p in target.audience)  # one person on two media: once
        parts = []
        for kind, targets in sorted(kinds.items()):
            singular, plural = _KIND_WORDS.get(kind, (kind, kind + "s"))
            parts.append(f"{len(targets)} {singular if len(targets) == 1 else plural}")
            for place in targets:
                per_platform[place.platform] = per_platform.get(place.platform, 0) + 1
        reach = f", {len(people)} people expected to acknowledge" if people and group.ack is not AckPolicy.NONE else ""
        lines.append(f"{group.name}: {', '.join(parts) or 'nothing reachable'}{reach}")
    estimate: float | None = None
    for platform, count in per_platform.items():
        ceiling = links[platform].limits.ceiling
        if ceiling is not None:
            seconds = max(0.0, count - ceiling.burst / 2) / ceiling.per_second
            estimate = max(estimate or 0.0, seconds)
    return tuple(lines), estimate


def describe_receipt(group: Group) -> str:
    """What the plan asks of this group's recipients, in one line."""
    if group.ack is AckPolicy.NONE:
        return "no acknowledgement asked"
    if group.ack is AckPolicy.OPTIONAL:
        return "acknowledgement optional (counted, not chased)"
    text = (
        f"acknowledgement required within {format_duration(group.ack_within)}, "
        f"reminders every {format_duration(group.remind_every)}"
    )
    if group.escalate_to:
        text += ", then escalated to " + ", ".join(str(d) for d in group.escalate_to)
    return text


def blocking_for_send(view: ReleaseView) -> list[str]:
    """Why the release cannot be sent yet (empty when it can)."""
    reasons = [c.message for c in view.checks if c.blocks]
    for communique in view.communiques:
        reasons += [f"{communique.group_id}: {m}" for m in communique.blocking]
    return reasons


def next_step(release: Release, plan: Plan, checks: list[CheckResult], views: list[CommuniqueView]) -> str:
    """One sentence telling people what to do next."""
    v = release.version
    if release.state is ReleaseState.CANCELLED:
        return "This release was cancelled; nothing was sent."
    if release.state is ReleaseState.RETRACTED:
        return f"Retracted: every copy says so. See /release status {v}."
    if release.retraction_waiting:
        return f"A retraction waits for an approver: /release approve {v} (or /release cancel {v} to drop it)"
    if release.state is ReleaseState.SENT:
        return f"Every delivery has settled. See /release status {v}."
    if release.state is ReleaseState.SENDING:
        return f"Sending now. Follow it with /release status {v}."
    if release.state is ReleaseState.AWAITING_APPROVAL:
        names = ", ".join(display_name(p) for p in sorted(plan.approvers))
        return f"Waiting for the final approval by a second person ({names}): /release approve {v}"
    if release.confirmed_by is None:
        return f"First confirm that {release.version} was declared a success and is available: /release confirm {v}"
    to_fix = [c.group_id for c in views if c.blocking]
    if to_fix:
        return f"Fix the failing checks of {', '.join(to_fix)}: /release edit {v} GROUP NEW TEXT"
    pending = [c.group_id for c in views if c.review is not ReviewState.APPROVED]
    if pending:
        return f"Review each communiqué, then /release approve {v} GROUP (or all). To approve: {', '.join(pending)}"
    if any(c.blocks for c in checks):
        return "Resolve the release checks above."
    if plan.needs_second_approval:
        return f"Every communiqué is approved. Ask for the final approval: /release send {v}"
    return f"Every communiqué is approved. Send it: /release send {v}"
