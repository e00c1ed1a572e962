"""Ports: the small Protocols the use-cases depend on. Adapters in workers/ implement them.

The Azure ports are synchronous: they run inside Celery tasks (see docs/design/azure-adapters.md).
Every write returns a ``LongRunning`` whose ``token`` can be saved and given to ``resume`` by a
restarted worker, which then continues polling the same ARM operation instead of starting over.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar, runtime_checkable

from bot.alert_views import AlertReply, AlertView, Change
from bot.cluster_objects import FLUX_KINDS, FluxEvent, FluxObject, ObjectRef, Workload
from bot.git_host import CheckRun, CommentInfo, CommentRef, CommitStatus, Permission, PullRequestInfo
from bot.gitevents import RepoRef
from bot.jobs import JobRecord
from bot.key_records import CredentialUse, DeployKeyRecord, GeneratedKey
from bot.models import (
    Cluster,
    ClusterRef,
    ExtensionPatch,
    ExtensionSpec,
    ExtensionState,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxConfigState,
    ProtectedSettings,
    Secret,
    V1Config,
)
from bot.policy import Identity
from bot.preflight.chart_versions import ChartIndex
from bot.views import AuditEntry, ConfirmView, FleetRunView, JobView, PushView, TextView
from bot.watches import WatchEntry

T_co = TypeVar("T_co", covariant=True)


class LongRunning(Protocol[T_co]):
    """An ARM long-running operation in flight."""

    @property
    def token(self) -> str:
        """Opaque; save it to resume the operation from another process."""
        ...

    def done(self) -> bool: ...

    def result(self, timeout: float | None = None) -> T_co:
        """Wait for the end; raise a bot.errors.FluxopsError when it failed."""
        ...


class FluxConfigs(Protocol):
    def get(self, cluster: ClusterRef, name: str) -> FluxConfigState: ...
    def list(self, cluster: ClusterRef) -> list[FluxConfigState]: ...
    def begin_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> LongRunning[FluxConfigState]: ...
    def begin_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> LongRunning[FluxConfigState]: ...
    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> LongRunning[None]: ...
    def resume(self, token: str) -> LongRunning[FluxConfigState | None]: ...

    # Writes that return once ARM accepted them, without following the operation (no poller, no thread): a
    # fleet rollout follows hundreds at once by reading the configurations' state in bulk.
    def submit_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> None: ...
    def submit_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> None: ...
    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None: ...


class Extensions(Protocol):
    def versions(
        self, cluster: Cluster, extension_type: str = "microsoft.flux", release_train: str = "Stable"
    ) -> list[str]:
        """The versions of ``extension_type`` released on ``release_train`` in the cluster's region, newest first
        (ARM's ``extensionTypes/{type}/versions``); [] when ARM lists none."""
        ...

    def get(self, cluster: ClusterRef, name: str) -> ExtensionState: ...
    def list(self, cluster: ClusterRef) -> list[ExtensionState]: ...
    def find_flux(self, cluster: ClusterRef) -> ExtensionState | None: ...
    def begin_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> LongRunning[ExtensionState]: ...
    def begin_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> LongRunning[ExtensionState]: ...
    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> LongRunning[None]: ...
    def resume(self, token: str) -> LongRunning[ExtensionState | None]: ...
    def submit_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> None: ...
    def submit_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> None: ...
    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None: ...


class FluxIndex(Protocol):
    """Flux configurations and extensions across every cluster of the subscriptions, read in bulk: one query per
    page of up to 1,000 (Azure Resource Graph), instead of one list per cluster.

    What it returns may lag ARM by some seconds (Resource Graph is eventually consistent): a caller that waits
    for a change it made compares ``status_updated_at`` with when it wrote. Raises bot.errors.FluxopsError
    (retryable when throttled).
    """

    def configurations(
        self, *, name: str | None = None, repository: str | None = None, clusters: Sequence[ClusterRef] = ()
    ) -> list[FluxConfigState]:
        """Every flux configuration, only those named ``name`` (case-insensitive) when given, only those whose
        Git source URL contains ``repository`` (case-insensitive) when given, only those on ``clusters`` when
        any are given (keep them to a few hundred: they are part of the query); callers filter exactly."""
        ...

    def extensions(self, *, extension_type: str = "microsoft.flux") -> list[ExtensionState]:
        """Every extension of ``extension_type`` on every cluster."""
        ...


class V1Configs(Protocol):
    """Flux v1 sourceControlConfigurations: read and delete only (the API is retired)."""

    def list(self, cluster: ClusterRef) -> list[V1Config]: ...
    def get(self, cluster: ClusterRef, name: str) -> V1Config: ...
    def begin_delete(self, cluster: ClusterRef, name: str) -> LongRunning[None]: ...


class ClusterInventory(Protocol):
    def list_clusters(self) -> list[Cluster]: ...
    def get_cluster(self, ref: ClusterRef) -> Cluster: ...
    def provider_states(self, subscription_id: str) -> dict[str, str]:
        """Registration state per resource provider namespace fluxops needs."""
        ...


class ClusterApi(Protocol):
    """A cluster's own Kubernetes API, reached the way az reaches it (ARM ``listClusterUserCredential``): the
    Flux objects, their events and the controllers. Synchronous (it runs in Celery tasks).

    Raises bot.errors.ClusterAccessDenied when the API refuses (the recommendation names what to grant),
    bot.errors.ClusterUnreachable when it cannot be reached (a private cluster: where to run instead),
    bot.errors.NotFound for a missing object, other bot.errors.FluxopsError for the rest.
    """

    def flux_objects(
        self, cluster: ClusterRef, *, namespace: str | None = None, kinds: Sequence[str] = FLUX_KINDS
    ) -> list[FluxObject]:
        """The Flux objects of ``kinds`` in ``namespace`` (every namespace when None)."""
        ...

    def flux_object(self, cluster: ClusterRef, ref: ObjectRef) -> FluxObject: ...

    def request_reconcile(self, cluster: ClusterRef, ref: ObjectRef, requested_at: str) -> FluxObject:
        """Merge-patch ``metadata.annotations[reconcile.fluxcd.io/requestedAt] = requested_at`` onto the object
        (what ``flux reconcile`` does); returns the object as patched."""
        ...

    def events(
        self,
        cluster: ClusterRef,
        *,
        namespace: str | None = None,
        involved: Sequence[ObjectRef] = (),
        since: str | None = None,
    ) -> list[FluxEvent]:
        """Events in ``namespace`` (every namespace when None) about the ``involved`` objects (any when empty),
        last seen at or after ``since`` (RFC 3339) when given; oldest first."""
        ...

    def workloads(self, cluster: ClusterRef, namespace: str | None, *, selector: str = "") -> list[Workload]:
        """The Deployments in ``namespace`` (every namespace when None) whose labels match ``selector`` (a
        Kubernetes label selector: ``name in (flux,memcached),instanceName``; every one when empty)."""
        ...

    def custom_resource_definitions(self, cluster: ClusterRef) -> list[str]:
        """The names of the CRDs installed ("gitrepositories.source.toolkit.fluxcd.io", ...)."""
        ...


class Reporter(Protocol):
    """Where one job's messages go (a Slack channel today, a PR comment later)."""

    def show(self, view: JobView | ConfirmView | PushView | FleetRunView) -> None:
        """The first call posts the job's message; later calls edit that same message."""
        ...

    def private(self, view: TextView | JobView) -> None:
        """Only the person who asked sees it (errors, refusals)."""
        ...


class JobStore(Protocol):
    """Job records and the progress that lets a redelivered or recovered job carry on, not start over."""

    def load(self, job_id: str) -> JobRecord: ...
    def get(self, job_id: str, key: str) -> str | None: ...
    def put(self, job_id: str, key: str, value: str) -> None: ...
    def put_many(self, job_id: str, values: Mapping[str, str]) -> None:
        """Every ``key -> value`` of ``values`` at once (one round trip: a fleet run saves hundreds a tick)."""
        ...


class Locks(Protocol):
    def hold(self, key: str, owner: str) -> AbstractContextManager[None]:
        """Hold ``key`` for ``owner`` while the block runs (kept alive by a heartbeat).

        Raises bot.errors.Busy naming the holder when another owner has it. The same owner may
        take it again (a recovered job re-entering its own lock).
        """
        ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> bool:
        """Append once per (job id, result kind); False when this job's entry is already there."""
        ...

    def read(self, *, since_seconds: int, cluster: str | None = None, limit: int = 20) -> list[AuditEntry]: ...


class Credentials(Protocol):
    """Credentials fluxops holds, by name (what `--https-key-ref NAME` refers to)."""

    def get(self, name: str) -> Secret: ...


class GitHost(Protocol):
    """One connected Git hosting service (GitHub or Azure DevOps), as ``JobPorts.git_host`` hands it out.

    A host implements the capabilities below that it supports, and nothing else; a use-case asks for the
    one it needs through bot.git_capabilities, which says clearly when the host lacks it (Azure DevOps has
    no deploy keys). Capability methods raise bot.errors.FluxopsError (retryable for 429/5xx/timeouts)
    saying what was being done.
    """

    provider: str  # bot.gitevents.GITHUB | AZURE_DEVOPS


@runtime_checkable
class CommitStatuses(Protocol):
    """What a push reports back on its commit: statuses (per (cluster, configuration) for a handful of targets, per
    configuration name above that: bot/usecases/push_statuses.py), and a check run."""

    def set_commit_status(self, repo: RepoRef, sha: str, status: CommitStatus) -> None: ...

    def publish_check_run(self, repo: RepoRef, sha: str, run: CheckRun, run_id: str | None = None) -> str | None:
        """Create (or, given ``run_id``, update) a check run; None when the host cannot (not a GitHub App,
        or Azure DevOps, which shows the per-configuration statuses instead)."""
        ...


@runtime_checkable
class PullRequests(Protocol):
    """Pull requests, their comments and reviews (Azure DevOps: votes), and who may act on the repository."""

    def pull_request(self, repo: RepoRef, number: int) -> PullRequestInfo: ...

    def pull_request_authors(self, repo: RepoRef, number: int) -> frozenset[str]:
        """Everyone who authored, committed or pushed a commit of the pull request (logins / unique names,
        case-folded): people whose approval of it does not count."""
        ...

    def permission(self, repo: RepoRef, user: str) -> Permission:
        """The user's access to the repository (GitHub: collaborator permission; Azure DevOps: the Git
        security namespace, where Contribute is WRITE)."""
        ...

    def comment(self, repo: RepoRef, number: int, body: str, *, reply_to: CommentRef | None = None) -> CommentRef:
        """Post a comment on the pull request (Azure DevOps: a reply in ``reply_to``'s thread, or a new thread)."""
        ...

    def edit_comment(self, repo: RepoRef, number: int, ref: CommentRef, body: str) -> None: ...

    def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        """fluxops' own comment on the pull request whose body contains ``marker``."""
        ...

    def get_comment(self, repo: RepoRef, number: int, ref: CommentRef) -> CommentInfo:
        """Re-read a comment (Azure DevOps sends no signature: what is acted on is read back first)."""
        ...

    def acknowledge(self, repo: RepoRef, number: int, ref: CommentRef) -> None:
        """Show the commenter their command was seen (GitHub: an "eyes" reaction; Azure DevOps: a like)."""
        ...


@runtime_checkable
class RepositoryFiles(Protocol):
    """A repository as the host holds it: what it is, the files at a ref, and how its commits relate."""

    def repository(self, repo: RepoRef) -> RepoRef:
        """The repository as the host knows it, looked up by its id (Azure DevOps) or name (GitHub): its
        clone URL, full name, id and default branch, never a webhook's say-so."""
        ...

    def read_files(self, repo: RepoRef, ref: str, path: str) -> dict[str, str]:
        """Text of the file ``path``, or of every ``*.yaml``/``*.yml`` under directory ``path``, at ``ref``
        (branch or sha), keyed by repository path; {} when nothing is there."""
        ...

    def is_ancestor(self, repo: RepoRef, ancestor: str, descendant: str) -> bool:
        """True when ``descendant`` contains commit ``ancestor`` (equal counts)."""
        ...


@runtime_checkable
class PullRequestStatuses(Protocol):
    """A status on the pull request itself (Azure DevOps; GitHub shows commit statuses on the PR instead)."""

    def set_pull_request_status(self, repo: RepoRef, number: int, status: CommitStatus) -> None: ...


class ChartIndexes(Protocol):
    """Helm repositories' ``index.yaml`` over HTTP(S), for the pull-request preflight's chart-version check."""

    def read(self, url: str) -> ChartIndex:
        """The index at ``url``; one with ``problem`` set (never an exception) when it cannot be read."""
        ...


@runtime_checkable
class DeployKeys(Protocol):
    """Read-only SSH deploy keys on a repository (GitHub; Azure DevOps has none)."""

    def add_deploy_key(self, repo: RepoRef, title: str, public_key: str) -> int:
        """Register ``public_key`` as a read-only deploy key on ``repo``; returns the host's key id.

        Idempotent: when the same key is already registered on ``repo`` (a resumed job), its id is returned.
        """
        ...

    def remove_deploy_key(self, repo: RepoRef, key_id: int) -> bool:
        """Revoke deploy key ``key_id`` of ``repo``; False when it was already gone (idempotent)."""
        ...

    def deploy_key_ids(self, repo: RepoRef) -> dict[int, str]:
        """The deploy keys registered on ``repo``: host key id -> public key ("ssh-ed25519 AAAA...")."""
        ...

    def ssh_host_keys(self) -> list[str]:
        """The host's published SSH host keys ("ssh-ed25519 AAAA...", GitHub's ``GET /meta`` ssh_keys),
        for the known_hosts entry fluxops gives Flux."""
        ...


class KeyMaker(Protocol):
    def generate(self) -> GeneratedKey:
        """A new Ed25519 key pair (private half in OpenSSH format, as Flux takes it)."""
        ...


class KeyRegistry(Protocol):
    """The deploy keys fluxops made (metadata), the credentials it handed out, and sealed private halves.

    Sealed values are encrypted with a key from the settings before they are stored; ``unseal`` gives
    them back only to a job that needs one (to hand a key to another configuration, or to roll back).
    """

    def save(self, record: DeployKeyRecord) -> None: ...
    def get(self, key_id: str) -> DeployKeyRecord | None: ...
    def update(
        self,
        key_id: str,
        change: Callable[[DeployKeyRecord], DeployKeyRecord],
        *,
        default: DeployKeyRecord | None = None,
    ) -> DeployKeyRecord | None:
        """Store ``change`` of the record as it is now (of ``default`` when there is none; nothing when there
        is neither) atomically: read-modify-write that never loses a concurrent change. Returns what it
        stored."""
        ...

    def all(self) -> list[DeployKeyRecord]:
        """Every key, oldest first."""
        ...

    def delete(self, key_id: str) -> None:
        """Forget the key's record and destroy its sealed private half."""
        ...

    def for_config(self, cluster_id: str, config: str) -> DeployKeyRecord | None:
        """The key a configuration uses (cluster id and name are case-insensitive), if fluxops made it."""
        ...

    def for_repository(self, host: str, full_name: str) -> list[DeployKeyRecord]:
        """The keys registered on one repository (case-insensitive), oldest first."""
        ...

    def seal(self, name: str, secret: Secret) -> None:
        """Hold ``secret`` encrypted under ``name`` (a key id, or ``cred:REF``); replaces what was there."""
        ...

    def unseal(self, name: str) -> Secret | None:
        """The secret held under ``name``; None when there is none (destroyed, or never sealed)."""
        ...

    def destroy(self, name: str) -> None:
        """Destroy what is sealed under ``name`` (nothing happens when there is nothing)."""
        ...

    def credential_use(self, ref: str) -> CredentialUse:
        """Which configurations were given credential ``ref`` (an empty use when none)."""
        ...

    def save_credential_use(self, use: CredentialUse) -> None: ...
    def update_credential_use(self, ref: str, change: Callable[[CredentialUse], CredentialUse]) -> CredentialUse:
        """Store ``change`` of who uses ``ref`` now, atomically (never losing a concurrent change)."""
        ...


class Subscriptions(Protocol):
    """Which chat channels follow which (cluster, configuration), and who set each up: what `/flux watch` records
    (bot.watches says why the creator counts)."""

    def add(self, cluster_id: str, config: str, channel: str, creator: Identity) -> bool:
        """True when the channel was not subscribed yet (its creator is recorded again either way)."""
        ...

    def remove(self, cluster_id: str, config: str, channel: str) -> bool: ...

    def watchers(self, cluster_id: str, config: str) -> builtins.list[WatchEntry]:
        """The channels watching one configuration on one cluster, with their creators."""
        ...

    def list(self, cluster_id: str | None = None) -> builtins.list[WatchEntry]:
        """The one-cluster watches (of one cluster, or every one), sorted."""
        ...

    # Selector watches (`/flux watch [NAME] --clusters env=prod`): ``selector`` as typed (``env=prod,region=weu``,
    # "" for every cluster), ``config`` "" for every configuration.
    def add_selector(self, selector: str, config: str, channel: str, creator: Identity) -> bool:
        """True when the channel was not watching that selector (and configuration) yet."""
        ...

    def remove_selector(self, selector: str, config: str, channel: str) -> bool: ...

    def selectors(self) -> builtins.list[WatchEntry]:
        """The selector watches (``where`` the selector), sorted."""
        ...


class AlertStore(Protocol):
    """Watch alerts between scans (bot/usecases/watch_transitions.py): one record per (cluster, configuration),
    stored with a compare-and-set, and the messages posted per incident and channel."""

    def get(self, key: str) -> tuple[str | None, int]:
        """The record's JSON (None when there is none) and its version (0 when there is none)."""
        ...

    def put(self, key: str, record: str | None, *, expect: int) -> bool:
        """Store ``record`` (None: delete it) if the version is still ``expect``; False when another got there
        first (then nothing changes)."""
        ...

    def recorded(self) -> builtins.list[str]:
        """The keys of every record stored (the scan sweeps those it did not read)."""
        ...

    def claim_post(self, incident: str, channel: str) -> bool:
        """Claim posting ``incident``'s alert in ``channel``: True once, for the first caller."""
        ...

    def save_post(self, incident: str, channel: str, ts: str) -> None: ...

    def release_post(self, incident: str, channel: str) -> None:
        """Give up a claim whose post failed, so a later scan tries again."""
        ...

    def posts(self, incident: str) -> dict[str, str]:
        """Channel -> message ts of ``incident`` ("" while a post is claimed and not known to have happened)."""
        ...

    def forget_posts(self, incident: str) -> None:
        """The incident is over: its posts are kept a while (for late readers), then dropped."""
        ...

    def note_change(self, key: str, change: Change) -> None:
        """The last change made to the configuration ``key`` (a push traced to it)."""
        ...

    def last_change(self, key: str) -> Change | None: ...

    def lease(self, owner: str, seconds: float) -> bool:
        """Take (or renew, for the same owner) the lease of the shared scan; False when another owner has it."""
        ...

    def release_lease(self, owner: str) -> None: ...


class AlertNotifier(Protocol):
    """Where watch alerts go: a chat channel message, edited in place, with replies in its thread."""

    def post(self, channel: str, view: AlertView) -> str:
        """Post the alert; returns its message id (Slack's ts)."""
        ...

    def update(self, channel: str, ts: str, view: AlertView) -> None: ...

    def reply(self, channel: str, ts: str, view: AlertReply) -> str: ...


class WatchChecks(Protocol):
    """How a push or a write asks the watch scan to look at one configuration now, instead of at its next scan."""

    def check(self, cluster_id: str, config: str, *, delay: float = 0.0) -> None: ...

    def note_change(self, cluster_id: str, config: str, change: Change) -> None: ...


class ClusterClaims(Protocol):
    """Which pull request is applying to a cluster: held from `/flux apply` until the PR merges or closes,
    an admin unlocks it, or the claim expires."""

    def claim(self, cluster_id: str, holder: str) -> str:
        """Claim ``cluster_id`` for ``holder`` unless another holder has it; returns the holder it has now."""
        ...

    def holder(self, cluster_id: str) -> str | None: ...

    def release_all(self, holder: str) -> list[str]:
        """Release every cluster ``holder`` has; returns their ids."""
        ...

    def release(self, cluster_id: str) -> str | None:
        """Release ``cluster_id`` whoever holds it (`/flux unlock`); returns who held it, None if nobody."""
        ...
