"""The simulated Flux's side of each cluster's Kubernetes API: its objects, its events, and client requests.

:class:`KubeView` is what the scheduler talks to: it writes the configurations' Flux objects
(:mod:`~sandbox.fluxsim.kube_objects`), records events as the controllers would on each outcome
(:mod:`~sandbox.fluxsim.kube_events`), keeps the extension's and Flux v1's objects in step
(:mod:`~sandbox.fluxsim.cluster_install`), and turns a client's ``reconcile.fluxcd.io/requestedAt`` patch into
a reconcile request (handed to ``on_request``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.cluster_objects import KUSTOMIZATION, SOURCE_KINDS
from sandbox.fluxsim.cluster_install import ClusterInstall
from sandbox.fluxsim.dependencies import go_duration
from sandbox.fluxsim.kube_events import (
    HELM_CONTROLLER,
    KUSTOMIZE_CONTROLLER,
    SOURCE_CONTROLLER,
    EventRecorder,
    Involved,
)
from sandbox.fluxsim.kube_objects import FluxObjects, flux_revision, object_key, requested_at
from sandbox.fluxsim.state import ConfigState, ObjectStatus, mapping
from sandbox.kubeapi import resources
from sandbox.kubeapi.store import ClusterKey, KubeStore, Resource
from sandbox.world import Cluster, World

#: (cluster, configuration name in lower case, kustomization name or None for the source, requestedAt value)
RequestHandler = Callable[[ClusterKey, str, str | None, str], None]
#: Normal events: the rest of the failure reasons are Warnings
_NORMAL_REASONS = {"DependencyNotReady", "Progressing"}


class KubeView:
    """Everything the simulated Flux shows in the clusters' Kubernetes APIs."""

    def __init__(self, kube: KubeStore, *, on_request: RequestHandler) -> None:
        self.kube = kube
        self.objects = FluxObjects(kube)
        self.events = EventRecorder(kube)
        self.install = ClusterInstall(kube)
        self.on_request = on_request
        #: (cluster, namespace, name) -> the Helm release revision last announced by an event
        self._helm_revisions: dict[tuple[ClusterKey, str, str], int] = {}
        kube.on_patch(self._patched)

    def seed(self, world: World) -> None:
        """The objects of what the world already holds: installed extensions, Flux v1 operators."""
        for cluster in world.clusters.values():
            self.cluster_changed(cluster)

    def cluster_changed(self, cluster: Cluster) -> None:
        """Bring the extension's and Flux v1's objects in line with what ``cluster`` holds now."""
        self.extension_changed(cluster)
        self.install.v1_sync(cluster.key, cluster.v1_configs)

    # -- the scheduler's calls ----------------------------------------------------------------

    def publish(self, cluster: Cluster, state: ConfigState) -> None:
        self.objects.publish(cluster, state)

    def fetched(self, cluster: Cluster, state: ConfigState, *, new_artifact: bool) -> None:
        """A fetch ended (its outcome is in ``state.source``): source-controller's event."""
        source = state.source
        if source.status == "True":
            if new_artifact and state.artifact is not None:
                revision = flux_revision(state.artifact.revision)
                message = f"stored artifact for revision '{revision}'"
                self._event(cluster, source, "Normal", "NewArtifact", message, SOURCE_CONTROLLER)
        elif source.status == "False":
            self._event(cluster, source, "Warning", source.reason, source.message, SOURCE_CONTROLLER)

    def applied(self, cluster: Cluster, state: ConfigState, ks_name: str, *, changed: bool, seconds: float) -> None:
        """A kustomization's apply ended: kustomize-controller's event (failures every time, as the recorder
        then counts them; success when it applied something new or recovered)."""
        obj = state.kustomizations[ks_name]
        if obj.status == "True":
            if changed:
                spec = mapping(mapping(state.record.properties.get("kustomizations")).get(ks_name))
                interval = go_duration(spec.get("syncIntervalInSeconds") or 600)
                message = f"Reconciliation finished in {seconds:.0f}s, next run in {interval}"
                self._event(cluster, obj, "Normal", "ReconciliationSucceeded", message, KUSTOMIZE_CONTROLLER)
            for release in state.releases.get(ks_name, []):
                self._release_event(cluster, release)
        elif obj.status == "False":
            kind = "Normal" if obj.reason in _NORMAL_REASONS else "Warning"
            self._event(cluster, obj, kind, obj.reason, obj.message, KUSTOMIZE_CONTROLLER)

    def config_deleted(self, cluster: Cluster, name: str) -> None:
        self.objects.deleted(cluster.key, name)

    def suspended(self, cluster: Cluster, name: str) -> None:
        record = cluster.flux_configs.get(name.lower())
        if record is not None:
            self.objects.suspended(cluster, record)

    def extension_changed(self, cluster: Cluster) -> None:
        self.install.extension(cluster.key, cluster.has_flux_extension())

    def v1_config_deleted(self, cluster: Cluster, name: str) -> None:
        self.install.v1_deleted(cluster.key, name)

    # -- internals ----------------------------------------------------------------------------

    def _release_event(self, cluster: Cluster, release: ObjectStatus) -> None:
        revision = int((release.helm or {}).get("lastRevisionApplied") or 0)
        key = (cluster.key, release.namespace, release.name)
        if revision and self._helm_revisions.get(key) != revision:
            self._helm_revisions[key] = revision
            verb = "install" if revision == 1 else "upgrade"
            message = f"Helm {verb} succeeded for release {release.namespace}/{release.name}.v{revision}"
            self._event(cluster, release, "Normal", release.reason, message, HELM_CONTROLLER)

    def _event(
        self, cluster: Cluster, obj: ObjectStatus, type_: str, reason: str, message: str, component: str
    ) -> None:
        resource = resources.FLUX.get(obj.kind)
        if resource is None:
            return
        stored = self.kube.get(cluster.key, resource, obj.namespace, obj.name)
        uid = str(stored["metadata"]["uid"]) if stored is not None else ""
        involved = Involved(obj.kind, obj.name, obj.namespace, resource.api_version, uid)
        self.events.record(cluster.key, involved, type_=type_, reason=reason, message=message, component=component)

    def _patched(self, cluster: ClusterKey, resource: Resource, before: dict[str, Any], after: dict[str, Any]) -> None:
        """A client patched an object: keep its annotations; a new requestedAt asks for a reconcile."""
        if resource.kind not in (*SOURCE_KINDS, KUSTOMIZATION) or resource != resources.FLUX.get(resource.kind):
            return
        key = object_key(cluster, after)
        owner = self.objects.owner(key)
        if owner is None:
            return
        annotations = mapping(after["metadata"].get("annotations"))
        self.objects.remember_annotations(key, {str(k): str(v) for k, v in annotations.items()})
        value = requested_at(after)
        if value is not None and value != requested_at(before):
            config, ks_name = owner
            self.on_request(cluster, config, ks_name, value)
