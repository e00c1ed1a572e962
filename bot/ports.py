"""Ports: the small Protocols the use-cases depend on. Adapters in workers/ implement them.

The Azure ports are synchronous: they run inside Celery tasks (see docs/design/azure-adapters.md).
Every write returns a ``LongRunning`` whose ``token`` can be saved and given to ``resume`` by a
restarted worker, which then continues polling the same ARM operation instead of starting over.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

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
    V1Config,
)

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
