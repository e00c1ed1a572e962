"""The simulated Flux as Kubernetes objects: what the Azure flux agent and the Flux controllers keep in a cluster.

Per flux configuration, as the agent creates them: the configuration's namespace, its source object
(GitRepository, Bucket, OCIRepository, named like the configuration, in its namespace), one Kustomization
``{config}-{kustomization}`` per kustomization, and the HelmReleases those applied; each with the spec the agent
derives from the ARM configuration and the status its controller writes (Ready condition, artifact revision,
lastAppliedRevision, lastHandledReconcileAt). Written to the sandbox's :class:`~sandbox.kubeapi.store.KubeStore`.

A fleet publishes statuses many times a second, so an object is rendered only when what it shows changed
(a cheap tuple of its inputs is compared first). Labels: ``app.kubernetes.io/managed-by: fluxops-sandbox`` and
``clusterconfig.azure.com/name`` / ``clusterconfig.azure.com/namespace`` naming the configuration (the sandbox's
choice: what matters is that they say which configuration an object belongs to).
"""

from __future__ import annotations

from typing import Any

from bot.cluster_objects import REQUESTED_AT
from sandbox.fluxsim.dependencies import go_duration
from sandbox.fluxsim.state import ConfigState, ObjectStatus, as_list, mapping
from sandbox.kubeapi import resources
from sandbox.kubeapi.store import ClusterKey, KubeStore, Resource
from sandbox.world import Cluster, FluxConfigRecord

MANAGED_BY = "fluxops-sandbox"
CONFIG_NAME_LABEL = "clusterconfig.azure.com/name"
CONFIG_NAMESPACE_LABEL = "clusterconfig.azure.com/namespace"
DEFAULT_INTERVAL = 600
_SPEC_KEY = {"GitRepository": "gitRepository", "Bucket": "bucket", "OCIRepository": "ociRepository"}
#: (cluster, kind, namespace, name)
ObjectKey = tuple[ClusterKey, str, str, str]


def flux_revision(revision: str | None) -> str | None:
    """ARM's ``main/<sha>`` as Flux v2 writes a revision: ``main@sha1:<sha>`` (``sha1:<sha>`` for a commit)."""
    if not revision:
        return None
    if "@" in revision or revision.startswith("sha256:"):
        return revision  # a Bucket's or an OCI artifact's revision is already in Flux's form
    name, _, sha = revision.rpartition("/")
    return f"{name}@sha1:{sha}" if name else f"sha1:{sha}"


def config_labels(config: str, namespace: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        CONFIG_NAME_LABEL: config,
        CONFIG_NAMESPACE_LABEL: namespace,
    }


def _condition(obj: ObjectStatus) -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": obj.status,
        "reason": obj.reason,
        "message": obj.message,
        "lastTransitionTime": obj.since[:19] + "Z" if obj.since else "",
        "observedGeneration": 0,  # filled in by the caller
    }


def _conditions(obj: ObjectStatus, generation: int) -> list[dict[str, Any]]:
    ready = _condition(obj)
    ready["observedGeneration"] = generation
    conditions = [ready]
    if obj.status == "Unknown":
        # Flux's controllers say Reconciling while they work (kstatus).
        conditions.append({**ready, "type": "Reconciling", "status": "True"})
    return conditions


