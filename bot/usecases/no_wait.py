"""az's ``--no-wait`` for a job: the write goes to ARM and the job ends once ARM accepted it.

One place decides (``apply``, called by the executor for every job): a command that asked for it gets ports
whose writes only submit (``submit_*``: no operation poller, no thread) and a ``NoWait`` on its job. The
use-cases run as they always do; their ``job.operation`` then returns as soon as ARM answered,
``watch_reconciliation`` does not watch, and the job's success says where to follow the change
(``Job`` puts ``NoWait.note`` on it).

A configuration command's own write is not followed; an extension install it needs first still is, as az
does, since the configuration cannot be written before the extension is there. The configuration's lock ends
with the job, while Azure may still be working on the write.

Where fluxops' own records need the write's outcome, ``--no-wait`` is refused (``refuse_unfollowed``): a
deploy key it generates is recorded as used (or revoked) only once Azure wrote the configuration or refused
it, and a configuration that holds a recorded deploy key or credential leaves that record only once its
delete has ended.
"""

from __future__ import annotations

from dataclasses import replace

from bot import errors
from bot.commands import AzureWrite, Command, ExtensionCreate, ExtensionDelete, ExtensionUpdate
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
)
from bot.ports import Extensions, FluxConfigs, LongRunning
from bot.usecases.accepted import ACCEPTED, NoWait
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.scope_checks import recorded_secret

__all__ = ["NoWait", "SubmittedExtensions", "SubmittedFluxConfigs", "apply", "follow_command", "refuse_unfollowed"]

_WITHOUT = "run the command again without `--no-wait`: the job then follows Azure to the end"


def follow_command(command: AzureWrite, label: str) -> str:
    """The command that shows where the write got to: ``/flux status NAME -c CLUSTER`` (a configuration),
    ``/flux extension show -c CLUSTER`` (an extension)."""
    if isinstance(command, ExtensionCreate | ExtensionUpdate | ExtensionDelete):
        name = command.spec.name if isinstance(command, ExtensionCreate) else command.name
        return f"/flux extension show -c {label}" + ("" if name == "flux" else f" --name {name}")
    config = getattr(command, "config", None) or getattr(command, "name", None)
    if config is None:
        config = getattr(getattr(command, "spec", None), "name", "")
    return f"/flux status {config} -c {label}"


def apply(job: Job, command: Command, where: ResolvedCluster | None) -> None:
    """Make ``job`` return once ARM accepted its write when ``command`` asked for ``--no-wait``."""
    if not isinstance(command, AzureWrite) or not command.no_wait or where is None:
        return
    job.no_wait = NoWait(follow=follow_command(command, where.label))
    if isinstance(command, ExtensionCreate | ExtensionUpdate | ExtensionDelete):
        job.ports = replace(job.ports, extensions=SubmittedExtensions(job.ports.extensions))
    else:
        job.ports = replace(job.ports, flux=SubmittedFluxConfigs(job.ports.flux))


def refuse_unfollowed(job: Job, where: ResolvedCluster, name: str, *, generating: bool, deleting: bool = False) -> None:
    """Refuse ``--no-wait`` where fluxops must see the write end to keep its records of keys and credentials."""
    if job.no_wait is None:
        return
    if generating:
        raise errors.InvalidRequest(
            "`--deploy-key generate` cannot go with `--no-wait`: fluxops records the new key as used by "
            f"'{name}' once Azure has written it, and revokes it if Azure refuses, so it must follow the write",
            recommendation=_WITHOUT,
        )
    held = recorded_secret(job.ports, where, name) if deleting else None
    if held is not None:
        raise errors.InvalidRequest(
            f"flux configuration '{name}' holds {held}, and fluxops takes it off that record only once Azure has "
            "deleted the configuration, so this delete cannot go with `--no-wait`",
            recommendation=_WITHOUT,
        )


class SubmittedFluxConfigs:
    """bot.ports.FluxConfigs whose writes return once ARM accepted them; reads go through unchanged."""

    def __init__(self, inner: FluxConfigs) -> None:
        self._inner = inner

    def get(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        return self._inner.get(cluster, name)

    def list(self, cluster: ClusterRef) -> list[FluxConfigState]:
        return self._inner.list(cluster)

    def begin_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> LongRunning[FluxConfigState]:
        self._inner.submit_create_or_update(cluster, spec, protected)
        return ACCEPTED

    def begin_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> LongRunning[FluxConfigState]:
        self._inner.submit_update(cluster, name, patch)
        return ACCEPTED

    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> LongRunning[None]:
        self._inner.submit_delete(cluster, name, force=force)
        return ACCEPTED

    def resume(self, token: str) -> LongRunning[FluxConfigState | None]:
        return self._inner.resume(token)

    def submit_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> None:
        self._inner.submit_create_or_update(cluster, spec, protected)

    def submit_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> None:
        self._inner.submit_update(cluster, name, patch)

    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None:
        self._inner.submit_delete(cluster, name, force=force)


class SubmittedExtensions:
    """bot.ports.Extensions whose writes return once ARM accepted them; reads go through unchanged."""

    def __init__(self, inner: Extensions) -> None:
        self._inner = inner

    def versions(
        self, cluster: Cluster, extension_type: str = "microsoft.flux", release_train: str = "Stable"
    ) -> list[str]:
        return self._inner.versions(cluster, extension_type, release_train)

    def get(self, cluster: ClusterRef, name: str) -> ExtensionState:
        return self._inner.get(cluster, name)

    def list(self, cluster: ClusterRef) -> list[ExtensionState]:
        return self._inner.list(cluster)

    def find_flux(self, cluster: ClusterRef) -> ExtensionState | None:
        return self._inner.find_flux(cluster)

    def begin_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> LongRunning[ExtensionState]:
        self._inner.submit_create(cluster, spec)
        return ACCEPTED

    def begin_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> LongRunning[ExtensionState]:
        self._inner.submit_update(cluster, name, patch)
        return ACCEPTED

    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> LongRunning[None]:
        self._inner.submit_delete(cluster, name, force=force)
        return ACCEPTED

    def resume(self, token: str) -> LongRunning[ExtensionState | None]:
        return self._inner.resume(token)

    def submit_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> None:
        self._inner.submit_create(cluster, spec)

    def submit_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> None:
        self._inner.submit_update(cluster, name, patch)

    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None:
        self._inner.submit_delete(cluster, name, force=force)
