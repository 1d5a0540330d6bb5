"""Load a plan file (TOML), checking everything at once.

Every problem is collected and reported together, each naming the table or group and
the field, so a person fixes the file in one pass.

- ``loader``: reads the file and runs the two checks below, raising one ``PlanError``.
- ``schema``: the file's shape as pydantic models, holding the domain's values.
- ``rules``: what spans fields or groups (exactly one message, unique ids, a Discord webhook's channel).
- ``people``: the ``[people]`` table (one person's ids across platforms) and its duplicate-id rule.
- ``order``: the rules of ``after`` between groups (unknown groups, cycles, reachable thresholds).
- ``errors``: pydantic's validation errors put into Herald's places and words.
- ``release_vars``: the per-release values file, read at announce time.
"""

from bot.service.planfile.loader import load_plan, parse_plan
from bot.service.planfile.release_vars import load_release_vars

__all__ = ["load_plan", "load_release_vars", "parse_plan"]