class FluxObjects:
    """Writes each configuration's Flux objects into the KubeStore when they change, and removes them."""

    def __init__(self, kube: KubeStore) -> None:
        self.kube = kube
        #: what each written object was rendered from: equal inputs, nothing to write
        self._written: dict[ObjectKey, tuple[object, ...]] = {}
        #: annotations clients set (``flux reconcile``'s requestedAt), kept when the object is written again
        self._annotations: dict[ObjectKey, dict[str, str]] = {}
        #: per (cluster, configuration name lower): the objects written for it, to delete with it
        self._owned: dict[tuple[ClusterKey, str], set[ObjectKey]] = {}
        #: object -> (its configuration's name in lower case, its kustomization's name or None)
        self._owner: dict[ObjectKey, tuple[str, str | None]] = {}
        self._namespaces: set[tuple[ClusterKey, str]] = set()

    # -- writes -------------------------------------------------------------------------------

    def publish(self, cluster: Cluster, state: ConfigState) -> None:
        """Write what changed of ``state``'s objects (cheap when nothing did)."""
        record = state.record
        props = record.properties
        namespace = str(props.get("namespace") or "flux-system")
        suspended = bool(props.get("suspend"))
        self.namespace(cluster.key, namespace, labels={"app.kubernetes.io/managed-by": MANAGED_BY})
        owned = self._owned.setdefault((cluster.key, record.name.lower()), set())
        source = state.source
        revision = state.artifact.revision if state.artifact else None
        inputs: tuple[object, ...] = (
            record.generation,
            suspended,
            source.status,
            source.reason,
            source.message,
            source.since,
            revision,
            state.source_updated_at,
            state.source_handled,
        )
        key = (cluster.key, source.kind, namespace, source.name)
        if key not in owned:
            owned.add(key)
            self._owner[key] = (record.name.lower(), None)
        if self._written.get(key) != inputs:
            self._written[key] = inputs
            self._put(key, self._source(record, state, namespace, suspended))
        specs = mapping(props.get("kustomizations"))
        for ks_name, obj in state.kustomizations.items():
            applied, attempted = state.ks_revisions.get(ks_name, (None, None))
            inputs = (
                record.generation,
                suspended,
                obj.status,
                obj.reason,
                obj.message,
                obj.since,
                applied,
                attempted,
                state.ks_handled.get(ks_name),
            )
            key = (cluster.key, "Kustomization", namespace, obj.name)
            if key not in owned:
                owned.add(key)
                self._owner[key] = (record.name.lower(), ks_name)
            if self._written.get(key) != inputs:
                self._written[key] = inputs
                spec = mapping(specs.get(ks_name))
                self._put(key, self._kustomization(record, state, ks_name, spec, obj, namespace, suspended))
        for ks_name, releases in state.releases.items():
            for release in releases:
                helm = release.helm or {}
                inputs = (release.status, release.reason, release.message, release.since, str(helm))
                key = (cluster.key, "HelmRelease", release.namespace, release.name)
                if key not in owned:
                    owned.add(key)
                    self._owner[key] = (record.name.lower(), ks_name)
                if self._written.get(key) != inputs:
                    self._written[key] = inputs
                    self.namespace(cluster.key, release.namespace)
                    self._put(key, self._helm_release(record, ks_name, release, namespace))

    def suspended(self, cluster: Cluster, record: FluxConfigRecord) -> None:
        """The configuration is suspended: its objects say ``spec.suspend: true`` (statuses stay as they were)."""
        for key in sorted(self._owned.get((cluster.key, record.name.lower()), ())):
            resource = self._resource(key[1])
            obj = self.kube.get(key[0], resource, key[2], key[3])
            if obj is not None and resource is not resources.FLUX["HelmRelease"]:
                obj.setdefault("spec", {})["suspend"] = True
                self.kube.put(key[0], resource, obj)
                self._written.pop(key, None)  # written anew when it resumes

    def deleted(self, cluster_key: ClusterKey, config: str) -> None:
        """Configuration ``config`` is gone: delete its objects (its namespace stays, as the agent leaves it)."""
        for key in self._owned.pop((cluster_key, config.lower()), set()):
            self.kube.delete(key[0], self._resource(key[1]), key[2], key[3])
            self._written.pop(key, None)
            self._annotations.pop(key, None)
            self._owner.pop(key, None)

    def namespace(self, cluster_key: ClusterKey, name: str, *, labels: dict[str, str] | None = None) -> None:
        """Make sure namespace ``name`` exists (written once)."""
        if (cluster_key, name) in self._namespaces:
            return
        self._namespaces.add((cluster_key, name))
        metadata: dict[str, Any] = {"name": name, "labels": {"kubernetes.io/metadata.name": name, **(labels or {})}}
        namespace = {"metadata": metadata, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        self.kube.put(cluster_key, resources.NAMESPACES, namespace)

    def owner(self, key: ObjectKey) -> tuple[str, str | None] | None:
        """(configuration name in lower case, kustomization name or None) of a written object, or None."""
        return self._owner.get(key)

    def remember_annotations(self, key: ObjectKey, annotations: dict[str, str]) -> None:
        """A client patched an object's annotations: keep them when the object is written again."""
        self._annotations[key] = dict(annotations)

    # -- rendering ----------------------------------------------------------------------------

    def _put(self, key: ObjectKey, obj: dict[str, Any]) -> None:
        annotations = self._annotations.get(key)
        if annotations:
            obj["metadata"]["annotations"] = dict(annotations)
        self.kube.put(key[0], self._resource(key[1]), obj)

    @staticmethod
    def _resource(kind: str) -> Resource:
        return resources.FLUX[kind]

    @staticmethod
    def _metadata(record: FluxConfigRecord, name: str, namespace: str) -> dict[str, Any]:
        return {
            "name": name,
            "namespace": namespace,
            "generation": record.generation,
            "labels": config_labels(record.name, namespace),
            "finalizers": ["finalizers.fluxcd.io"],
        }

    def _source(self, record: FluxConfigRecord, state: ConfigState, namespace: str, suspended: bool) -> dict[str, Any]:
        props = record.properties
        source = state.source
        kind_key = _SPEC_KEY.get(source.kind, "gitRepository")
        if str(props.get("sourceKind")) == "AzureBlob":
            kind_key = "azureBlob"
        spec_in = mapping(props.get(kind_key))
        spec: dict[str, Any] = {
            "interval": go_duration(spec_in.get("syncIntervalInSeconds") or DEFAULT_INTERVAL),
            "timeout": go_duration(spec_in.get("timeoutInSeconds") or DEFAULT_INTERVAL),
            "url": str(spec_in.get("url") or ""),
            "suspend": suspended,
        }
        if source.kind == "GitRepository":
            ref = {k: v for k, v in mapping(spec_in.get("repositoryRef")).items() if v}
            spec["ref"] = ref or {"branch": "master"}
        elif source.kind == "OCIRepository":
            ref = {k: v for k, v in mapping(spec_in.get("repositoryRef")).items() if v}
            spec["ref"] = ref or {"tag": "latest"}
            if spec_in.get("useWorkloadIdentity"):
                spec["provider"] = "azure"
        elif source.kind == "Bucket":
            spec["bucketName"] = str(spec_in.get("bucketName") or spec_in.get("containerName") or "")
            spec["provider"] = "azure" if kind_key == "azureBlob" else "generic"
        secret = spec_in.get("localAuthRef") or (f"{record.name}-auth" if record.protected else None)
        if secret:
            spec["secretRef"] = {"name": str(secret)}
        status: dict[str, Any] = {
            "conditions": _conditions(source, record.generation),
            "observedGeneration": record.generation if source.status != "Unknown" else 0,
        }
        revision = flux_revision(state.artifact.revision if state.artifact else None)
        if revision is not None and state.artifact is not None:
            plural = resources.FLUX[source.kind].plural[:-1] if source.kind in resources.FLUX else "gitrepository"
            status["artifact"] = {
                "revision": revision,
                "path": f"{plural}/{namespace}/{record.name}/{state.artifact.sha}.tar.gz",
                "url": (
                    f"http://source-controller.flux-system.svc.cluster.local./{plural}/{namespace}/"
                    f"{record.name}/{state.artifact.sha}.tar.gz"
                ),
                "lastUpdateTime": (state.source_updated_at or "")[:19] + "Z",
            }
        if state.source_handled is not None:
            status["lastHandledReconcileAt"] = state.source_handled
        return {
            "metadata": self._metadata(record, record.name, namespace),
            "spec": spec,
            "status": status,
        }

    def _kustomization(
        self,
        record: FluxConfigRecord,
        state: ConfigState,
        ks_name: str,
        spec_in: dict[str, Any],
        obj: ObjectStatus,
        namespace: str,
        suspended: bool,
    ) -> dict[str, Any]:
        interval = spec_in.get("syncIntervalInSeconds") or DEFAULT_INTERVAL
        spec: dict[str, Any] = {
            "interval": go_duration(interval),
            "retryInterval": go_duration(spec_in.get("retryIntervalInSeconds") or interval),
            "timeout": go_duration(spec_in.get("timeoutInSeconds") or DEFAULT_INTERVAL),
            "path": str(spec_in.get("path") or "./"),
            "prune": bool(spec_in.get("prune")),
            "force": bool(spec_in.get("force")),
            "wait": bool(spec_in.get("wait", True)),
            "suspend": suspended,
            "sourceRef": {"kind": state.source.kind, "name": record.name, "namespace": namespace},
        }
        depends = [{"name": f"{record.name}-{d}"} for d in as_list(spec_in.get("dependsOn"))]
        if depends:
            spec["dependsOn"] = depends
        substitute = mapping(mapping(spec_in.get("postBuild")).get("substitute"))
        if substitute:
            spec["postBuild"] = {"substitute": {str(k): str(v) for k, v in substitute.items()}}
        applied, attempted = state.ks_revisions.get(ks_name, (None, None))
        status: dict[str, Any] = {
            "conditions": _conditions(obj, record.generation),
            "observedGeneration": record.generation if obj.status != "Unknown" else 0,
        }
        if applied:
            status["lastAppliedRevision"] = applied
        if attempted:
            status["lastAttemptedRevision"] = attempted
        handled = state.ks_handled.get(ks_name)
        if handled is not None:
            status["lastHandledReconcileAt"] = handled
        return {"metadata": self._metadata(record, obj.name, namespace), "spec": spec, "status": status}

    def _helm_release(
        self, record: FluxConfigRecord, ks_name: str, release: ObjectStatus, config_namespace: str
    ) -> dict[str, Any]:
        helm = release.helm or {}
        chart = mapping(helm.get("helmChartRef"))
        metadata = {
            "name": release.name,
            "namespace": release.namespace,
            "generation": 1,
            "labels": {
                "kustomize.toolkit.fluxcd.io/name": f"{record.name}-{ks_name}",
                "kustomize.toolkit.fluxcd.io/namespace": config_namespace,
            },
            "finalizers": ["finalizers.fluxcd.io"],
        }
        status: dict[str, Any] = {
            "conditions": _conditions(release, 1),
            "observedGeneration": 1,
            "helmChart": f"{chart.get('namespace', config_namespace)}/{chart.get('name', release.name)}",
            "lastAttemptedGeneration": 1,
            "installFailures": int(helm.get("installFailureCount") or 0),
            "upgradeFailures": int(helm.get("upgradeFailureCount") or 0),
            "failures": int(helm.get("failureCount") or 0),
            "history": [{"version": int(helm.get("lastRevisionApplied") or 1), "status": "deployed"}],
        }
        return {
            "metadata": metadata,
            "spec": {"interval": "10m0s", "releaseName": release.name},
            "status": status,
        }


def object_key(cluster_key: ClusterKey, obj: dict[str, Any]) -> ObjectKey:
    """The key of a stored Flux object."""
    meta = obj["metadata"]
    return (cluster_key, str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta["name"]))


def requested_at(obj: dict[str, Any]) -> str | None:
    """The object's ``reconcile.fluxcd.io/requestedAt`` annotation, or None."""
    value = mapping(obj.get("metadata", {}).get("annotations")).get(REQUESTED_AT)
    return str(value) if value else None
