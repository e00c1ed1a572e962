"""Kubernetes JSON -> bot/cluster_objects values: what the adapter makes of the objects a cluster serves."""

from __future__ import annotations

from bot.cluster_objects import REQUESTED_AT, Condition, ObjectRef
from workers import kube_objects

GIT_REPOSITORY = {
    "apiVersion": "source.toolkit.fluxcd.io/v1",
    "kind": "GitRepository",
    "metadata": {
        "name": "cluster-config",
        "namespace": "cluster-config",
        "generation": 3,
        "annotations": {REQUESTED_AT: "2025-06-01T10:00:00Z"},
    },
    "spec": {"interval": "10m0s", "url": "https://github.com/Azure/gitops-flux2-kustomize-helm-mt", "suspend": False},
    "status": {
        "observedGeneration": 3,
        "lastHandledReconcileAt": "2025-06-01T10:00:00Z",
        "artifact": {"revision": "main@sha1:0123456789abcdef"},
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Succeeded",
                "message": "stored artifact for revision 'main@sha1:0123456789abcdef'",
                "lastTransitionTime": "2025-06-01T10:00:01Z",
            },
            {"status": "True"},  # no type: skipped
        ],
    },
}

KUSTOMIZATION = {
    "metadata": {"name": "cluster-config-apps", "namespace": "cluster-config", "generation": 1},
    "spec": {
        "path": "./apps/staging",
        "interval": "10m0s",
        "suspend": True,
        "sourceRef": {"kind": "GitRepository", "name": "cluster-config"},
        "dependsOn": [{"name": "cluster-config-infra"}, {"name": "shared", "namespace": "platform"}],
    },
    "status": {
        "lastAppliedRevision": "main@sha1:aaaa",
        "lastAttemptedRevision": "main@sha1:bbbb",
        "conditions": [{"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomize build"}],
    },
}


def test_source_maps_conditions_revision_and_reconcile_request():
    obj = kube_objects.flux_object("GitRepository", GIT_REPOSITORY)

    assert obj.ref == ObjectRef("GitRepository", "cluster-config", "cluster-config")
    assert (obj.generation, obj.observed_generation) == (3, 3)
    assert obj.revision == "main@sha1:0123456789abcdef"
    assert obj.requested_at == obj.last_handled_reconcile_at == "2025-06-01T10:00:00Z"
    assert obj.handled("2025-06-01T10:00:00Z")
    assert obj.conditions == (
        Condition(
            "Ready",
            "True",
            "Succeeded",
            "stored artifact for revision 'main@sha1:0123456789abcdef'",
            "2025-06-01T10:00:01Z",
        ),
    )
    assert obj.source_ref is None and obj.depends_on == () and obj.path is None
    assert obj.interval == "10m0s" and not obj.suspended


def test_kustomization_takes_kind_from_the_list_and_fills_namespaces():
    obj = kube_objects.flux_object("Kustomization", KUSTOMIZATION)

    assert obj.ref == ObjectRef("Kustomization", "cluster-config-apps", "cluster-config")
    assert obj.source_ref == ObjectRef("GitRepository", "cluster-config", "cluster-config")
    assert obj.depends_on == (
        ObjectRef("Kustomization", "cluster-config-infra", "cluster-config"),
        ObjectRef("Kustomization", "shared", "platform"),
    )
    assert (obj.revision, obj.last_attempted_revision) == ("main@sha1:aaaa", "main@sha1:bbbb")
    assert obj.path == "./apps/staging" and obj.suspended
    assert obj.ready is not None and obj.ready.reason == "BuildFailed"
    assert obj.requested_at is None and obj.last_handled_reconcile_at is None


