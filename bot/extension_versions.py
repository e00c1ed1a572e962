"""microsoft.flux versions: their order, and the window Azure supports (the newest and the two before it, N-2)."""

from __future__ import annotations

from collections.abc import Sequence

#: how many minor versions behind the newest are still supported (N-2)
SUPPORTED_BEHIND = 2


#: the release train whose versions are pre-releases; on the others a pre-release is never the one to install
PREVIEW_TRAIN = "preview"

VersionKey = tuple[tuple[int, ...], int, tuple[tuple[int, int, str], ...]]


def version_key(version: str) -> VersionKey:
    """Semantic-version order: ``1.17.3`` after ``1.9.10`` (numbers compare as numbers), a pre-release below its
    release (``1.17.0-preview`` < ``1.17.0``), pre-release identifiers numeric below alphanumeric, build metadata
    (``+...``) ignored; a part that is not a number sorts below every number."""
    core, _, pre = version.partition("+")[0].partition("-")
    numbers = tuple(int(p) if p.isdigit() else -1 for p in core.split("."))
    identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return numbers, 0 if pre else 1, identifiers


def is_prerelease(version: str) -> bool:
    """``1.17.0-preview``, ``1.18.0-rc.1``: a hyphen after the version numbers (build metadata aside)."""
    return "-" in version.partition("+")[0]


def newest_first(versions: Sequence[str]) -> list[str]:
    """``versions`` without repeats, newest first."""
    return sorted(set(versions), key=version_key, reverse=True)


def installable(released: Sequence[str], train: str | None) -> list[str]:
    """The versions to measure a cluster on ``train`` against, newest first: its train's releases, without
    pre-releases unless it is the Preview train (or they are all there is)."""
    ordered = newest_first(released)
    if (train or "").lower() == PREVIEW_TRAIN:
        return ordered
    return [v for v in ordered if not is_prerelease(v)] or ordered


def minor(version: str) -> tuple[int, int] | None:
    """(major, minor) of ``1.17.3``; None when it is not one."""
    parts = version.split(".")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1])


def supported(released: Sequence[str]) -> list[str]:
    """The newest released version of each of the newest ``SUPPORTED_BEHIND + 1`` minor versions, newest first:
    ``1.17.3, 1.16.2, 1.15.1`` for a catalogue whose newest is 1.17.3."""
    chosen: dict[tuple[int, int], str] = {}
    for version in newest_first(released):
        key = minor(version)
        if key is not None and key not in chosen:
            chosen[key] = version
        if len(chosen) > SUPPORTED_BEHIND:
            break
    return list(chosen.values())


def is_supported(version: str, released: Sequence[str]) -> bool:
    """Whether ``version`` is of one of the minor versions in the supported window (N-2)."""
    window = {minor(v) for v in supported(released)}
    return minor(version) in window
