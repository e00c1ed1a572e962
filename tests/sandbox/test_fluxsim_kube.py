"""The simulated Flux as Kubernetes objects: its objects and events in the KubeStore, and requestedAt honoured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.cluster_objects import REQUESTED_AT
from sandbox.fluxsim import FluxSimulator
from sandbox.git_access import GitAccess
from sandbox.gitrepos import RepoStore
from sandbox.kubeapi import resources
from sandbox.kubeapi.store import KubeStore
from sandbox.runtime import Sandbox, SandboxOptions
from sandbox.seed import LEGACY_ARC, TUTORIAL_RG
from sandbox.tutorial_repo import TUTORIAL_SLUG, TUTORIAL_URL, tutorial_files
from sandbox.world import Cluster, ExtensionRecord, V1ConfigRecord, World, cluster_key, v1_config_properties
from tests.sandbox.test_fluxsim import PRIVATE, Env, wait_for

GIT = resources.FLUX["GitRepository"]
KS = resources.FLUX["Kustomization"]
HR = resources.FLUX["HelmRelease"]
NS = "cluster-config"


class KubeEnv(Env):
    kube: KubeStore

    def obj(self, resource: Any, name: str, namespace: str = NS) -> dict[str, Any]:
        found = self.kube.get(self.cluster.key, resource, namespace, name)
        assert found is not None, f"no {resource.kind} {namespace}/{name}"
        return found

    def ready(self, resource: Any, name: str) -> dict[str, Any]:
        obj = self.kube.get(self.cluster.key, resource, NS, name)
        conditions = (obj or {}).get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == "Ready"), {})

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = self.kube.list(self.cluster.key, resources.EVENTS)
        return [e for e in found if name is None or e["involvedObject"]["name"] == name]


@pytest.fixture
async def kenv(tmp_path: Path) -> AsyncIterator[KubeEnv]:
    world = World()
    cluster = world.add_cluster(Cluster(world.subscriptions[0], "flux-demo-rg", "connectedClusters", "flux-demo-arc"))
    repos = RepoStore(tmp_path / "repos")
    sha = repos.create_repo(TUTORIAL_SLUG, tutorial_files(), private=False)
    repos.create_repo(PRIVATE, tutorial_files(), private=True)
    access = GitAccess()
    kube = KubeStore()
    # time scale 1: intervals (600 s) never come round in a test, so only requests make Flux act
    flux = FluxSimulator(world=world, repos=repos, access=access, time_scale=1.0, step_seconds=0.01, kube=kube)
    env = KubeEnv(world, cluster, repos, access, flux, sha)
    env.kube = kube
    yield env
    await flux.stop()


async def compliant(env: KubeEnv, name: str = "cluster-config", **kwargs: Any) -> None:
    record = env.put(name, **kwargs)
    env.flux.config_changed(env.cluster, name)
    await wait_for(lambda: record.properties["complianceState"] in ("Compliant", "Non-Compliant"))


async def test_a_configuration_shows_as_flux_objects(kenv: KubeEnv) -> None:
    await compliant(kenv)
    sha = kenv.sha
    namespace = kenv.obj(resources.NAMESPACES, NS, "")
    assert namespace["status"] == {"phase": "Active"}

    repo = kenv.obj(GIT, "cluster-config")
    assert repo["apiVersion"] == "source.toolkit.fluxcd.io/v1" and repo["kind"] == "GitRepository"
    assert repo["metadata"]["labels"]["clusterconfig.azure.com/name"] == "cluster-config"
    assert repo["spec"] == {
        "interval": "10m0s",
        "timeout": "10m0s",
        "url": TUTORIAL_URL,
        "ref": {"branch": "main"},
        "suspend": False,
    }
    status = repo["status"]
    assert status["artifact"]["revision"] == f"main@sha1:{sha}"
    assert status["observedGeneration"] == repo["metadata"]["generation"] == 1
    ready = status["conditions"][0]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True", "GitOperationSucceed")
    assert ready["lastTransitionTime"].endswith("Z")
    assert "lastHandledReconcileAt" not in status

    apps = kenv.obj(KS, "cluster-config-apps")
    assert apps["spec"]["path"] == "./apps/staging"
    assert apps["spec"]["prune"] is True
    assert apps["spec"]["dependsOn"] == [{"name": "cluster-config-infra"}]
    assert apps["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "cluster-config", "namespace": NS}
    assert apps["status"]["lastAppliedRevision"] == apps["status"]["lastAttemptedRevision"] == f"main@sha1:{sha}"
    assert kenv.ready(KS, "cluster-config-apps")["status"] == "True"
    assert "dependsOn" not in kenv.obj(KS, "cluster-config-infra")["spec"]

    releases = {r["metadata"]["name"]: r for r in kenv.kube.list(kenv.cluster.key, HR)}
    assert {"nginx", "redis", "podinfo"} <= set(releases)
    podinfo = releases["podinfo"]
    assert podinfo["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert podinfo["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "cluster-config-apps"
    assert podinfo["status"]["conditions"][0]["reason"] == "InstallSucceeded"

    reasons = {(e["involvedObject"]["kind"], e["reason"], e["type"]) for e in kenv.events()}
    assert ("GitRepository", "NewArtifact", "Normal") in reasons
    assert ("Kustomization", "ReconciliationSucceeded", "Normal") in reasons
    assert ("HelmRelease", "InstallSucceeded", "Normal") in reasons
    new_artifact = next(e for e in kenv.events("cluster-config") if e["reason"] == "NewArtifact")
    assert new_artifact["message"] == f"stored artifact for revision 'main@sha1:{sha}'"
    assert new_artifact["source"] == {"component": "source-controller"}
    assert new_artifact["involvedObject"]["uid"] == repo["metadata"]["uid"]
    assert new_artifact["involvedObject"]["apiVersion"] == "source.toolkit.fluxcd.io/v1"


async def test_objects_are_written_only_when_they_change(kenv: KubeEnv) -> None:
    await compliant(kenv)
    version = kenv.kube.resource_version
    state = kenv.flux._states[(kenv.cluster.key, "cluster-config")]
    kenv.flux._publish(kenv.cluster, state)
    assert kenv.kube.resource_version == version


async def test_failures_become_warning_events_that_aggregate(kenv: KubeEnv) -> None:
    await compliant(kenv, kustomizations={"apps": {"path": "./nowhere"}})
    failing = kenv.ready(KS, "cluster-config-apps")
    assert (failing["status"], failing["reason"]) == ("False", "ArtifactFailed")
    [event] = [e for e in kenv.events("cluster-config-apps") if e["reason"] == "ArtifactFailed"]
    assert event["type"] == "Warning" and event["count"] == 1
    assert event["message"] == failing["message"]
    assert event["source"]["component"] == "kustomize-controller"

    for stamp in ("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"):
        kenv.kube.patch(
            kenv.cluster.key, KS, NS, "cluster-config-apps", {"metadata": {"annotations": {REQUESTED_AT: stamp}}}
        )
        await wait_for(lambda s=stamp: kenv.obj(KS, "cluster-config-apps")["status"].get("lastHandledReconcileAt") == s)  # type: ignore[misc]
    [again] = [e for e in kenv.events("cluster-config-apps") if e["reason"] == "ArtifactFailed"]
    assert again["metadata"]["name"] == event["metadata"]["name"]
    assert again["count"] == 3
    assert again["firstTimestamp"] == event["firstTimestamp"]


async def test_events_older_than_an_hour_are_dropped(kenv: KubeEnv) -> None:
    recorder = kenv.flux.view.events if kenv.flux.view else None
    assert recorder is not None
    from sandbox.fluxsim.kube_events import Involved

    old = Involved("GitRepository", "x", NS, "source.toolkit.fluxcd.io/v1")
    recorder.record(
        kenv.cluster.key, old, type_="Warning", reason="GitOperationFailed", message="m", component="c", now=1000.0
    )
    recorder.record(kenv.cluster.key, old, type_="Normal", reason="NewArtifact", message="n", component="c", now=4700.0)
    assert [e["reason"] for e in kenv.events("x")] == ["NewArtifact"]


async def test_a_push_without_a_receiver_waits_for_a_reconcile_request(kenv: KubeEnv) -> None:
    await compliant(kenv)
    kenv.flux.set_receiver(TUTORIAL_URL, False)
    fetches = kenv.flux.stats()["fetches"]
    new = kenv.repos.commit(TUTORIAL_SLUG, {"README.md": "pushed\n"}, "a push")
    assert kenv.flux.repository_pushed(TUTORIAL_URL, "main") == 0
    await kenv.flux._states[(kenv.cluster.key, "cluster-config")].lock.acquire()
    kenv.flux._states[(kenv.cluster.key, "cluster-config")].lock.release()
    assert kenv.flux.stats()["fetches"] == fetches
    assert kenv.obj(GIT, "cluster-config")["status"]["artifact"]["revision"] == f"main@sha1:{kenv.sha}"

    stamp = "2026-03-01T10:00:00.000000Z"
    patched = kenv.kube.patch(
        kenv.cluster.key, GIT, NS, "cluster-config", {"metadata": {"annotations": {REQUESTED_AT: stamp}}}
    )
    assert patched is not None and patched["metadata"]["annotations"][REQUESTED_AT] == stamp
    await wait_for(lambda: kenv.obj(GIT, "cluster-config")["status"].get("lastHandledReconcileAt") == stamp)
    repo = kenv.obj(GIT, "cluster-config")
    assert repo["status"]["artifact"]["revision"] == f"main@sha1:{new}"
    assert repo["metadata"]["annotations"][REQUESTED_AT] == stamp  # kept when the controller wrote status
    assert kenv.flux.stats()["fetches"] == fetches + 1
    # the new revision is then applied without waiting for the kustomizations' interval
    await wait_for(lambda: kenv.obj(KS, "cluster-config-apps")["status"]["lastAppliedRevision"] == f"main@sha1:{new}")

    kenv.flux.set_receiver(TUTORIAL_URL, True)
    assert kenv.flux.repository_pushed(TUTORIAL_URL, "main") == 1


async def test_a_kustomization_request_applies_the_same_revision_again(kenv: KubeEnv) -> None:
    await compliant(kenv)
    fetches = kenv.flux.stats()["fetches"]
    before = kenv.ready(KS, "cluster-config-infra")
    stamp = "2026-03-01T11:00:00Z"
    kenv.kube.patch(
        kenv.cluster.key, KS, NS, "cluster-config-infra", {"metadata": {"annotations": {REQUESTED_AT: stamp}}}
    )
    await wait_for(lambda: kenv.obj(KS, "cluster-config-infra")["status"].get("lastHandledReconcileAt") == stamp)
    assert kenv.flux.stats()["fetches"] == fetches  # applied, not fetched
    assert kenv.ready(KS, "cluster-config-infra")["status"] == before["status"] == "True"
    assert "lastHandledReconcileAt" not in kenv.obj(GIT, "cluster-config")["status"]


async def test_a_suspended_configuration_does_not_handle_requests(kenv: KubeEnv) -> None:
    await compliant(kenv)
    kenv.put(suspend=True)
    kenv.flux.config_changed(kenv.cluster, "cluster-config")
    assert kenv.obj(GIT, "cluster-config")["spec"]["suspend"] is True
    kenv.kube.patch(kenv.cluster.key, GIT, NS, "cluster-config", {"metadata": {"annotations": {REQUESTED_AT: "now"}}})
    state = kenv.flux._states[(kenv.cluster.key, "cluster-config")]
    assert state.source_requested is None and not state.fetch_requested


async def test_deleting_a_configuration_deletes_its_objects(kenv: KubeEnv) -> None:
    await compliant(kenv)
    del kenv.cluster.flux_configs["cluster-config"]
    kenv.flux.config_deleted(kenv.cluster, "cluster-config")
    for resource in (GIT, KS, HR):
        assert kenv.kube.list(kenv.cluster.key, resource) == []
    assert kenv.kube.get(kenv.cluster.key, resources.NAMESPACES, "", NS) is not None


async def test_the_flux_extension_brings_controllers_and_crds(kenv: KubeEnv) -> None:
    key = kenv.cluster.key
    kenv.cluster.extensions["flux"] = ExtensionRecord(
        name="flux",
        properties={
            "extensionType": "microsoft.flux",
            "provisioningState": "Succeeded",
            "currentVersion": "1.16.2",
            "configurationSettings": {"helm-controller.enabled": "false"},
        },
        protected={},
        system_data={},
    )
    kenv.flux.extension_changed(kenv.cluster)
    crds = {c["metadata"]["name"] for c in kenv.kube.list(key, resources.CRDS)}
    assert {"gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"} <= crds
    assert "helmreleases.helm.toolkit.fluxcd.io" in crds
    deployments = {d["metadata"]["name"]: d for d in kenv.kube.list(key, resources.DEPLOYMENTS, "flux-system")}
    assert set(deployments) == {
        "source-controller",
        "kustomize-controller",
        "notification-controller",
        "fluxconfig-agent",
        "fluxconfig-controller",
    }
    source = deployments["source-controller"]
    assert (
        source["spec"]["template"]["spec"]["containers"][0]["image"]
        == "mcr.microsoft.com/oss/fluxcd/source-controller:v1.6.2"
    )
    assert source["status"]["readyReplicas"] == source["spec"]["replicas"] == 1

    del kenv.cluster.extensions["flux"]
    kenv.flux.extension_changed(kenv.cluster)
    assert kenv.kube.list(key, resources.DEPLOYMENTS) == []
    assert kenv.kube.list(key, resources.CRDS) == []


def test_legacy_arc_keeps_its_flux_v1_operators() -> None:
    sandbox = Sandbox(SandboxOptions())
    try:
        sub = sandbox.world.subscriptions[0]
        legacy = sandbox.world.clusters[cluster_key(sub, TUTORIAL_RG, "connectedClusters", LEGACY_ARC)]
        key, store = legacy.key, sandbox.kube_store
        # the seed Flux v1 tutorial's operator: a Deployment named like the instance, and memcached
        tutorial = {d["metadata"]["name"]: d for d in store.list(key, resources.DEPLOYMENTS, "cluster-config")}
        assert set(tutorial) == {"cluster-config", "memcached"}
        flux = tutorial["cluster-config"]
        assert flux["metadata"]["labels"]["name"] == "flux"
        assert flux["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/fluxcd/flux:1.16.0"
        assert flux["status"]["readyReplicas"] == 1
        assert store.get(key, resources.NAMESPACES, "", "cluster-config") is not None

        # one with the Helm operator, added behind ARM's back
        props = v1_config_properties("https://github.com/Azure/arc-k8s-demo", "team-a", enable_helm_operator=True)
        legacy.v1_configs["team-a"] = V1ConfigRecord("team-a", props)
        sandbox.flux.cluster_changed(legacy)
        assert {d["metadata"]["name"] for d in store.list(key, resources.DEPLOYMENTS, "team-a")} == {
            "team-a",
            "memcached",
            "helm-operator",
        }

        sandbox.flux.v1_config_deleted(legacy, "cluster-config")
        assert store.list(key, resources.DEPLOYMENTS, "cluster-config") == []
        assert len(store.list(key, resources.DEPLOYMENTS, "team-a")) == 3
    finally:
        if sandbox._tmp is not None:
            sandbox._tmp.cleanup()
