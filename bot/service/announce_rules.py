"""Which groups hear of a release: its level against the release before it, and whether it is a pre-release.

A group says ``announce_for = "minor"`` (it hears of minor and major releases, not patches)
and ``prereleases = false``. A release's level is found against the highest earlier final
version in the ledger (2.4.1 after 2.4.0 is a patch; 3.0.0 after 2.9.2 a major), or, with none
before it, from its own numbers (x.0.0 major, x.y.0 minor, else patch). Versions are read
with the library the plan names: ``semver`` (semver.org) or ``packaging`` (PEP 440). A group
limited to ``components`` hears of a release of one of them, or of the whole product (a
release that names none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import semver
from packaging.version import InvalidVersion, Version

from bot.domain.plan import Group, Plan, ReleaseLevel, Versioning


@dataclass(frozen=True, slots=True, order=True)
class _Parts:
    major: int
    minor: int
    patch: int
    pre: bool


def _parts(version: str, scheme: Versioning) -> _Parts | None:
    """The version's numbers, read as the plan's scheme says (None: not such a version)."""
    if scheme is Versioning.PEP440:
        try:
            parsed = Version(version)
        except InvalidVersion:
            return None
        numbers = (*parsed.release, 0, 0)
        return _Parts(numbers[0], numbers[1], numbers[2], parsed.is_prerelease)
    try:
        found = semver.Version.parse(version, optional_minor_and_patch=True)
    except ValueError:
        return None
    return _Parts(found.major, found.minor, found.patch, found.prerelease is not None)


def level_of(version: str, earlier: Iterable[str], scheme: Versioning) -> tuple[ReleaseLevel, bool] | None:
    """The release's level and whether it is a pre-release (None: the version cannot be read that way)."""
    this = _parts(version, scheme)
    if this is None:
        return None
    # Against the last final release below it: 2.5.0 after 2.5.0-rc.1 and 2.4.0 is still a minor release.
    lower = [p for p in (_parts(v, scheme) for v in earlier) if p is not None and not p.pre and _key(p) < _key(this)]
    before = max(lower, key=_key, default=None)
    if before is None:  # nothing earlier: the version's own numbers say
        level = ReleaseLevel.PATCH if this.patch else ReleaseLevel.MINOR if this.minor else ReleaseLevel.MAJOR
    elif this.major != before.major:
        level = ReleaseLevel.MAJOR
    elif this.minor != before.minor:
        level = ReleaseLevel.MINOR
    else:
        level = ReleaseLevel.PATCH
    return level, this.pre


def previous_release(version: str, earlier: Iterable[str], scheme: Versioning) -> str | None:
    """The highest earlier final release below ``version`` (None: none, or the versions cannot be read that way)."""
    this = _parts(version, scheme)
    if this is None:
        return None
    lower = [(p, v) for v in earlier if (p := _parts(v, scheme)) is not None and not p.pre and _key(p) < _key(this)]
    return max(lower, key=lambda found: _key(found[0]), default=(None, None))[1]


def skipped(plan: Plan, version: str, earlier: Iterable[str], components: tuple[str, ...] = ()) -> dict[str, str]:
    """The groups that do not hear of ``version`` (of ``components``; none: the whole product) under their rules,
    each with why, in the plan's order."""
    found = level_of(version, earlier, plan.versioning)
    level, pre = found if found is not None else (None, False)  # unreadable: only components can leave one out
    return {group.id: why for group in plan.groups if (why := _why(group, version, level, pre, components)) is not None}


def _why(group: Group, version: str, level: ReleaseLevel | None, pre: bool, components: tuple[str, ...]) -> str | None:
    if components and group.components and not group.components & set(components):
        return (
            f"{version} is a release of {', '.join(components)}, and {group.id} hears of "
            f"{', '.join(sorted(group.components))} only (components)"
        )
    if level is None:
        return None
    if pre and not group.prereleases:
        return f"{version} is a pre-release, and {group.id} hears of none (prereleases = false)"
    if level.rank < group.announce_for.rank:
        return (
            f"{version} is a {level.value} release, and {group.id} hears of {group.announce_for.value} releases "
            f'and up (announce_for = "{group.announce_for.value}")'
        )
    return None


def _key(parts: _Parts) -> tuple[int, int, int, int]:
    return (parts.major, parts.minor, parts.patch, 0 if parts.pre else 1)
