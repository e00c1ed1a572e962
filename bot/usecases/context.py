"""What a running job holds: its ports, its record, and the progress it has shown so far.

Progress (steps, the message it edits, continuation tokens, finished steps) lives in the job store,
so a job picked up again after its worker died carries on where it was instead of starting over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypedDict, TypeVar, Unpack

from bot import errors
from bot.commands import ClusterTarget
from bot.config_file import DeployKeyPolicy, FleetRepository
from bot.decision import Decision, short
from bot.errors import ConfigurationError
from bot.jobs import Confirmation, JobRecord
from bot.models import Cluster, ExtensionState, FluxConfigState, V1Config
from bot.policy import Identity, Policy
from bot.ports import (
    AuditLog,
    ChartIndexes,
    ClusterApi,
    ClusterClaims,
    ClusterInventory,
    Credentials,
    Extensions,
    FluxConfigs,
    FluxIndex,
    GitHost,
    JobStore,
    KeyMaker,
    KeyRegistry,
    Locks,
    LongRunning,
    Reporter,
    Subscriptions,
    V1Configs,
    WatchChecks,
)
from bot.usecases.accepted import Accepted, NoWait
from bot.views import (
    AuditEntry,
    ClusterRow,
    ConfirmView,
    DeployedObjects,
    DoctorReport,
    ErrorInfo,
    EventList,
    FreezeRow,
    JobView,
    Phase,
    Step,
    StepState,
    ThrottleInfo,
)

T = TypeVar("T")


@dataclass(frozen=True)
class WatchPolicy:
    """How a job follows reconciliation after a write: polls back off from ``first`` to ``longest``."""

    first: float = 1.0
    longest: float = 10.0
    factor: float = 1.5
    timeout: float = 600.0
    #: how often a long ARM operation is polled between heartbeats
    operation_poll: float = 2.0
    #: how many times faster than their configured intervals the clusters' Flux runs: 1 in Azure; the
    #: sandbox's simulated Flux runs at its time scale (a wait "one fetch interval" long follows it)
    flux_time_scale: float = 1.0


@dataclass(frozen=True)
class ResolvedCluster:
    cluster: Cluster
    alias: str | None = None

    @property
    def label(self) -> str:
        return self.alias or self.cluster.ref.name


class ClusterDirectory(Protocol):
    """The inventory's clusters as use-cases find them."""

    def resolve(self, target: ClusterTarget) -> ResolvedCluster:
        """The cluster ``target`` names (alias, name or ARM id); NotFound (saying what there is) otherwise."""
        ...

    def rows(self, selector: Sequence[tuple[str, str]]) -> Sequence[ClusterRow]:
        """`/flux clusters`: the clusters whose tags match every (key, value) of ``selector``."""
        ...

    def all(self) -> Sequence[ResolvedCluster]:
        """Every cluster of the inventory (a push is traced across all of them)."""
        ...


class StagedJobs(Protocol):
    """Jobs waiting for their Confirm (and approvals): what `/flux confirm|approve|cancel JOB` comments do."""

    def confirm(self, job_id: str, confirmed_by: str, digest: str) -> Confirmation:
        """Enqueue the staged job if it is for the command ``digest`` names and approved enough."""
        ...

    def approve(self, job_id: str, approver: str, digest: str) -> int:
        """Record an approval: the approvals counting now, or 0 / -1 / -3 (not awaiting, another command,
        the one who asked)."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Cancel the staged job; False when it is not awaiting confirmation."""
        ...

    def resume(self, job_id: str) -> bool:
        """Queue a fleet run that started and then halted, was canceled or failed (its cancel request cleared);
        False when it is not one."""
        ...


class NoStagedJobs:
    """Where nothing can be staged (tests of single use-cases): every job is "not waiting"."""

    def confirm(self, job_id: str, confirmed_by: str, digest: str) -> Confirmation:
        return Confirmation.NOT_WAITING

    def approve(self, job_id: str, approver: str, digest: str) -> int:
        return 0

    def cancel(self, job_id: str) -> bool:
        return False

    def resume(self, job_id: str) -> bool:
        return False


