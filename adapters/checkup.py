"""What ``herald doctor`` finds: one line per check, and for a failure the fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARNING = "warning"  # works, but something a person should know
    FAILED = "failed"  # Herald cannot do its job until it is fixed


@dataclass(frozen=True, slots=True)
class Finding:
    """One check: what was looked at, what was found, and what to do about it."""

    name: str
    verdict: Verdict
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The finding as ``herald doctor`` prints it."""
        mark = {Verdict.OK: "ok  ", Verdict.WARNING: "warn", Verdict.FAILED: "FAIL"}[self.verdict]
        text = f"{mark} {self.name}: {self.detail}"
        return f"{text}\n     fix: {self.fix}" if self.fix and self.verdict is not Verdict.OK else text


def ok(name: str, detail: str) -> Finding:
    return Finding(name, Verdict.OK, detail)


def warning(name: str, detail: str, fix: str = "") -> Finding:
    return Finding(name, Verdict.WARNING, detail, fix)


def failed(name: str, detail: str, fix: str) -> Finding:
    return Finding(name, Verdict.FAILED, detail, fix)
