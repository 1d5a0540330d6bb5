"""The per-release values file that ``[releases] vars_file`` names: free-form TOML, read at announce time."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bot.domain.errors import PlanError, Problem
from bot.domain.plan import Plan

RESERVED_VARS = frozenset({"product", "version"})
"""Template values Herald sets itself, which neither ``[vars]`` nor a values file may set."""


def load_release_vars(plan: Plan, version: str) -> dict[str, Any]:
    """Read the optional per-release values file named by ``[releases] vars_file``.

    Returns an empty mapping when the plan names no file or the file does not exist.

    Raises:
        PlanError: when the file exists but cannot be used.
    """
    if plan.vars_file is None:
        return {}
    relative = plan.vars_file.replace("{version}", version)
    path = Path(plan.base_dir) / relative
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise PlanError(str(path), [Problem(relative, "", f"cannot be read: {error}")]) from None
    problems = [
        Problem(relative, key, "is set by Herald itself and cannot be redefined")
        for key in data
        if key in RESERVED_VARS
    ]
    if problems:
        raise PlanError(str(path), problems)
    return data
