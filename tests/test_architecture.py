"""The architecture holds: the domain and service layers import no platform or storage library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "slack_bolt",
    "slack_sdk",
    "discord",
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "apscheduler",
    "aiohttp",
    "adapters",
    "storage",
    "dotenv",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", ["bot/domain", "bot/service"])
def test_inner_layers_import_no_platform_or_storage_library(layer: str) -> None:
    """No module of the domain or service layer imports a platform, storage or adapter package."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN)
        for path in (ROOT / layer).rglob("*.py")
        if _imports(path) & FORBIDDEN
    }
    assert offenders == {}


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    """bot/domain depends on nothing outside the standard library."""
    import sys

    allowed = set(sys.stdlib_module_names) | {"bot", "__future__"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - allowed)
        for path in (ROOT / "bot/domain").rglob("*.py")
        if _imports(path) - allowed
    }
    assert offenders == {}