def test_helm_release_source_and_chart_version():
    release = {
        "kind": "HelmRelease",
        "metadata": {"name": "podinfo", "namespace": "podinfo"},
        "spec": {"chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}},
        "status": {"history": [{"chartVersion": "6.5.4"}, {"chartVersion": "6.5.3"}]},
    }
    obj = kube_objects.flux_object("HelmRelease", release)
    assert obj.source_ref == ObjectRef("HelmRepository", "podinfo", "podinfo")
    assert obj.revision == "6.5.4"
    by_chart_ref = {**release, "spec": {"chartRef": {"kind": "OCIRepository", "name": "podinfo", "namespace": "x"}}}
    assert kube_objects.flux_object("HelmRelease", by_chart_ref).source_ref == ObjectRef(
        "OCIRepository", "podinfo", "x"
    )


def test_an_object_without_status_is_read_as_not_yet_reconciled():
    obj = kube_objects.flux_object("Bucket", {"metadata": {"name": "b", "namespace": "ns"}})
    assert obj.conditions == () and obj.revision is None and obj.ready is None


def _event(name: str, last: str, *, kind: str = "Kustomization", **extra: object) -> dict[str, object]:
    return {
        "metadata": {"name": f"{name}.1", "namespace": "cluster-config"},
        "involvedObject": {"kind": kind, "name": name, "namespace": "cluster-config"},
        "type": "Warning",
        "reason": "BuildFailed",
        "message": f"{name} failed",
        "count": 3,
        "firstTimestamp": "2025-06-01T09:00:00Z",
        "lastTimestamp": last,
        "source": {"component": "kustomize-controller"},
        **extra,
    }


def test_events_are_filtered_by_object_and_time_and_sorted_oldest_first():
    items = [
        _event("apps", "2025-06-01T10:05:00Z"),
        _event("infra", "2025-06-01T10:01:00Z"),
        _event("apps", "2025-06-01T09:59:00Z"),
        _event("apps", "2025-06-01T10:02:00.5+00:00"),
    ]
    apps = ObjectRef("Kustomization", "apps", "cluster-config")

    found = kube_objects.events(items, involved=[apps], since="2025-06-01T10:00:00Z")

    assert [e.last_seen for e in found] == ["2025-06-01T10:02:00.5+00:00", "2025-06-01T10:05:00Z"]
    first = found[0]
    assert (first.involved, first.type, first.reason, first.count, first.source) == (
        apps,
        "Warning",
        "BuildFailed",
        3,
        "kustomize-controller",
    )
    assert len(kube_objects.events(items)) == 4
    # same name, other kind: not the object asked about
    assert kube_objects.events([_event("apps", "2025-06-01T10:05:00Z", kind="GitRepository")], involved=[apps]) == []


def test_events_of_the_newer_api_shape_are_read_too():
    raw = {
        "metadata": {"namespace": "flux-system", "creationTimestamp": "2025-06-01T08:00:00Z"},
        "regarding": {"kind": "GitRepository", "name": "flux-system"},
        "note": "fetched",
        "reason": "NewArtifact",
        "eventTime": "2025-06-01T08:00:00.123456Z",
        "series": {"count": 4, "lastObservedTime": "2025-06-01T08:10:00.000000Z"},
        "reportingController": "source-controller",
    }
    found = kube_objects.event(raw)
    assert found.involved == ObjectRef("GitRepository", "flux-system", "flux-system")
    assert (found.message, found.count, found.source, found.type) == ("fetched", 4, "source-controller", "Normal")
    assert found.last_seen == "2025-06-01T08:10:00.000000Z"


def test_workloads_and_crds():
    deployment = {
        "metadata": {"name": "source-controller", "namespace": "flux-system", "labels": {"app": "source-controller"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"image": "ghcr.io/fluxcd/source-controller"}]}}},
        "status": {"readyReplicas": 1},
    }
    workload = kube_objects.workload(deployment)
    assert workload.ready and workload.image == "ghcr.io/fluxcd/source-controller"
    assert workload.labels == (("app", "source-controller"),)
    scaled_down = kube_objects.workload({**deployment, "spec": {"replicas": 0}, "status": {}})
    assert not scaled_down.ready
    assert kube_objects.workload({"metadata": {"name": "x"}}).replicas == 1  # the API server's default

    crds = {
        "items": [{"metadata": {"name": "kustomizations.kustomize.toolkit.fluxcd.io"}}, {"metadata": {"name": "a.b"}}]
    }
    assert kube_objects.crd_names(crds) == ["a.b", "kustomizations.kustomize.toolkit.fluxcd.io"]
