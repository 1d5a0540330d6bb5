"""``herald doctor``: every configured part checked once, one line each, with the fix for what fails.

Read-only: the database is looked at, never migrated; platforms get one harmless call
each (Slack ``auth.test``, Discord ``/users/@me``, an SMTP login, an IMAP ``SELECT``, a TCP
connect to each webhook receiver). Secrets never appear in what it prints.
"""

from __future__ import annotations

from adapters.checkup import Finding, Verdict, failed, ok, warning
from bot.app.settings import Settings, opt_outs
from bot.domain.destinations import Platform
from bot.domain.errors import HeraldError
from bot.domain.plan import Plan
from bot.service.planfile import load_plan


async def diagnose(settings: Settings) -> list[Finding]:
    """Every check that applies to ``settings``, in the order a person would fix them."""
    findings = [await _database(settings)]
    plan: Plan | None = None
    try:
        plan = load_plan(settings.plan_path)
        findings.append(ok("plan", f"{settings.plan_path}: {len(plan.groups)} groups"))
    except HeraldError as error:
        first = str(error).splitlines()[0]
        findings.append(failed("plan", first, f"run `herald plan check {settings.plan_path}` for every problem"))
    destinations = [d for group in plan.groups for d in group.to] if plan is not None else []
    if settings.slack is not None:
        from adapters.slack.checkup import slack_findings

        findings += await slack_findings(settings.slack)
    if settings.discord is not None:
        from adapters.discord.checkup import discord_findings

        roles = any(d.platform is Platform.DISCORD and d.address.startswith("role:") for d in destinations)
        findings += await discord_findings(settings.discord, needs_members=roles)
    if settings.email is not None:
        from adapters.email.checkup import smtp_findings

        findings += await smtp_findings(settings.email)
    if settings.imap is not None:
        from adapters.email.checkup import imap_findings
        from adapters.email.runtime import mail_refs
        from bot.app.bootstrap import memory_storage

        findings += await imap_findings(settings.imap, memory_storage().uow, mail_refs(settings))
    hooks = [d for d in destinations if d.platform is Platform.WEBHOOK]
    if hooks and settings.webhook_secret is not None:
        from adapters.webhook.checkup import webhook_findings

        findings += await webhook_findings(hooks, allow_insecure=settings.webhook_insecure)
    findings += [warning("opt-out", line) for line in opt_outs(settings)]
    return findings


async def _database(settings: Settings) -> Finding:
    url = settings.database_url
    if url.startswith("memory://"):
        return warning("database", "in memory: nothing is kept when Herald stops", "set DATABASE_URL for real use")
    from storage.engine import redact
    from storage.health import SchemaProbe
    from storage.migrate import head

    where = redact(url)
    probe = SchemaProbe(url)  # the same check /readyz makes
    try:
        problem = await probe.ready()
    finally:
        await probe.close()
    if problem is None:
        return ok("database", f"{where} is at the newest schema ({head()})")
    fix = "run `herald db upgrade`" if "herald db upgrade" in problem else "check DATABASE_URL"
    return failed("database", f"{where}: {problem.removeprefix('database: ')}", fix)


def exit_status(findings: list[Finding]) -> int:
    """0 when nothing failed (warnings allowed), 1 otherwise."""
    return 1 if any(f.verdict is Verdict.FAILED for f in findings) else 0
