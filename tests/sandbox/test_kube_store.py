"""KubeStore: objects per cluster, resourceVersions, client merge patches with hooks, watches and 410 Gone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sandbox.kubeapi.resources import CRDS, DEPLOYMENTS, EVENTS, FLUX, NAMESPACES, find
from sandbox.kubeapi.store import Change, Gone, InvalidPatch, KubeStore

A = ("sub", "rg", "managedclusters", "a")
B = ("sub", "rg", "managedclusters", "b")
GIT = FLUX["GitRepository"]


def repo(name: str, namespace: str = "flux-system", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"url": "https://example/x", **spec}}


def test_resources_match_flux_kinds_and_discovery_lookup() -> None:
    assert GIT.api_version == "source.toolkit.fluxcd.io/v1" and GIT.plural == "gitrepositories"
    assert FLUX["HelmRelease"].api_version == "helm.toolkit.fluxcd.io/v2"
    assert FLUX["Kustomization"].kind == "Kustomization"
    assert NAMESPACES.api_version == "v1" and not NAMESPACES.namespaced and not CRDS.namespaced
    assert find("", "v1", "events") is EVENTS
    assert find("apps", "v1", "deployments") is DEPLOYMENTS
    assert find("source.toolkit.fluxcd.io", "v1beta2", "gitrepositories") is None


def test_put_stamps_identity_and_versions_and_keeps_uid_on_replace() -> None:
    store = KubeStore()
    first = store.put(A, GIT, repo("apps"))
    assert (first["apiVersion"], first["kind"]) == ("source.toolkit.fluxcd.io/v1", "GitRepository")
    assert first["metadata"]["resourceVersion"] == "1" and first["metadata"]["uid"]
    same = store.put(A, GIT, repo("apps"))
    assert same["metadata"]["resourceVersion"] == "1"  # unchanged: no new version
    changed = store.put(A, GIT, repo("apps", interval="1m"))
    assert changed["metadata"]["resourceVersion"] == "2" == store.resource_version
    assert changed["metadata"]["uid"] == first["metadata"]["uid"]
    assert changed["metadata"]["creationTimestamp"] == first["metadata"]["creationTimestamp"]


def test_objects_are_per_cluster_sorted_and_copied() -> None:
    store = KubeStore()
    store.put(A, GIT, repo("b", "ns2"))
    store.put(A, GIT, repo("a", "ns2"))
    store.put(A, GIT, repo("z", "ns1"))
    store.put(B, GIT, repo("other"))
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in store.list(A, GIT)] == [
        ("ns1", "z"),
        ("ns2", "a"),
        ("ns2", "b"),
    ]
    assert [o["metadata"]["name"] for o in store.list(A, GIT, "ns2")] == ["a", "b"]
    assert [o["metadata"]["name"] for o in store.list(B, GIT)] == ["other"]
    got = store.get(A, GIT, "ns1", "z")
    assert got is not None
    got["spec"]["url"] = "changed"
    assert store.get(A, GIT, "ns1", "z")["spec"]["url"] == "https://example/x"  # type: ignore[index]
    assert store.get(A, GIT, "ns1", "missing") is None


def test_cluster_scoped_objects_ignore_a_namespace() -> None:
    store = KubeStore()
    store.put(A, NAMESPACES, {"metadata": {"name": "flux-system", "namespace": "ignored"}})
    assert store.get(A, NAMESPACES, "", "flux-system") is not None
    assert store.delete(A, NAMESPACES, "anything", "flux-system")
    assert store.list(A, NAMESPACES) == []


def test_patch_merges_bumps_generation_on_spec_keeps_status_and_identity() -> None:
    store = KubeStore()
    stored = store.put(A, GIT, {**repo("apps"), "status": {"observedGeneration": 1}})
    generation = stored["metadata"].get("generation")
    patched = store.patch(
        A,
        GIT,
        "flux-system",
        "apps",
        {
            "metadata": {"name": "renamed", "uid": "forged", "annotations": {"a": "1"}},
            "spec": {"interval": "5m"},
            "status": {"observedGeneration": 99},
        },
    )
    assert patched is not None
    assert patched["metadata"]["name"] == "apps" and patched["metadata"]["uid"] == stored["metadata"]["uid"]
    assert patched["metadata"]["annotations"] == {"a": "1"}
    assert patched["spec"] == {"url": "https://example/x", "interval": "5m"}
    assert patched["metadata"]["generation"] == int(generation or 1) + 1
    assert patched["status"] == {"observedGeneration": 1}
    removed = store.patch(A, GIT, "flux-system", "apps", {"metadata": {"annotations": {"a": None}}})
    assert removed is not None and removed["metadata"]["annotations"] == {}
    assert removed["metadata"]["generation"] == patched["metadata"]["generation"]  # metadata only
    assert store.patch(A, GIT, "flux-system", "missing", {}) is None


def test_a_client_patch_cannot_add_a_status() -> None:
    store = KubeStore()
    store.put(A, GIT, repo("apps"))
    patched = store.patch(A, GIT, "flux-system", "apps", {"status": {"ready": True}})
    assert patched is not None and "status" not in patched


def test_patch_hooks_see_before_and_after() -> None:
    store = KubeStore()
    seen: list[tuple[Any, ...]] = []
    store.on_patch(lambda cluster, resource, before, after: seen.append((cluster, resource, before, after)))
    store.put(A, GIT, repo("apps"))
    store.patch(A, GIT, "flux-system", "apps", {"metadata": {"annotations": {"k": "v"}}})
    [(cluster, resource, before, after)] = seen
    assert (cluster, resource) == (A, GIT)
    assert "annotations" not in before["metadata"] and after["metadata"]["annotations"] == {"k": "v"}


async def next_change(changes: Any) -> Change:
    return await asyncio.wait_for(anext(changes), 2)


async def test_watch_streams_changes_of_its_cluster_resource_and_namespace() -> None:
    store = KubeStore()
    # from the current version: what happens before the generator first runs is not lost
    changes = store.watch(A, GIT, "flux-system", int(store.resource_version))
    first = asyncio.ensure_future(next_change(changes))
    store.put(B, GIT, repo("other-cluster"))
    store.put(A, FLUX["Kustomization"], repo("other-kind"))
    store.put(A, GIT, repo("other-namespace", "elsewhere"))
    store.put(A, GIT, repo("apps"))
    added = await first
    assert (added.type, added.object["metadata"]["name"]) == ("ADDED", "apps")
    store.patch(A, GIT, "flux-system", "apps", {"metadata": {"labels": {"x": "y"}}})
    modified = await next_change(changes)
    assert modified.type == "MODIFIED" and modified.object["metadata"]["labels"] == {"x": "y"}
    store.delete(A, GIT, "flux-system", "apps")
    deleted = await next_change(changes)
    assert deleted.type == "DELETED" and int(deleted.resource_version) > int(modified.resource_version)
    await changes.aclose()


async def test_watch_resumes_from_a_resource_version() -> None:
    store = KubeStore()
    store.put(A, GIT, repo("one"))
    mark = int(store.resource_version)
    store.put(A, GIT, repo("two"))
    store.put(A, GIT, repo("three"))
    changes = store.watch(A, GIT, None, mark)
    assert [(await next_change(changes)).object["metadata"]["name"] for _ in range(2)] == ["two", "three"]
    await changes.aclose()


async def test_watch_from_a_version_older_than_the_history_is_gone() -> None:
    store = KubeStore(history=3)
    for i in range(6):
        store.put(A, GIT, repo(f"r{i}"))
    with pytest.raises(Gone, match="too old resource version"):
        await next_change(store.watch(A, GIT, None, 1))
    recent = store.watch(A, GIT, None, 4)
    assert (await next_change(recent)).object["metadata"]["name"] == "r4"
    await recent.aclose()


@pytest.mark.parametrize("metadata", [None, "x", ["a"]])
def test_a_patch_leaving_metadata_not_an_object_is_invalid(metadata: Any) -> None:
    store = KubeStore()
    store.put(A, GIT, repo("apps"))
    with pytest.raises(InvalidPatch, match="metadata"):
        store.patch(A, GIT, "flux-system", "apps", {"metadata": metadata})
    with pytest.raises(InvalidPatch):
        store.patch(A, GIT, "flux-system", "apps", ["not", "an", "object"])  # type: ignore[arg-type]
    stored = store.get(A, GIT, "flux-system", "apps")
    assert stored is not None and stored["metadata"]["name"] == "apps"


def test_a_patch_cannot_change_apiversion_or_kind() -> None:
    store = KubeStore()
    store.put(A, GIT, repo("apps"))
    patched = store.patch(A, GIT, "flux-system", "apps", {"kind": "Pod", "apiVersion": "v1", "spec": {"x": 1}})
    assert patched is not None
    assert (patched["apiVersion"], patched["kind"]) == ("source.toolkit.fluxcd.io/v1", "GitRepository")
    assert patched["spec"]["x"] == 1


async def test_a_watch_too_far_behind_ends_with_gone() -> None:
    store = KubeStore(watch_queue=2)
    changes = store.watch(A, GIT, None, int(store.resource_version))
    first = asyncio.ensure_future(next_change(changes))
    store.put(A, GIT, repo("r0"))
    assert (await first).object["metadata"]["name"] == "r0"
    for i in range(1, 5):  # the client reads nothing meanwhile: two queued, then it is dropped
        store.put(A, GIT, repo(f"r{i}"))
    with pytest.raises(Gone, match="fell more than 2 changes behind"):
        await next_change(changes)
    store.put(A, GIT, repo("r5"))  # nobody is waiting for it any more: no error, nothing queued
    assert store._watchers == []


def test_drop_cluster_forgets_only_that_cluster() -> None:
    store = KubeStore()
    store.put(A, GIT, repo("a"))
    store.put(B, GIT, repo("b"))
    store.drop_cluster(A)
    assert store.list(A, GIT) == [] and len(store.list(B, GIT)) == 1
