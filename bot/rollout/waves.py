"""How the clusters of a run fall into waves: ``1,10%,100%`` reaches one cluster, then a tenth of them
(cumulative, rounded up), then all; a size that reaches no further than the one before adds no wave."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

from bot.commands import WaveSize

T = TypeVar("T")


def wave_sizes(total: int, sizes: Sequence[WaveSize]) -> list[int]:
    """How many clusters each wave holds; the last wave takes whatever the sizes did not reach."""
    counts: list[int] = []
    reached = 0
    for size in sizes:
        reach = math.ceil(total * size.count / 100) if size.percent else size.count
        reach = min(total, reach)
        if reach > reached:
            counts.append(reach - reached)
            reached = reach
    if reached < total:
        counts.append(total - reached)
    return counts


def partition(items: Sequence[T], counts: Sequence[int]) -> list[list[T]]:
    """``items`` cut into consecutive waves of ``counts`` (which sum to len(items))."""
    waves: list[list[T]] = []
    start = 0
    for count in counts:
        waves.append(list(items[start : start + count]))
        start += count
    return waves
