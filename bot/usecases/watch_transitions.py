"""The life of one configuration's alert, as a pure function of what was stored and what a scan sees now.

States: no record (healthy) -> ``suspect`` (broken, not for long enough yet) -> ``open`` (the alert is posted)
-> ``clearing`` (healthy once) -> no record (the resolved reply is posted). Flapping is damped: a configuration
is alerted once it has been broken for ``settle`` seconds, counted from when Flux says its failing objects turned
failing (their Ready condition's lastTransitionTime: a flap in between resets it) or, when Flux does not say,
from the first read that saw it; it is resolved once seen healthy on two reads ``settle`` apart. What flips back
in between posts nothing. A read that finds a change not settled yet asks for a re-check when it will be
(``Step.recheck_at``), so with ``settle`` under the scan interval a failure is alerted within one interval.
While open, the message is edited when what is broken changes, and a reminder goes in its thread every
``remind_every`` seconds. An open alert whose configuration a scan no longer finds (deleted) is resolved once it
has stayed gone for ``settle`` seconds (``step_gone``): a read that misses it once does not close it.

Every step is stored with a compare-and-set (bot.ports.AlertStore.put): of two workers that read the same record
only one stores the next, and only that one posts; so a transition is reported once across restarts.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from bot.usecases.watch_health import Trouble

SUSPECT = "suspect"
OPEN = "open"
CLEARING = "clearing"


@dataclass(frozen=True)
class Damping:
    """How long a change must hold before it is told (seconds), and how often a reminder goes out."""

    settle: float = 30.0
    remind_every: float = 4 * 3600.0


@dataclass(frozen=True)
class AlertRecord:
    """One configuration's alert as stored between scans."""

    status: str  # SUSPECT | OPEN | CLEARING
    incident: str  # unique per incident: the posts of this incident are kept under it
    since: float  # when the configuration was first seen broken (or Flux says it turned failing)
    seen_at: float  # when the present status was first seen (damping counts from it)
    opened_at: float = 0.0
    reminded_at: float = 0.0
    fingerprint: str = ""  # the trouble the message shows
    kind: str = ""  # bot.alert_views.AlertKind of what the message shows
    headline: str = ""  # and its headline: the resolved message says what was broken
    gone_at: float = 0.0  # when a read first found the configuration gone (0: it is there)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> AlertRecord:
        data = json.loads(text)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class Action(StrEnum):
    NOTHING = "nothing"  # nothing to tell (maybe something to store)
    OPEN = "open"  # post the alert
    UPDATE = "update"  # edit the alert: what is broken changed
    REMIND = "remind"  # edit the alert and reply with a reminder
    RESOLVE = "resolve"  # reply resolved and edit the alert to Resolved


@dataclass(frozen=True)
class Step:
    #: what to store (None: forget the configuration's alert)
    record: AlertRecord | None
    action: Action
    #: check this configuration again at this time (epoch seconds), to settle a change sooner than the next scan
    recheck_at: float | None = None


def new_incident() -> str:
    return uuid.uuid4().hex[:16]


def step(record: AlertRecord | None, trouble: Trouble | None, now: float, damping: Damping) -> Step:
    """What follows ``record`` when a read at ``now`` sees ``trouble`` (None: healthy)."""
    settle = damping.settle
    if record is not None and record.gone_at:
        record = replace(record, gone_at=0.0)  # found again: it was a gap in a read
    if record is None:
        if trouble is None:
            return Step(None, Action.NOTHING)
        since = min(now, trouble.flux_since) if trouble.flux_since is not None else now
        record = AlertRecord(status=SUSPECT, incident=new_incident(), since=since, seen_at=since)
    if record.status == SUSPECT:
        if trouble is None:
            return Step(None, Action.NOTHING)  # a flap: nothing was told, nothing to take back
        if now - record.seen_at >= settle:
            return _open(record, trouble, now)
        return Step(record, Action.NOTHING, recheck_at=record.seen_at + settle)
    if record.status == OPEN:
        if trouble is None:
            if settle <= 0:
                return Step(None, Action.RESOLVE)
            return Step(replace(record, status=CLEARING, seen_at=now), Action.NOTHING, recheck_at=now + settle)
        return _still_broken(record, trouble, now, damping)
    # CLEARING
    if trouble is not None:
        return _still_broken(replace(record, status=OPEN, seen_at=now), trouble, now, damping)
    if now - record.seen_at >= settle:
        return Step(None, Action.RESOLVE)
    return Step(record, Action.NOTHING, recheck_at=record.seen_at + settle)


def step_gone(record: AlertRecord, now: float, damping: Damping) -> Step:
    """What follows ``record`` when a read at ``now`` no longer finds its configuration."""
    if record.status == SUSPECT:
        return Step(None, Action.NOTHING)  # nothing was told
    if not record.gone_at:
        record = replace(record, gone_at=now)
    settle_at = record.gone_at + damping.settle
    if now >= settle_at:
        return Step(None, Action.RESOLVE)
    return Step(record, Action.NOTHING, recheck_at=settle_at)


def _open(record: AlertRecord, trouble: Trouble, now: float) -> Step:
    opened = replace(_shows(record, trouble), status=OPEN, seen_at=now, opened_at=now, reminded_at=now)
    return Step(opened, Action.OPEN)


def _shows(record: AlertRecord, trouble: Trouble) -> AlertRecord:
    return replace(record, fingerprint=trouble.fingerprint, kind=trouble.kind.value, headline=trouble.headline)


def _still_broken(record: AlertRecord, trouble: Trouble, now: float, damping: Damping) -> Step:
    if now - record.reminded_at >= damping.remind_every:
        return Step(replace(_shows(record, trouble), reminded_at=now), Action.REMIND)
    if trouble.fingerprint != record.fingerprint:
        return Step(_shows(record, trouble), Action.UPDATE)
    return Step(record, Action.NOTHING)
