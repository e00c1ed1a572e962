"""Change freezes and deployment windows at a given moment: is a cluster closed to changes now, why, until when.

``ChangeCalendar`` holds the policy's ``freezes:`` and ``windows:`` (bot/freeze_config.py). A cluster is closed
when a freeze that selects it is on, or when windows select it and none of them is open (bot/freezes.py refuses
changes to it). Times are compared in UTC; a schedule fires in its own time zone, and each occurrence lasts its
duration on that zone's wall clock (a weekend freeze ends Monday 10:00 local time across a clock change).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.config_access import ClusterSelector
from bot.freeze_config import FreezeRule, WindowRule
from bot.models import Cluster

FREEZE, WINDOW = "freeze", "window"
#: how many chained freezes ``until`` follows (one ending as the next starts) before it stops looking
_CHAIN = 20
#: how far ahead `/flux freezes` lists upcoming freezes and windows
HORIZON = timedelta(days=30)
#: more than any clock change shifts local time by (two hours at most, in Antarctica/Troll)
_CLOCK_CHANGE = timedelta(hours=3)


def now_utc(epoch: float) -> datetime:
    """A wall-clock epoch as an aware UTC datetime (ports give epochs)."""
    return datetime.fromtimestamp(epoch, UTC)


def when(at: datetime) -> str:
    """``Mon 28 Dec 06:00 UTC``: how messages say a moment."""
    return at.astimezone(UTC).strftime("%a %d %b %H:%M UTC")


@dataclass(frozen=True)
class Closed:
    """Why a cluster is closed to changes now: a freeze (its reason) or being outside its windows."""

    kind: str
    reason: str
    until: datetime | None

    def text(self) -> str:
        """``frozen until Mon 28 Dec 06:00 UTC: quarter-end freeze``."""
        until = f" until {when(self.until)}" if self.until is not None else ""
        if self.kind == FREEZE:
            return f"frozen{until}: {self.reason}"
        return f"outside its deployment windows{until.replace(' until', ', the next opens')} ({self.reason})"


@dataclass(frozen=True)
class Period:
    """One freeze or window occurrence, for `/flux freezes`."""

    kind: str
    start: datetime
    end: datetime
    reason: str
    clusters: ClusterSelector

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end


def _occurrence(rule: FreezeRule | WindowRule, start: datetime, end: datetime) -> Period:
    """One occurrence of ``rule``, named as messages name it: a freeze by its reason, a window by its hours."""
    if isinstance(rule, FreezeRule):
        return Period(FREEZE, start, end, rule.reason, rule.clusters)
    return Period(WINDOW, start, end, rule.describe(), rule.clusters)


def _fixed(rule: FreezeRule | WindowRule) -> Period | None:
    """The one occurrence of a freeze given as ``from`` .. ``to``; None for a schedule."""
    if isinstance(rule, FreezeRule) and rule.from_ is not None and rule.to is not None:
        return _occurrence(rule, rule.from_, rule.to)
    return None


def _fired(rule: FreezeRule | WindowRule, fired: datetime) -> Period:
    """The occurrence that starts when the schedule fires at ``fired`` (aware, in the rule's zone). Its duration
    is wall-clock time there, as its start is: ``0 18 * * FRI`` for 64h ends Monday 10:00 local time, whether or
    not the clocks changed over the weekend (Python adds a timedelta to an aware datetime on the wall clock)."""
    return _occurrence(rule, fired.astimezone(UTC), (fired + rule.length).astimezone(UTC))


def _covering(rule: FreezeRule | WindowRule, now: datetime) -> Period | None:
    """The occurrence of ``rule`` that covers ``now``, if one does (the latest to start, when several do)."""
    fixed = _fixed(rule)
    if fixed is not None:
        return fixed if fixed.active(now) else None
    schedule = rule.schedule
    assert schedule is not None
    # an occurrence lasts its duration on the wall clock: up to a clock change longer in real time, so look back
    # that much more than the duration
    fires = schedule.fires_between(now - rule.length - _CLOCK_CHANGE, now + timedelta(microseconds=1), rule.zone)
    covering = [p for p in (_fired(rule, f) for f in fires) if p.active(now)]
    return covering[-1] if covering else None


def _upcoming(rule: FreezeRule | WindowRule, now: datetime, until: datetime) -> list[Period]:
    """The occurrences of ``rule`` that start after ``now`` and before ``until``."""
    fixed = _fixed(rule)
    if fixed is not None:
        return [fixed] if now < fixed.start < until else []
    schedule = rule.schedule
    assert schedule is not None
    return [_fired(rule, f) for f in schedule.fires_between(now + timedelta(minutes=1), until, rule.zone)]


class ChangeCalendar:
    """The policy's freezes and windows."""

    def __init__(self, freezes: Sequence[FreezeRule] = (), windows: Sequence[WindowRule] = ()) -> None:
        self.freezes = tuple(freezes)
        self.windows = tuple(windows)

    def closed(self, cluster: Cluster, alias: str | None, now: datetime) -> Closed | None:
        """Why ``cluster`` takes no changes at ``now`` (None: it does)."""
        freezes = [f for f in self.freezes if f.clusters.matches(cluster, alias)]
        on = [p for f in freezes if (p := _covering(f, now)) is not None]
        if on:
            last = max(on, key=lambda p: p.end)
            return Closed(FREEZE, "; ".join(dict.fromkeys(p.reason for p in on)), self._open_after(freezes, last.end))
        windows = [w for w in self.windows if w.clusters.matches(cluster, alias)]
        if not windows or any(_covering(w, now) is not None for w in windows):
            return None
        nexts = [n for w in windows if (n := w.schedule.next_fire(now, w.zone)) is not None]
        return Closed(WINDOW, "; ".join(w.describe() for w in windows), min(nexts).astimezone(UTC) if nexts else None)

    @staticmethod
    def _open_after(freezes: Sequence[FreezeRule], end: datetime) -> datetime:
        """When the last of a chain of freezes ends (one may start as another ends)."""
        for _ in range(_CHAIN):
            later = [p.end for f in freezes if (p := _covering(f, end)) is not None and p.end > end]
            if not later:
                break
            end = max(later)
        return end

    def periods(self, cluster: Cluster | None, alias: str | None, now: datetime) -> list[Period]:
        """The freezes and windows on now or starting within ``HORIZON`` (for one cluster, or all), by start."""
        rules: list[FreezeRule | WindowRule] = [*self.freezes, *self.windows]
        if cluster is not None:
            rules = [r for r in rules if r.clusters.matches(cluster, alias)]
        found: list[Period] = []
        for rule in rules:
            current = _covering(rule, now)
            found.extend([current] if current is not None else [])
            found.extend(_upcoming(rule, now, now + HORIZON)[:5])
        return sorted(found, key=lambda p: (p.start, p.kind))
