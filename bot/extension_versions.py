"""microsoft.flux versions: their order, and the window Azure supports (the newest and the two before it, N-2)."""

from __future__ import annotations

from collections.abc import Sequence

#: how many minor versions behind the newest are still supported (N-2)
SUPPORTED_BEHIND = 2


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """``1.17.3`` sorts after ``1.9.10``: numeric parts compare as numbers, others after none of them."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.replace("-", ".").split("."))


def newest_first(versions: Sequence[str]) -> list[str]:
    """``versions`` without repeats, newest first."""
    return sorted(set(versions), key=version_key, reverse=True)


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
