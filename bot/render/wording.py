"""What every renderer says the same way, whatever the platform's markup.

Phase and state words, short revisions, times, references and intervals, which Flux objects are
failing, how a pushed commit fared (``TraceRow``), the labels of error and confirmation texts, and the
two guards every rendered text goes through: secrets are masked (``bot.redact``) and over-long text
is clipped with a note saying how much was left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.models import (
    ClusterRef,
    ClusterType,
    Compliance,
    FluxConfigState,
    ObjectStatus,
    RepositoryRef,
)
from bot.redact import redact as mask_secrets
from bot.views import Phase, PushView, TraceRow, TraceState

PHASE_WORDS: dict[Phase, str] = {
    Phase.QUEUED: "Queued",
    Phase.AWAITING_CONFIRMATION: "Awaiting confirmation",
    Phase.WAITING: "Waiting",
    Phase.RUNNING: "Running",
    Phase.WATCHING: "Reconciling",
    Phase.SUCCEEDED: "Succeeded",
    Phase.FAILED: "Failed",
    Phase.TIMED_OUT: "Timed out",
    Phase.CANCELED: "Canceled",
    Phase.HALTED: "Halted",
}

# A 40-hex (SHA-1) or 64-hex (SHA-256) object id, whole: "main/4f1bdad4d0a5…", "main@sha1:4f1b…".
_OBJECT_ID = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{28}(?:[0-9a-f]{24})?\b")
_ISO_TIME = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)


def short_revision(text: str) -> str:
    """Shorten every full commit id in ``text`` to 12 characters; branch names stay whole."""
    return _OBJECT_ID.sub(r"\1", text)


def redact(text: str) -> str:
    """``text`` with secrets masked (``bot.redact``); commit ids are shortened first, so they stay readable."""
    return mask_secrets(short_revision(text))


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) as one space, trimmed."""
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and how much was left out."""
    if len(text) <= limit:
        return text
    keep = max(limit - 40, 1)
    return f"{text[:keep].rstrip()} … ({len(text) - keep} more characters)"


def cluster_kind(ref: ClusterRef) -> str:
    return "AKS" if ref.cluster_type is ClusterType.MANAGED else "Arc"


def timestamp(text: str | None) -> str | None:
    """An ARM / Kubernetes ISO 8601 time as ``2022-04-06 17:15:48 UTC``; anything else unchanged."""
    if not text:
        return None
    match = _ISO_TIME.match(text.strip())
    if match is None:
        return text
    zone = match["zone"] or "Z"
    try:
        moment = datetime.fromisoformat(match["base"] + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return text
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def reference(ref: RepositoryRef) -> str:
    """``branch main``, ``tag v1.2``, ``semver >=1.0``, ``commit 4f1bdad4d0a5``."""
    if ref.commit:
        return f"commit {short_revision(ref.commit)}"
    if ref.tag:
        return f"tag {ref.tag}"
    if ref.semver:
        return f"semver {ref.semver}"
    if ref.branch:
        return f"branch {ref.branch}"
    return "no reference"


def interval(seconds: int) -> str:
    """``600`` -> ``10m``, ``5400`` -> ``1h30m``, ``45`` -> ``45s`` (Flux's own notation)."""
    if seconds <= 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)


def object_state(obj: ObjectStatus) -> str:
    """The object's compliance state; derived from its Ready condition when the agent gave none."""
    if obj.compliance_state:
        return obj.compliance_state
    ready = obj.ready
    if ready is None:
        return Compliance.UNKNOWN
    return {"True": Compliance.COMPLIANT, "False": Compliance.NON_COMPLIANT}.get(ready.status, Compliance.PENDING)


def is_failing(obj: ObjectStatus) -> bool:
    ready = obj.ready
    return object_state(obj) == Compliance.NON_COMPLIANT or (ready is not None and ready.status == "False")


def status_message(obj: ObjectStatus) -> str:
    """What the object says about itself: its Ready message, else any condition's message."""
    ready = obj.ready
    if ready is not None and ready.message:
        return ready.message
    return next((c.message for c in obj.conditions if c.message), "no status reported yet")


def failing_first(statuses: Iterable[ObjectStatus]) -> list[ObjectStatus]:
    """Failing objects first, each group in the order the agent reported them."""
    return sorted(statuses, key=lambda obj: 0 if is_failing(obj) else 1)


