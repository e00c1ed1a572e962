"""The commit status of one configuration across many clusters (bot/usecases/push_statuses.py).

Git hosts keep 140 characters of a status description: these stay within it, naming as many clusters as fit,
in the order the trace lists them (by cluster name).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.git_host import STATUS_DESCRIPTION_LIMIT, StatusState
from bot.views import TraceRow, TraceState

_MORE = ", …"


def _count(n: int) -> str:
    return f"{n:,}"


def _clusters(n: int) -> str:
    return f"{_count(n)} cluster" if n == 1 else f"{_count(n)} clusters"


def naming(head: str, names: Sequence[str], limit: int = STATUS_DESCRIPTION_LIMIT) -> str:
    """``head: a, b, …`` with as many of ``names`` as fit in ``limit`` characters (``head`` alone if none)."""
    text = head
    for i, name in enumerate(names):
        more = i + 1 < len(names)
        candidate = f"{text}{': ' if i == 0 else ', '}{name}"
        if len(candidate) + (len(_MORE) if more else 0) > limit:
            return f"{text}{_MORE if i else ''}"[:limit]
        text = candidate
    return text[:limit]


def target_description(row: TraceRow, limit: int = STATUS_DESCRIPTION_LIMIT) -> str:
    """The description of one (cluster, configuration)'s status: a failure says the newest Warning event Flux
    recorded (its object, reason and message) when fluxops could read it, else what ARM reports."""
    text = row.why if row.state is TraceState.FAILED and row.why else row.detail
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def configuration_status(rows: Sequence[TraceRow]) -> tuple[StatusState, str]:
    """The state and description of one configuration's status over ``rows`` (its clusters).

    Pending while any cluster is: "applied on 412/1,000 clusters" (", 3 failed" once some have). Then success
    when every cluster applied the commit; failure when Flux reported it failing on any ("failed on 3 of 1,000:
    fleet-0012, fleet-0440, …"); else error, for clusters where fluxops could not tell (timed out, provisioning
    failed, the configuration went away).
    """
    total = len(rows)
    applied = sum(1 for row in rows if row.state is TraceState.APPLIED)
    failed = [row.cluster for row in rows if row.state is TraceState.FAILED]
    unknown = [row for row in rows if row.state is TraceState.ERROR]
    if any(not row.state.final for row in rows):
        text = f"applied on {_count(applied)}/{_clusters(total)}"
        if failed:
            text += f", {_count(len(failed))} failed"
        if unknown:
            text += f", {_count(len(unknown))} with errors"
        return StatusState.PENDING, text
    if failed:
        head = f"failed on {_count(len(failed))} of {_count(total)}"
        if unknown:
            head += f" ({_count(len(unknown))} more with errors)"
        return StatusState.FAILURE, naming(head, failed)
    if unknown:
        timed_out = all(row.detail.startswith("timed out") for row in unknown)
        head = f"{'timed out' if timed_out else 'error'} on {_count(len(unknown))} of {_count(total)}"
        return StatusState.ERROR, naming(head, [row.cluster for row in unknown])
    return StatusState.SUCCESS, f"applied on {_count(applied)}/{_clusters(total)}"
