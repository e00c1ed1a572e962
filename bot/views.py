"""Neutral messages: what the bot wants to say, before any platform's format (see bot/render/).

A job shows one ``JobView``, edited in place as the job moves; destructive commands first show a
``ConfirmView``; usage errors and help are a ``TextView``; a pushed commit is a ``PushView`` and a fleet run a
``FleetRunView``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.cluster_objects import FluxEvent
from bot.models import Cluster, ClusterRef, ExtensionState, FluxConfigState, ObjectStatus, V1Config

#: brackets a Slack user id the bot itself names in a note or step (``mention``); renderers turn only these
#: into mentions and strip the character from every other text, so text from outside cannot ping anyone
MENTION_MARK = "\u2064"


def mention(user_id: str) -> str:
    """How a view's note or step names a Slack user (rendered as ``<@U…>`` in Slack, ``@U…`` elsewhere)."""
    return f"{MENTION_MARK}{user_id}{MENTION_MARK}"


class Phase(StrEnum):
    QUEUED = "queued"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    WAITING = "waiting"  # for another job's lock on the same (cluster, configuration)
    RUNNING = "running"  # the ARM operation
    WATCHING = "watching"  # reconciliation on the cluster
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELED = "canceled"
    HALTED = "halted"  # a fleet run stopped at a failed cluster; `fleet resume` carries on

    @property
    def terminal(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED, Phase.TIMED_OUT, Phase.CANCELED, Phase.HALTED)


class StepState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Step:
    """One line of what the job did: "install microsoft.flux 1.17.3" done."""

    text: str
    state: StepState


@dataclass(frozen=True)
class ErrorInfo:
    """An error as a person reads it: what was happening, what went wrong, what to do."""

    doing: str
    message: str
    recommendation: str = ""
    code: str = ""


@dataclass(frozen=True)
class ClusterRow:
    cluster: Cluster
    alias: str | None = None
    flux_version: str | None = None


@dataclass(frozen=True)
class FreezeRow:
    """A change freeze or deployment window occurrence (`/flux freezes`): ``kind`` freeze | window, ``start`` and
    ``end`` ISO 8601 UTC, whether it is on now, why (a freeze's reason, a window's hours), the clusters it covers."""

    kind: str
    start: str
    end: str
    active: bool
    reason: str
    clusters: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditEntry:
    id: str  # the stream id; also gives the time
    time: str  # ISO 8601 UTC
    actor: str  # "slack:U123"
    origin: str  # "slack:C123"
    command: str  # as typed, secrets redacted
    cluster: str
    job_id: str
    result: str  # "succeeded" | "failed: ..." | "refused: ..." | "canceled"
    #: the ARM id of the one cluster the command ran on ("" for a fleet run, a merge, an older entry): names
    #: and aliases are not unique across resource groups and subscriptions, the id is
    cluster_id: str = ""


