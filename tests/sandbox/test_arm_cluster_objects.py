"""ARM operations reach the clusters' Kubernetes objects: the extension's controllers, Flux v1 operators,
and the receivers switch of the sandbox's control routes."""

from __future__ import annotations

import time
from typing import Any

import requests

from bot.models import ClusterRef
from sandbox.kubeapi import resources
from sandbox.runtime import Endpoints, SandboxThread
from sandbox.tutorial_repo import TUTORIAL_URL
from sandbox.world import V1ConfigRecord, v1_config_properties

AUTH = {"Authorization": "Bearer anything"}


def call(endpoints: Endpoints, method: str, path: str, api: str, **kw: Any) -> requests.Response:
    return requests.request(
        method, endpoints.arm_url + path, params={"api-version": api}, headers=AUTH, verify=str(endpoints.ca_file), **kw
    )


def wait_op(endpoints: Endpoints, url: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        status = str(requests.get(url, headers=AUTH, verify=str(endpoints.ca_file), timeout=10).json()["status"])
        if status != "InProgress" or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def deployments(thread: SandboxThread, ref: ClusterRef, namespace: str) -> set[str]:
    def names(sb: Any) -> set[str]:
        cluster = sb.world.find_cluster(
            ref.subscription_id, ref.resource_group, "Microsoft.Kubernetes", "connectedClusters", ref.name
        )
        return {d["metadata"]["name"] for d in sb.kube_store.list(cluster.key, resources.DEPLOYMENTS, namespace)}

    return thread.call(names)


def test_extension_install_and_delete_bring_and_remove_the_controllers(
    sandbox_thread: SandboxThread, endpoints: Endpoints, fresh_cluster: ClusterRef
) -> None:
    path = (
        f"/subscriptions/{fresh_cluster.subscription_id}/resourceGroups/{fresh_cluster.resource_group}"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{fresh_cluster.name}"
        "/providers/Microsoft.KubernetesConfiguration/extensions/flux"
    )
    created = call(endpoints, "PUT", path, "2025-03-01", json={"properties": {"extensionType": "microsoft.flux"}})
    assert created.status_code == 201
    assert deployments(sandbox_thread, fresh_cluster, "flux-system") == set()  # not before the install is done
    assert wait_op(endpoints, created.headers["Azure-AsyncOperation"]) == "Succeeded"
    assert {"source-controller", "kustomize-controller", "fluxconfig-agent"} <= deployments(
        sandbox_thread, fresh_cluster, "flux-system"
    )
    deleted = call(endpoints, "DELETE", path, "2025-03-01")
    assert deleted.status_code == 202
    assert wait_op(endpoints, deleted.headers["Azure-AsyncOperation"]) == "Succeeded"
    assert deployments(sandbox_thread, fresh_cluster, "flux-system") == set()


def test_deleting_a_flux_v1_configuration_removes_its_operator(
    sandbox_thread: SandboxThread, endpoints: Endpoints, fresh_cluster: ClusterRef
) -> None:
    def add(sb: Any) -> None:
        cluster = sb.world.find_cluster(
            fresh_cluster.subscription_id,
            fresh_cluster.resource_group,
            "Microsoft.Kubernetes",
            "connectedClusters",
            fresh_cluster.name,
        )
        cluster.v1_configs["old"] = V1ConfigRecord(
            "old", v1_config_properties("https://github.com/Azure/arc-k8s-demo", "old-ns")
        )
        sb.flux.cluster_changed(cluster)

    sandbox_thread.call(add)
    assert deployments(sandbox_thread, fresh_cluster, "old-ns") == {"old-ns", "memcached"}
    path = (
        f"/subscriptions/{fresh_cluster.subscription_id}/resourceGroups/{fresh_cluster.resource_group}"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{fresh_cluster.name}"
        "/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/old"
    )
    assert call(endpoints, "DELETE", path, "2023-05-01").status_code == 200
    assert deployments(sandbox_thread, fresh_cluster, "old-ns") == set()


def test_receivers_switch(sandbox_thread: SandboxThread, endpoints: Endpoints) -> None:
    url = f"{endpoints.arm_url}/_sandbox/receivers"
    verify = str(endpoints.ca_file)
    off = requests.put(url, json={"enabled": False, "repository": TUTORIAL_URL}, verify=verify, timeout=10)
    assert off.status_code == 200
    try:
        assert sandbox_thread.call(lambda sb: sb.flux.receiver_enabled(TUTORIAL_URL)) is False
        assert sandbox_thread.call(lambda sb: sb.flux.receiver_enabled(TUTORIAL_URL + ".git")) is False
        assert sandbox_thread.call(lambda sb: sb.flux.receiver_enabled("https://github.com/other/repo")) is True
    finally:
        requests.put(url, json={"enabled": True, "repository": TUTORIAL_URL}, verify=verify, timeout=10)
    assert sandbox_thread.call(lambda sb: sb.flux.receiver_enabled(TUTORIAL_URL)) is True
    bad = requests.put(url, json={"enabled": "no"}, verify=verify, timeout=10)
    assert bad.status_code == 400
