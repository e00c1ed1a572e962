"""Ports: the small Protocols the use-cases depend on. Adapters in workers/ implement them.

The Azure ports are synchronous: they run inside Celery tasks (see docs/design/azure-adapters.md).
Every write returns a ``LongRunning`` whose ``token`` can be saved and given to ``resume`` by a
restarted worker, which then continues polling the same ARM operation instead of starting over.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from bot.jobs import JobRecord
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
from bot.views import AuditEntry, ConfirmView, JobView, TextView

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


class Extensions(Protocol):
    def get(self, cluster: ClusterRef, name: str) -> ExtensionState: ...
    def list(self, cluster: ClusterRef) -> list[ExtensionState]: ...
    def find_flux(self, cluster: ClusterRef) -> ExtensionState | None: ...
    def begin_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> LongRunning[ExtensionState]: ...
    def begin_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> LongRunning[ExtensionState]: ...
    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> LongRunning[None]: ...
    def resume(self, token: str) -> LongRunning[ExtensionState | None]: ...


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


class Reporter(Protocol):
    """Where one job's messages go (a Slack channel today, a PR comment later)."""

    def show(self, view: JobView | ConfirmView) -> None:
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
