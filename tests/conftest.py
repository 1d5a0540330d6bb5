"""What every test shares: how the suite splits over processes (``make test`` runs ``pytest -n auto``).

Tests are spread over one worker process per CPU (pytest-xdist, ``--dist loadgroup``). Those
that use the PostgreSQL server run one after another on one worker: one of them restarts the
server (``HERALD_TEST_POSTGRES_RESTART``), which would cut the connections of any other
PostgreSQL test running beside it.
"""

from __future__ import annotations

import pytest

POSTGRES_GROUP = pytest.mark.xdist_group("postgres")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_postgres = item.get_closest_marker("postgres") is not None or "postgres_url" in getattr(
            item, "fixturenames", ()
        )
        if uses_postgres or "postgres" in item.nodeid.lower():
            item.add_marker(POSTGRES_GROUP)