@dataclass
class KeyPorts:
    """What lets Flux read repositories: the credentials fluxops holds, and the deploy keys it makes."""

    credentials: Credentials
    #: deploy keys fluxops made and sealed secrets; None when FLUXOPS_KEY_ENCRYPTION_KEY is not set
    registry: KeyRegistry | None = None
    maker: KeyMaker | None = None
    #: ``deploy_keys:`` of FLUXOPS_CONFIG: the largest key age and where scheduled rotations report
    policy: DeployKeyPolicy = field(default_factory=DeployKeyPolicy)


def _no_git_host(provider: str) -> GitHost:
    raise ConfigurationError(
        f"fluxops is not connected to {provider}",
        recommendation="set GITHUB_TOKEN (or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY) for GitHub, "
        "ADO_ORG_URL + ADO_TOKEN for Azure DevOps, in the worker's environment",
    )


@dataclass
class GitPorts:
    """The Git hosts: their capabilities, the fleet repositories, and how old a PR comment may be."""

    #: the Git host of a provider ("github", "azure-devops"); raises ConfigurationError when not set up
    host: Callable[[str], GitHost] = _no_git_host
    #: the fleet_repositories entry of FLUXOPS_CONFIG for a repository URL, if it is one
    fleet_repository: Callable[[str], FleetRepository | None] = lambda url: None
    #: a PR comment the host says was written longer than this before intake received it is not run
    comment_max_age: float = 600.0
    #: Helm repository indexes (the pull-request preflight's chart versions); None: not read, said in a note
    charts: ChartIndexes | None = None


@dataclass
class ChatPorts:
    """Chat beyond the job's own message: the channels watching a configuration, and posting into them."""

    subscriptions: Subscriptions | None = None
    #: a reporter that posts this job's message into another channel: (job record, channel) -> Reporter
    channel_reporter: Callable[[JobRecord, str], Reporter] | None = None
    #: asks the watch scan to look at a configuration now (a push traced to it, a write): None when not wired
    watch_checks: WatchChecks | None = None


@dataclass
class Pacing:
    """Time as a job lives it: clocks, sleeping between polls, its heartbeat, failpoints, the watch's cadence."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    #: epoch seconds (key ages, rotation schedule)
    wall_clock: Callable[[], float] = time.time
    heartbeat: Callable[[str], None] = lambda job_id: None
    #: (job id, step) after each recorded step of a key rotation: a failpoint in tests, else nothing
    checkpoint: Callable[[str, str], None] = lambda job_id, step: None
    watch: WatchPolicy = field(default_factory=WatchPolicy)
    #: told the seconds from the end of a write to Flux reporting the configuration Compliant (a metric)
    compliant_after: Callable[[float], None] = lambda seconds: None


class FleetRunLog(Protocol):
    """The fleet runs started, newest first (what `/flux fleet list` lists)."""

    def add(self, run_id: str, started_at: float) -> None: ...
    def recent(self, limit: int) -> list[str]: ...


class MemoryRunLog:
    def __init__(self) -> None:
        self._runs: dict[str, float] = {}

    def add(self, run_id: str, started_at: float) -> None:
        self._runs.setdefault(run_id, started_at)

    def recent(self, limit: int) -> list[str]:
        return sorted(self._runs, key=lambda run: -self._runs[run])[:limit]


class ThrottleGauge(Protocol):
    """ARM's write budget for a subscription as fluxops paces itself (shared by every worker)."""

    def writes(self, subscription_id: str) -> ThrottleInfo | None: ...


@dataclass
class FleetPorts:
    """What fleet-wide work reads and writes through: bulk reads across every cluster, the runs, the throttle."""

    #: flux configurations in bulk (Resource Graph); None lists them cluster by cluster (small test fakes)
    index: FluxIndex | None = None
    runs: FleetRunLog = field(default_factory=MemoryRunLog)
    throttle: ThrottleGauge | None = None


