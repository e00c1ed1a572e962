"""`/flux freezes`: the change freezes and deployment windows on now or coming up, for the clusters the person may
see (one cluster with ``-c``, those whose tags match ``--clusters``); each names the clusters it covers among them."""

from __future__ import annotations

from bot.change_calendar import Period, now_utc
from bot.commands import ListFreezes
from bot.fleet_decision import selector_text
from bot.inventory import matches_selector
from bot.usecases.context import Job, ResolvedCluster
from bot.views import FreezeRow, Phase


def freezes(job: Job, command: ListFreezes, where: ResolvedCluster | None) -> None:
    now = now_utc(job.ports.pace.wall_clock())
    calendar = job.ports.policy.calendar
    if where is not None:
        clusters = [where]
    else:
        clusters = [
            c
            for c in job.ports.clusters.all()
            if matches_selector(c.cluster, c.alias, command.selector) and job.may_see(c.cluster, c.alias)
        ]
    covered: dict[tuple[str, str, str, str], tuple[Period, list[str]]] = {}
    for place in sorted(clusters, key=lambda c: c.label.lower()):
        for period in calendar.periods(place.cluster, place.alias, now):
            key = (period.kind, period.start.isoformat(), period.end.isoformat(), period.reason)
            covered.setdefault(key, (period, []))[1].append(place.label)
    rows = tuple(
        FreezeRow(
            kind=p.kind,
            start=p.start.isoformat(timespec="seconds"),
            end=p.end.isoformat(timespec="seconds"),
            active=p.active(now),
            reason=p.reason,
            clusters=tuple(labels),
        )
        for p, labels in sorted(covered.values(), key=lambda item: (item[0].start, item[0].kind))
    )
    scope = where.label if where is not None else f"clusters matching {selector_text(command.selector)}"
    note = "" if rows else f"No freeze or window is on now or starts in the next 30 days on {scope}."
    job.show(phase=Phase.SUCCEEDED, freezes=rows, note=note)
