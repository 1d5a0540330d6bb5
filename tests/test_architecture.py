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


SERVICE_LIBRARIES = {
    "jinja2",  # communiqués are Jinja2 templates, rendered in its sandbox
    "pydantic",  # the plan file's schema (bot/service/planfile); the domain it builds stays stdlib-only
    "semver",  # announce_for: SemVer versions compared (bot/service/announce_rules.py)
    "packaging",  # announce_for: PEP 440 versions compared
    "markdown_it",  # release notes read as Markdown (bot/service/notes/markdown.py), never with regular expressions
}


def test_the_service_layer_imports_only_the_standard_library_and_its_libraries() -> None:
    """bot/service depends on the standard library, Herald itself, Jinja2 and pydantic, and nothing else."""
    import sys

    allowed = set(sys.stdlib_module_names) | {"bot", "__future__"} | SERVICE_LIBRARIES
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - allowed)
        for path in (ROOT / "bot/service").rglob("*.py")
        if _imports(path) - allowed
    }
    assert offenders == {}


COMPOSITION_ROOT = "bot.app"  # reads the settings and wires the adapters to the core


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in ("bot", "adapters", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _graph() -> dict[str, set[str]]:
    """Which of Herald's modules each of its modules imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    edges.add(target if target in modules else node.module)
            elif isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
        graph[name] = {edge for edge in edges if edge in modules and edge != name}
    return graph


def test_no_module_of_herald_takes_part_in_an_import_cycle() -> None:
    """The import graph of bot/, adapters/ and storage/ has no cycle, lazy and type-only imports included."""
    graph = _graph()
    seen: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for target in sorted(graph[module]):
            if seen.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in seen:
                visit(target, [*path, target])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert cycles == []


def test_the_core_never_imports_the_composition_root() -> None:
    """bot/domain and bot/service import none of the modules that read settings and wire adapters."""
    graph = _graph()
    offenders = {
        module: sorted(t for t in targets if _in(t, COMPOSITION_ROOT))
        for module, targets in graph.items()
        if module.startswith(("bot.domain", "bot.service")) and any(_in(t, COMPOSITION_ROOT) for t in targets)
    }
    assert offenders == {}


def test_only_the_composition_root_imports_the_composition_root() -> None:
    """Adapters and storage are wired by bot/app; none of them reaches back into it."""
    graph = _graph()
    offenders = {
        module: sorted(t for t in targets if _in(t, COMPOSITION_ROOT))
        for module, targets in graph.items()
        if not _in(module, COMPOSITION_ROOT)
        and module not in ("bot.__main__",)
        and any(_in(t, COMPOSITION_ROOT) for t in targets)
    }
    assert offenders == {}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_no_adapter_reads_the_composed_settings() -> None:
    """Each adapter owns its settings section (adapters/<name>/config.py); none imports bot.app.settings."""
    graph = _graph()
    offenders = sorted(m for m, targets in graph.items() if m.startswith("adapters") and "bot.app.settings" in targets)
    assert offenders == []
