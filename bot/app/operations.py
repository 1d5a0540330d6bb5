"""Herald's operations endpoint wired: which checks ``/readyz`` asks and what ``/metrics`` reads.

``herald run`` starts it before anything else (so ``/healthz`` answers while the platforms
connect) and closes it last. It is on by default when Herald serves Slack or Discord, and
in the shell workspace only when ``HERALD_OPS_PORT`` is set: a workspace on a laptop has
nobody to probe it, and two of them must not fight over one port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from adapters.ops.readiness import Readiness
from bot.app.settings import Settings

if TYPE_CHECKING:
    from adapters.ops.metrics import Metrics
    from adapters.ops.server import OpsServer


def wants_ops(settings: Settings, *, shell: bool) -> bool:
    """Whether ``herald run`` serves the operations endpoint: off with ``HERALD_OPS_PORT=off``, and in the shell
    workspace unless the port was set."""
    return settings.ops is not None and (settings.ops.explicit or not shell)


def new_metrics() -> Metrics:
    """This process's metrics (Prometheus's client is imported only when they are wanted)."""
    from adapters.ops.metrics import Metrics

    return Metrics()


def ops_server(settings: Settings, metrics: Metrics | None, services: Sequence[Readiness]) -> OpsServer | None:
    """The endpoint for ``settings`` (None when ``HERALD_OPS_PORT=off``).

    ``/readyz`` asks the database (except ``memory://``, always there) and each of ``services``.
    """
    if settings.ops is None:
        return None
    from adapters.ops.server import OpsServer

    checks: list[Readiness] = []
    on_close: list[Callable[[], Awaitable[None]]] = []
    if not settings.database_url.startswith("memory"):
        from storage.health import SchemaProbe

        probe = SchemaProbe(settings.database_url)
        checks.append(probe)
        on_close.append(probe.close)
    checks.extend(services)
    return OpsServer(settings.ops, checks, metrics, on_close=on_close)
