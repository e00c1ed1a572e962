"""Helm's version constraints (Masterminds semver, which Flux's helm-controller uses), enough to tell whether
a chart index has a version a HelmRelease asks for: ``6.5.4``, ``6.x``, ``>=1.2 <2``, ``~1.2``, ``^0.3``,
``1.2 - 1.4``, alternatives joined by ``||``. Prereleases match only a constraint that names one."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

Version = tuple[int, int, int, tuple[str, ...]]

_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")
_PARTIAL = re.compile(r"v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")
_TERM = re.compile(r"(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?\s*([^\s!<>=~^]+)")
_WILD = {"x", "X", "*"}

Test = Callable[[Version], bool]


class BadConstraint(ValueError):
    """Not a constraint fluxops can read (helm-controller would refuse it too)."""


def parse_version(text: str) -> Version | None:
    """``1.2.3-rc.1`` -> (1, 2, 3, ("rc", "1")); None when it is no version."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    return int(major), int(minor or 0), int(patch or 0), tuple(pre.split(".")) if pre else ()


def _order(version: Version) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
    """Sort key: a release after its prereleases; numeric identifiers before alphanumeric ones."""
    pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version[3])
    return version[0], version[1], version[2], 0 if version[3] else 1, pre


def _lt(a: Version, b: Version) -> bool:
    return _order(a) < _order(b)


def _release(parts: list[int], pre: tuple[str, ...] = ()) -> Version:
    padded = [*parts, 0, 0, 0]
    return padded[0], padded[1], padded[2], pre


def _bounds(text: str) -> tuple[Version, Version | None, int]:
    """(lowest version, first version past it for a partial one or None, how many parts were given)."""
    match = _PARTIAL.fullmatch(text)
    if match is None:
        raise BadConstraint(text)
    parts: list[int] = []
    for part in match.groups()[:3]:
        if part is None or part in _WILD:
            break
        parts.append(int(part))
    low = _release(parts, tuple(match.group(4).split(".")) if match.group(4) else ())
    if len(parts) == 3:
        return low, None, 3
    if not parts:
        return low, (1 << 30, 0, 0, ()), 0
    return low, _release([*parts[:-1], parts[-1] + 1]), len(parts)


def _term(op: str, text: str) -> Test:
    low, high, given = _bounds(text)
    upper = high if high is not None else None
    if op in ("", "="):
        return (lambda v: not _lt(v, low) and _lt(v, upper)) if upper else (lambda v: v == low)
    if op == "!=":
        return (lambda v: _lt(v, low) or not _lt(v, upper)) if upper else (lambda v: v != low)
    if op == ">":
        return (lambda v: not _lt(v, upper)) if upper else (lambda v: _lt(low, v))
    if op in (">=", "=>"):
        return lambda v: not _lt(v, low)
    if op == "<":
        return lambda v: _lt(v, low)
    if op in ("<=", "=<"):
        return (lambda v: _lt(v, upper)) if upper else (lambda v: not _lt(low, v))
    if op in ("~", "~>"):
        top: Version = (low[0] + 1, 0, 0, ()) if given <= 1 else (low[0], low[1] + 1, 0, ())
        return lambda v: not _lt(v, low) and _lt(v, top)
    # ^: the leftmost non-zero part given may not change
    if low[0] > 0 or given <= 1:
        top = (low[0] + 1, 0, 0, ())
    elif low[1] > 0 or given == 2:
        top = (0, low[1] + 1, 0, ())
    else:
        top = (0, 0, low[2] + 1, ())
    return lambda v: not _lt(v, low) and _lt(v, top)


def _group(text: str) -> list[Test]:
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text.strip())
    if hyphen:
        return [_term(">=", hyphen.group(1)), _term("<=", hyphen.group(2))]
    terms = _TERM.findall(text.replace(",", " "))
    if not terms:
        return [_term("", "*")]
    return [_term(op, value) for op, value in terms]


def matching(constraint: str, versions: Iterable[str]) -> list[str]:
    """The versions among ``versions`` that ``constraint`` accepts; BadConstraint when it cannot be read."""
    groups = [_group(part) for part in constraint.split("||")]
    allow_pre = "-" in re.sub(r"\s+-\s+", " ", constraint)
    accepted = []
    for text in versions:
        version = parse_version(text)
        if version is None or (version[3] and not allow_pre):
            continue
        if any(all(test(version) for test in group) for group in groups):
            accepted.append(text)
    return accepted