def config_state(config: FluxConfigState) -> str:
    return config.compliance_state or config.provisioning_state or Compliance.UNKNOWN


_SEVERITY = (
    Compliance.NON_COMPLIANT,
    Compliance.PENDING,
    Compliance.SUSPENDED,
    Compliance.UNKNOWN,
    Compliance.COMPLIANT,
)


def tally(states: Iterable[str]) -> str:
    """``1 non-compliant, 5 compliant`` (worst first); ``all 6 compliant`` when that is all."""
    counts = Counter(states)
    total = sum(counts.values())
    if total and counts[Compliance.COMPLIANT] == total:
        return f"all {total} compliant"
    order = [s for s in _SEVERITY if counts[s]] + sorted(s for s in counts if s not in _SEVERITY)
    return ", ".join(f"{counts[s]} {s.lower()}" for s in order)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ---------------------------------------------------------------------------------------------
# Errors and confirmations
# ---------------------------------------------------------------------------------------------

WHAT_WAS_HAPPENING = "What was happening"
WHAT_TO_DO = "What to do"
WHAT_THIS_WILL_DO = "What this will do"
NOTHING_CHANGES = "nothing changes until then"


def confirm_command(job_id: str, digest: str = "") -> str:
    """What to type (in a PR comment) to go ahead with a job: its id and the digest of its command."""
    return f"/flux confirm {job_id} {digest}" if digest else f"/flux confirm {job_id}"


def cancel_command(job_id: str) -> str:
    """What to type to drop a job that awaits confirmation."""
    return f"/flux cancel {job_id}"


def approvals_needed(required: int, ttl: int) -> str:
    """``Needs 2 approvals from people other than the one asking (each counts for 30 min)``."""
    people = "1 approval" if required == 1 else f"{required} approvals"
    minutes = max(1, ttl // 60)
    return f"Needs {people} from people other than the one asking, within {minutes} min, before it can run"


def approve_command(job_id: str, digest: str) -> str:
    """What to type in a PR comment to approve a staged job."""
    return f"/flux approve {job_id} {digest}"


def who_confirms(approver: str) -> str:
    """``Only an admin of prod-weu can confirm``, or ``Confirm`` when the view names nobody."""
    return f"Only {approver} can confirm" if approver else "Confirm"


# ---------------------------------------------------------------------------------------------
# A pushed commit traced over clusters
# ---------------------------------------------------------------------------------------------

TRACE_WORDS: dict[TraceState, str] = {
    TraceState.FAILED: "failed",
    TraceState.ERROR: "error",
    TraceState.PENDING: "pending",
    TraceState.APPLIED: "applied",
}
#: worst first, as every table of a push lists its rows
_TRACE_ORDER = {state: rank for rank, state in enumerate(TRACE_WORDS)}


def trace_order(rows: Iterable[TraceRow]) -> list[TraceRow]:
    """Failed first, then errors, pending and applied; each group in the order the view holds them."""
    return sorted(rows, key=lambda row: _TRACE_ORDER[row.state])


def trace_tally(rows: Iterable[TraceRow]) -> str:
    """``1 failed, 2 pending, 6 applied`` (worst first); ``all 9 applied`` when that is all; ``none``."""
    counts = Counter(row.state for row in rows)
    total = sum(counts.values())
    if not total:
        return "none"
    if counts[TraceState.APPLIED] == total:
        return f"all {total} applied"
    return ", ".join(f"{counts[state]} {word}" for state, word in TRACE_WORDS.items() if counts[state])


def commit_subject(message: str) -> str:
    """The first non-empty line of a commit message."""
    return next((line.strip() for line in message.splitlines() if line.strip()), "")


def commit_url(url: str, sha: str) -> str:
    """A commit's web URL with secrets masked but its commit id whole (Azure DevOps wants the full id)."""
    if not sha or len(sha) < 7:
        return mask_secrets(url)
    return sha.join(mask_secrets(part) for part in url.split(sha))


def push_summary(view: PushView) -> str:
    """``push 4f1bdad4d0a5 to contoso/fleet (main) by alice``: plain text, for each renderer to escape."""
    by = f" by {view.pusher}" if view.pusher else ""
    return f"push {short_revision(view.sha)[:12]} to {view.repo} ({view.branch}){by}"