class Severity(StrEnum):
    """How much a doctor finding matters: ``error`` blocks Flux or is unsupported, ``warning`` will hurt,
    ``info`` is worth knowing, ``ok`` passed."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"

    @property
    def rank(self) -> int:
        return (Severity.OK, Severity.INFO, Severity.WARNING, Severity.ERROR).index(self)


@dataclass(frozen=True)
class Finding:
    """One thing `/flux doctor` found: what (``text``), how much it matters, and the command that fixes it."""

    severity: Severity
    check: str  # "providers", "extension", "version", "v1", "configurations", "identity", "controllers", ...
    text: str
    fix: str = ""  # an az, kubectl or /flux command that exists; "" when nothing needs doing


@dataclass(frozen=True)
class DoctorReport:
    """Every finding about one cluster, worst first, and the checks that could not run (and why)."""

    cluster: str  # the cluster's label
    findings: tuple[Finding, ...]
    skipped: tuple[str, ...] = ()

    @property
    def worst(self) -> Severity:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=Severity.OK)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


@dataclass(frozen=True)
class EventList:
    """Flux events a job shows: ``/flux events``, or the Warnings of the objects of a Non-Compliant result."""

    events: tuple[FluxEvent, ...] = ()  # oldest first
    #: when they were read (RFC 3339): how long ago each was last seen is measured from it
    as_of: str = ""
    #: older events left out, to keep the message short
    more: int = 0
    #: why they could not be read ("" when they were): a failed read never fails the job
    problem: str = ""


@dataclass(frozen=True)
class DeployedObjects:
    """``/flux deployed-object list|show``: Flux objects a configuration deployed, as Azure reports them."""

    config: str
    cluster: ClusterRef
    objects: tuple[ObjectStatus, ...] = ()
    #: ``show``: the one object asked for, in full (its conditions, its HelmRelease)
    detail: bool = False


@dataclass(frozen=True)
class JobView:
    """The one message a job keeps up to date."""

    job_id: str
    actor: str  # platform user id, e.g. "U123"
    title: str  # "config create cluster-config on flux-demo-arc"
    phase: Phase
    steps: tuple[Step, ...] = ()
    note: str = ""  # "waiting for job j-12 (config update) to release cluster-config on flux-demo-arc"
    config: FluxConfigState | None = None
    #: highlight one kustomization (kustomization show)
    focus: str | None = None
    extension: ExtensionState | None = None
    configs: tuple[FluxConfigState, ...] | None = None  # config list / status of a whole cluster
    clusters: tuple[ClusterRow, ...] | None = None
    audit: tuple[AuditEntry, ...] | None = None
    error: ErrorInfo | None = None
    #: `/flux doctor`: one report per cluster (more than one: `--clusters`, summed up first)
    doctor: tuple[DoctorReport, ...] | None = None
    #: `/flux v1 list`: the Flux v1 configurations of the cluster
    v1_configs: tuple[V1Config, ...] | None = None
    #: ``/flux events``: the events of a configuration's objects
    events: EventList | None = None
    #: why it failed: the Flux events of the failing objects of a Non-Compliant result (read from the cluster)
    failure_events: EventList | None = None
    #: ``/flux extension list``: every extension on the cluster
    extensions: tuple[ExtensionState, ...] | None = None
    #: ``/flux deployed-object list|show``
    deployed: DeployedObjects | None = None
    #: ``/flux freezes``: change freezes and deployment windows on now or coming up
    freezes: tuple[FreezeRow, ...] | None = None


@dataclass(frozen=True)
class ConfirmView:
    """What a destructive command will do, with Confirm and Cancel buttons carrying the job id."""

    job_id: str
    actor: str
    title: str
    summary: str  # "Delete flux configuration cluster-config from flux-demo-arc (Arc)."
    consequences: tuple[str, ...] = ()  # one line each: "kustomization apps (prune) removes HelmRelease podinfo"
    confirm_label: str = "Delete"
    #: who may press Confirm, for the message text ("an admin of flux-demo-arc")
    approver: str = ""
    #: the short digest of the staged command (bot.decision.short): buttons and `/flux confirm` name it
    digest: str = ""
    #: how many people other than the one asking must approve before Confirm runs it (the policy's approvals)
    approvals_required: int = 0
    #: how long an approval counts (seconds)
    approval_ttl: int = 0


@dataclass(frozen=True)
class TextView:
    """Help, usage errors, refusals: plain text, shown only to the person who asked."""

    text: str
    error: bool = False


class TraceState(StrEnum):
    """How far one (cluster, configuration) got with a pushed commit."""

    PENDING = "pending"  # not synced yet, or synced and still reconciling
    APPLIED = "applied"  # synced the commit (or a later one) and every kustomization is ready
    FAILED = "failed"  # synced it and Flux reports it Non-Compliant
    ERROR = "error"  # could not tell: provisioning failed, the configuration went away, timed out

    @property
    def final(self) -> bool:
        return self is not TraceState.PENDING


@dataclass(frozen=True)
class TraceRow:
    cluster: str  # the cluster's label (alias or name)
    config: str
    state: TraceState
    detail: str = ""  # "Kustomization cluster-config-apps: kustomization path not found: ..."
    revision: str = ""  # the configuration's sourceSyncedCommitId when last seen
    #: a failed row: the newest Warning event of the failing objects, read from the cluster once at the end
    #: ("Kustomization apps-apps: BuildFailed: kustomize build failed: ... (3 times)"); "" without cluster access
    #: or events. Shown (and described in its commit status) instead of ``detail``, which says less.
    why: str = ""


@dataclass(frozen=True)
class PushView:
    """A pushed commit traced to every cluster that tracks its repository and branch."""

    job_id: str
    repo: str  # "owner/repo" or "org/project/repo"
    branch: str
    sha: str
    pusher: str
    rows: tuple[TraceRow, ...]
    phase: Phase
    message: str = ""  # the head commit's first line
    commit_url: str = ""

    @property
    def applied(self) -> int:
        return sum(1 for row in self.rows if row.state is TraceState.APPLIED)

    @property
    def finished(self) -> int:
        return sum(1 for row in self.rows if row.state.final)

    @property
    def headline(self) -> str:
        """ "applied on 7/9 clusters" (or "configurations" when a cluster has several that track the repo)."""
        clusters = {row.cluster for row in self.rows}
        noun = "clusters" if len(clusters) == len(self.rows) else "configurations"
        return f"applied on {self.applied}/{len(self.rows)} {noun}"


class WaveState(StrEnum):
    WAITING = "waiting"  # an earlier wave is not done yet
    RUNNING = "running"
    DONE = "done"  # every cluster of the wave reached its goal (Compliant; Succeeded for the extension)
    HALTED = "halted"  # a cluster of the wave failed: nothing after it is written
    CANCELED = "canceled"


@dataclass(frozen=True)
class ClusterFailure:
    cluster: str  # the cluster's label
    reason: str  # "Non-Compliant: Kustomization apps: path not found", "timed out after 10 min at Pending"


@dataclass(frozen=True)
class WaveRow:
    number: int  # 1-based
    state: WaveState
    total: int
    done: int = 0
    in_flight: int = 0  # written, not settled yet
    failed: tuple[ClusterFailure, ...] = ()
    clusters: tuple[str, ...] = ()  # labels, in order (renderers show the first few)


@dataclass(frozen=True)
class ThrottleInfo:
    """ARM's write budget for the run's subscriptions, as fluxops paces itself under it."""

    remaining: int | None  # writes left in the budget as ARM last said (None: not known yet)
    shut_seconds: float = 0.0  # > 0 while a 429's Retry-After keeps every write waiting
    throttled: int = 0  # 429s this run met (each retried, none failed)


@dataclass(frozen=True)
class FleetRunView:
    """One fleet run (``/flux fleet apply``, ``fleet extension update``, a fleet repository's apply), edited in
    place: wave by wave progress, failures with their reason, ARM's throttle and the time left."""

    run_id: str  # the job id
    actor: str
    title: str  # "fleet apply apps to env=prod"
    phase: Phase
    waves: tuple[WaveRow, ...]
    creates: int = 0
    updates: int = 0
    unchanged: int = 0  # matched clusters that already are as asked
    throttle: ThrottleInfo | None = None
    eta_seconds: float | None = None
    note: str = ""  # "halted at wave 2: fleet-0012 is Non-Compliant", "canceled by U123"
    error: ErrorInfo | None = None
    #: the job showing this run when it is not the run itself (`fleet status RUN`): its message is that job's
    shown_by: str = ""

    @property
    def total(self) -> int:
        return sum(w.total for w in self.waves)

    @property
    def done(self) -> int:
        return sum(w.done for w in self.waves)


View = JobView | ConfirmView | TextView | PushView | FleetRunView
