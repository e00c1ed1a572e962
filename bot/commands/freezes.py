"""``/flux freezes``: the change freezes and deployment windows on now or coming up (bot.change_calendar)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import BaseCommand, ClusterTarget


@dataclass(frozen=True)
class ListFreezes(BaseCommand):
    """Freezes and windows on now or starting within 30 days: of one cluster (``target``), of the clusters whose
    tags match ``selector``, or of every cluster the person may see."""

    target: ClusterTarget | None = None
    selector: tuple[tuple[str, str], ...] = ()
    verb: ClassVar[str] = "freezes"
