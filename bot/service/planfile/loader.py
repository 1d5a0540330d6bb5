"""Reading a plan: the file, its TOML, its schema and the rules between its parts, in one pass."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from bot.domain.errors import PlanError, Problem
from bot.domain.plan import Plan
from bot.service.planfile import rules
from bot.service.planfile.errors import in_file_order, problems_of
from bot.service.planfile.schema import PlanFile


def load_plan(path: str | Path) -> Plan:
    """Read and validate the plan at ``path``.

    Raises:
        PlanError: listing every problem in the file.
    """
    plan_path = Path(path)
    try:
        # Decoded as it is, line endings and all: the text kept with a release hashes as the file does.
        text = plan_path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PlanError(str(plan_path), [Problem("plan", "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlanError(str(plan_path), [Problem("plan", "", f"cannot be read: {error}")]) from None
    return parse_plan(text, source=str(plan_path), base_dir=plan_path.parent)


def parse_plan(text: str, *, source: str = "<plan>", base_dir: Path | None = None) -> Plan:
    """Validate plan text; ``base_dir`` resolves ``message_file`` paths. The plan keeps ``text``.

    Raises:
        PlanError: listing every problem in the text.
    """
    try:
        document = tomllib.loads(text)
    except (ValueError, RecursionError) as error:  # TOMLDecodeError, and what tomllib lets escape
        reason = error if isinstance(error, ValueError) else "it is nested too deeply"
        raise PlanError(source, [Problem("plan", "", f"is not valid TOML: {reason}")]) from None
    folder = base_dir or Path(".")
    found = rules.check(document)
    try:
        plan_file = PlanFile.model_validate(document, context={"base_dir": folder})
    except ValidationError as error:
        raise PlanError(source, in_file_order([*problems_of(error, document), *found])) from None
    if found:
        raise PlanError(source, in_file_order(found))
    return plan_file.to_plan(source=source, base_dir=str(folder), text=text)