@dataclass
class JobPorts:
    """Everything a use-case may touch. Built by workers/wiring.py (or by tests with in-memory fakes).

    The Azure resources and the job's own records stand alone; the rest come in groups of what belongs
    together: the clusters, the keys and credentials, the Git hosts, chat, staged jobs, time.
    """

    flux: FluxConfigs
    extensions: Extensions
    jobs: JobStore
    locks: Locks
    audit: AuditLog
    clusters: ClusterDirectory
    keys: KeyPorts
    #: who may do what (FLUXOPS_CONFIG): jobs from pull-request comments are authorized in the worker
    policy: Policy = field(default_factory=Policy.empty)
    git: GitPorts = field(default_factory=GitPorts)
    chat: ChatPorts = field(default_factory=ChatPorts)
    staged: StagedJobs = field(default_factory=NoStagedJobs)
    claims: ClusterClaims | None = None
    pace: Pacing = field(default_factory=Pacing)
    fleet: FleetPorts = field(default_factory=FleetPorts)
    #: the clusters' own Kubernetes API (reconcile, events, doctor); None when fluxops has no cluster access
    cluster_api: ClusterApi | None = None
    #: retired Flux v1 configurations (`/flux v1`, doctor); None: not wired (doctor says it skipped them)
    v1: V1Configs | None = None
    #: the subscriptions' resource provider registration (doctor); None: not wired
    inventory: ClusterInventory | None = None


class ViewChanges(TypedDict, total=False):
    """What ``Job.show`` may change in the job's message (bot.views.JobView's fields)."""

    phase: Phase
    note: str
    error: ErrorInfo | None
    config: FluxConfigState | None
    focus: str | None
    extension: ExtensionState | None
    configs: tuple[FluxConfigState, ...] | None
    clusters: tuple[ClusterRow, ...] | None
    audit: tuple[AuditEntry, ...] | None
    doctor: tuple[DoctorReport, ...] | None
    v1_configs: tuple[V1Config, ...] | None
    events: EventList | None
    failure_events: EventList | None
    extensions: tuple[ExtensionState, ...] | None
    deployed: DeployedObjects | None
    freezes: tuple[FreezeRow, ...] | None


#: the durable mark (``done:`` field) of a job that has begun changing something: set before its first write is
#: asked for, so from then on it runs to its end whatever freeze begins meanwhile (bot.decision.recheck)
CHANGE_STARTED = "change-started"


def change_started(jobs: JobStore, job_id: str) -> bool:
    """Job ``job_id`` has begun changing something (``Job.start_change``): a freeze no longer stops it."""
    return jobs.get(job_id, f"done:{CHANGE_STARTED}") == "1"


