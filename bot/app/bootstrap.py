"""The composition root: the only place that picks concrete adapters and storage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.shell.directory import ShellDirectory, SimulatedDirectory
from adapters.shell.messenger import ShellMessenger
from adapters.shell.world import Posted, ShellWorld
from bot.app.settings import Settings
from bot.domain.destinations import Platform
from bot.domain.errors import ConfigError
from bot.domain.plan import Plan
from bot.service.clock import SystemClock
from bot.service.desk import ReleaseDesk
from bot.service.engine import DeliveryEngine
from bot.service.limits import RateLimiter
from bot.service.ports import BudgetStore, Clock, PlatformLink, SignInLinks, UnitOfWorkFactory
from bot.service.ports.forges import ForgeReleases
from bot.service.reminders import Reminders
from bot.service.retry import RetryPolicy
from storage.memory import MemoryBudgets, MemoryStore, MemoryUnitOfWork

if TYPE_CHECKING:
    from adapters.scheduling.sweeper import Sweeper
    from adapters.web.server import WebServer
    from bot.service.chat.flow import ChatFlow


@dataclass(slots=True)
class Storage:
    """An open store: a unit-of-work factory, the shared budgets, and how to close it."""

    uow: UnitOfWorkFactory
    budgets: BudgetStore
    close: Callable[[], Awaitable[None]]


def memory_storage(store: MemoryStore | None = None) -> Storage:
    """Storage in this process's memory (``memory://``; the tests' twin of the database)."""
    the_store = store if store is not None else MemoryStore()

    async def _nothing() -> None:
        return None

    return Storage(uow=lambda: MemoryUnitOfWork(the_store), budgets=MemoryBudgets(the_store), close=_nothing)


async def open_storage(settings: Settings, *, migrate: bool) -> Storage:
    """Open the configured database; ``migrate`` brings an SQLite file up to date first.

    Raises:
        ConfigError: when the database cannot be reached or is not migrated.
    """
    if settings.database_url.startswith("memory://"):
        return memory_storage()
    from storage.engine import redact
    from storage.migrate import ensure_current, upgrade
    from storage.unit_of_work import SqlStorage

    try:
        if migrate:
            await upgrade(settings.database_url)
        else:
            await ensure_current(settings.database_url)
    except ConfigError:
        raise
    except Exception as error:  # driver errors vary; the person needs one sentence
        raise ConfigError(
            f"Cannot open the database {redact(settings.database_url)}: {type(error).__name__}: {error}"
        ) from None
    sql = SqlStorage(settings.database_url)
    return Storage(uow=sql, budgets=sql.budgets, close=sql.close)


def shell_links(world: ShellWorld, show: Callable[[Posted], None]) -> dict[Platform, PlatformLink]:
    """Every platform, simulated inside the shell workspace."""
    messenger = ShellMessenger(world, show)
    links = {p: PlatformLink(SimulatedDirectory(p), messenger, simulated=True) for p in Platform}
    links[Platform.SHELL] = PlatformLink(ShellDirectory(world), messenger)
    return links


def delivery_links(settings: Settings) -> dict[Platform, PlatformLink]:
    """The links for media that need no chat platform (e-mail, webhooks, Apprise), for whichever are configured.

    ``herald run`` lays these over its chat platforms' links, so an ``email:`` destination
    goes out by real SMTP whenever ``SMTP_URL`` is set, next to Slack or the shell workspace.
    With ``HERALD_PUBLIC_URL`` each mail carries a personal acknowledgement link;
    ``HERALD_WEBHOOK_SECRET`` makes ``webhook:`` destinations real, signed POSTs, and
    ``HERALD_APPRISE=on`` sends ``apprise:`` ones through Apprise; ``web:`` destinations are
    posted on Herald's own release site (``HERALD_PUBLIC_URL/releases/``).
    """
    from adapters.email.runtime import mail_links, mail_refs
    from adapters.pager.runtime import apprise_links
    from adapters.web.links import AckLinks
    from adapters.web.publisher import page_links
    from adapters.web.runtime import subscription_links
    from adapters.webhook.runtime import webhook_links

    links = AckLinks(settings.web, mail_refs(settings).envelope_id) if settings.web is not None else None
    way_out = subscription_links(settings.web).unsubscribe if settings.web is not None else None
    pagers = apprise_links(allow_unverified=settings.apprise_insecure) if settings.apprise else {}
    pages = page_links() if settings.web is not None else {}
    mail = mail_links(settings, ack_link=links, unsubscribe_link=way_out)
    return {**mail, **webhook_links(settings), **pagers, **pages}


def sign_in_links(settings: Settings) -> SignInLinks | None:
    """Private sign-in links to the dashboard, when the web pages are on (a public URL is set)."""
    if settings.web is None:
        return None
    from adapters.web.runtime import web_links

    return web_links(settings.web)


def web_server(
    settings: Settings, desk: ReleaseDesk, *extra: Any, flows: Mapping[Platform, ChatFlow] | None = None
) -> WebServer | None:
    """Herald's HTTP server: acknowledgement links, the dashboard (and ``extra`` route sets), if a public URL is set.

    With ``HERALD_API_TOKENS`` it also serves the release API, which posts walkthroughs
    through ``flows`` (each chat platform's; the shell has none).
    """
    if settings.web is None:
        return None
    from adapters.email.runtime import confirmation_mail, mail_refs
    from adapters.web.links import AckLinks
    from adapters.web.runtime import api_routes, page_routes
    from adapters.web.server import WebServer

    links = AckLinks(settings.web, mail_refs(settings).envelope_id)
    api = api_routes(settings.web, desk, flows or {})
    confirm = confirmation_mail(settings, desk.plan.product)
    return WebServer(
        settings.web.http_host,
        settings.web.http_port,
        links.routes(desk),
        *page_routes(settings.web, desk, confirm),
        api,
        *extra,
    )


def forge_releases(settings: Settings) -> ForgeReleases:
    """GitHub's and GitLab's release APIs (``GITHUB_API_URL``, ``GITLAB_URL`` and their tokens), for release notes."""
    from adapters.forges.releases import ForgeClient

    return ForgeClient(settings.forges)


def report_sweeper(settings: Settings, uow: UnitOfWorkFactory) -> Sweeper | None:
    """The job that reads delivery reports from ``HERALD_IMAP_URL``, when it is set."""
    from adapters.email.runtime import report_sweeper as mail_report_sweeper

    return mail_report_sweeper(settings, uow)


@dataclass(slots=True)
class Herald:
    """A wired Herald: the desk people talk to, the engine that works the ledger, the reminders."""

    plan: Plan
    desk: ReleaseDesk
    engine: DeliveryEngine
    reminders: Reminders


def wire(
    *,
    plan: Plan,
    storage: Storage,
    links: Mapping[Platform, PlatformLink],
    clock: Clock | None = None,
    limiter: RateLimiter | None = None,
    retry: RetryPolicy | None = None,
    on_progress: Callable[[str], None] | None = None,
    sign_in: SignInLinks | None = None,
    forges: ForgeReleases | None = None,
) -> Herald:
    """Connect the service layer to storage and platforms (``forges``: where GitHub and GitLab releases are read)."""
    the_clock = clock or SystemClock()
    engine = DeliveryEngine(
        plan=plan,
        uow=storage.uow,
        links=links,
        clock=the_clock,
        limiter=limiter or RateLimiter(budgets=storage.budgets, wall_clock=the_clock.now),
        retry=retry,
        on_progress=on_progress,
    )
    reminders = Reminders(plan=plan, uow=storage.uow, links=links, clock=the_clock, on_new=engine.wake)
    desk = ReleaseDesk(
        plan=plan,
        uow=storage.uow,
        links=links,
        clock=the_clock,
        on_sending=engine.wake,
        reminders=reminders,
        sign_in=sign_in,
        forges=forges,
    )
    return Herald(plan=plan, desk=desk, engine=engine, reminders=reminders)