class Job:
    """One run of one job: shows progress through the reporter and remembers it in the job store."""

    def __init__(self, record: JobRecord, ports: JobPorts, reporter: Reporter, title: str) -> None:
        self.record = record
        self.ports = ports
        self.reporter = reporter
        self.view = JobView(job_id=record.job_id, actor=record.actor, title=title, phase=Phase.RUNNING)
        #: called once, when the job first shows a final phase, before the store or the message says so
        #: (the executor puts the audit entry on record there: whoever sees the end can read it)
        self.before_final: Callable[[], None] | None = None
        #: az's --no-wait (bot.usecases.no_wait sets it): the write is not followed, and the job's success says
        #: where to follow it instead
        self.no_wait: NoWait | None = None
        saved = ports.jobs.get(record.job_id, "steps")
        if saved:
            steps = tuple(Step(text, StepState(state)) for text, state in json.loads(saved))
            self.view = replace(self.view, steps=steps)

    @property
    def job_id(self) -> str:
        return self.record.job_id

    # -- who the job is for ---------------------------------------------------------------------

    @property
    def identity(self) -> Identity | None:
        """Who asked, as intake decided (Slack groups included); None for jobs no person asked for (beat)."""
        if not self.record.decision:
            return None
        return Decision.from_json(self.record.decision).identity

    def may_see(self, cluster: Cluster, alias: str | None = None) -> bool:
        """Whether the person behind this job has a role on ``cluster``: reads show nothing else."""
        identity = self.identity
        return identity is None or self.ports.policy.role_for(identity, cluster, alias) is not None

    def may_see_named(self, name: str) -> bool:
        """``may_see`` for a cluster known by its name, alias or ARM id (audit entries, key users)."""
        try:
            where = self.ports.clusters.resolve(ClusterTarget(name))
        except errors.FluxopsError:
            return self.identity is None
        return self.may_see(where.cluster, where.alias)

    # -- what the message shows -------------------------------------------------------------

    def show(self, **changes: Unpack[ViewChanges]) -> None:
        """Change what the job's message shows (only the fields given) and edit the message."""
        self._become(replace(self.view, **changes))
        self.reporter.show(self.view)

    def record_end(self, phase: Phase) -> None:
        """End the job in ``phase`` without editing its message (a fleet run's message is its own view)."""
        self._become(replace(self.view, phase=phase))

    def _become(self, view: JobView) -> None:
        if view.phase is Phase.SUCCEEDED and self.no_wait is not None:
            view = replace(view, note=self.no_wait.note)  # whatever the use-case noted, it did not see the end
        was_final = self.view.phase.terminal
        self.view = view
        if view.phase.terminal and not was_final and self.before_final is not None:
            self.before_final()
        self.ports.jobs.put(self.job_id, "phase", view.phase.value)

    def confirm(self, view: ConfirmView) -> None:
        if self.record.decision:  # the confirmation names the command it confirms, and the approvals it needs
            decision = Decision.from_json(self.record.decision)
            view = replace(
                view,
                digest=short(decision.command_digest),
                approvals_required=decision.approvals_required,
                approval_ttl=decision.approval_ttl,
            )
        # run_job returns self.view.phase: it must say the job waits for its button, as the store does
        self.view = replace(self.view, phase=Phase.AWAITING_CONFIRMATION)
        self.ports.jobs.put(self.job_id, "phase", Phase.AWAITING_CONFIRMATION.value)
        self.reporter.show(view)

    def step(self, text: str, state: StepState = StepState.RUNNING) -> None:
        """Start a step, or move the step with the same text to ``state``."""
        steps = [s for s in self.view.steps if s.text != text]
        index = next((i for i, s in enumerate(self.view.steps) if s.text == text), len(steps))
        steps.insert(index, Step(text, state))
        self.view = replace(self.view, steps=tuple(steps))
        self.ports.jobs.put(self.job_id, "steps", json.dumps([[s.text, s.state.value] for s in steps]))
        self.reporter.show(self.view)

    def finish_step(self, text: str, done_text: str | None = None, state: StepState = StepState.DONE) -> None:
        """Move the step ``text`` to ``state`` (done unless told), renamed ``done_text`` when given."""
        if done_text is not None and done_text != text:
            steps = tuple(Step(done_text, state) if s.text == text else s for s in self.view.steps)
            self.view = replace(self.view, steps=steps)
            self.step(done_text, state)
        else:
            self.step(text, state)

    def fail_running_steps(self) -> None:
        steps = tuple(Step(s.text, StepState.FAILED) if s.state is StepState.RUNNING else s for s in self.view.steps)
        self.view = replace(self.view, steps=steps)

    # -- durable progress ---------------------------------------------------------------------

    def done(self, key: str) -> bool:
        return self.ports.jobs.get(self.job_id, f"done:{key}") == "1"

    def mark_done(self, key: str) -> None:
        self.ports.jobs.put(self.job_id, f"done:{key}", "1")

    def start_change(self) -> None:
        """Say, before the job's first side effect, that it has begun: a started change runs to its end, so a
        freeze that begins while it is under way (a retry, a redelivery) no longer stops it halfway."""
        if not self.change_started:
            self.mark_done(CHANGE_STARTED)

    @property
    def change_started(self) -> bool:
        return change_started(self.ports.jobs, self.job_id)

    def operation(
        self,
        key: str,
        begin: Callable[[], LongRunning[T]],
        resume: Callable[[str], LongRunning[object]],
    ) -> None:
        """Run an ARM operation once per job: its token is saved first, so a new run resumes it."""
        if self.done(key):
            return
        token = self.ports.jobs.get(self.job_id, f"token:{key}")
        if not token:
            self.start_change()
        operation: LongRunning[object] = resume(token) if token else begin()
        if not token:
            self.ports.jobs.put(self.job_id, f"token:{key}", operation.token)
        self.wait(operation)
        self.mark_done(key)

    def wait(self, operation: LongRunning[object]) -> object:
        """The operation's result, polled until ARM ends it; None at once for a write nobody follows."""
        from bot.errors import StillRunning

        if isinstance(operation, Accepted):
            return None
        while True:
            self.ports.pace.heartbeat(self.job_id)
            try:
                return operation.result(timeout=self.ports.pace.watch.operation_poll)
            except StillRunning:
                continue

    def error(self, doing: str, message: str, recommendation: str = "", code: str = "") -> ErrorInfo:
        return ErrorInfo(doing=doing, message=message, recommendation=recommendation, code=code)
