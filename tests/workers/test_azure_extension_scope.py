"""Extension scope, the list of every extension, and writes that return once ARM accepted them, through the real
SDK against the sandbox's ARM emulator."""

from __future__ import annotations

import time

import pytest

from bot import errors
from bot.models import ClusterRef, ExtensionSpec
from sandbox.runtime import SandboxThread
from workers.azure_extensions import AzureExtensions


def _operation_polls(sandbox_thread: SandboxThread, cluster: ClusterRef) -> list[str]:
    """The operation-status GETs the emulator answered for the cluster's extensions."""
    return sandbox_thread.call(
        lambda sb: [
            r.path
            for r in sb.arm.requests
            if r.method == "GET" and cluster.name in r.path and "/extensions/" in r.path and "/operations/" in r.path
        ]
    )


def test_release_namespace_is_stored_and_read_back(extensions: AzureExtensions, fresh_cluster: ClusterRef) -> None:
    spec = ExtensionSpec(namespace="flux-ops")
    created = extensions.begin_create(fresh_cluster, spec).result(30)
    assert (created.scope, created.namespace) == ("cluster", "flux-ops")
    assert extensions.get(fresh_cluster, "flux").namespace == "flux-ops"


def test_without_a_namespace_arm_picks_flux_system(extensions: AzureExtensions, fresh_cluster: ClusterRef) -> None:
    created = extensions.begin_create(fresh_cluster, ExtensionSpec()).result(30)
    assert (created.scope, created.namespace) == ("cluster", "flux-system")


def test_microsoft_flux_refuses_namespace_scope_as_arm_says(
    extensions: AzureExtensions, fresh_cluster: ClusterRef
) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        extensions.begin_create(fresh_cluster, ExtensionSpec(scope="namespace", namespace="team-a")).result(30)
    assert "microsoft.flux can only be installed with cluster scope" in caught.value.message


def test_list_names_every_extension_whatever_its_type(extensions: AzureExtensions, fresh_cluster: ClusterRef) -> None:
    extensions.begin_create(fresh_cluster, ExtensionSpec()).result(30)
    monitor = ExtensionSpec(
        name="azuremonitor-containers", extension_type="microsoft.azuremonitor.containers", namespace="kube-system"
    )
    extensions.begin_create(fresh_cluster, monitor).result(30)

    found = {(e.name, e.extension_type, e.scope, e.namespace) for e in extensions.list(fresh_cluster)}
    assert found == {
        ("flux", "microsoft.flux", "cluster", "flux-system"),
        ("azuremonitor-containers", "microsoft.azuremonitor.containers", "cluster", "kube-system"),
    }


def test_submitted_delete_returns_without_following_the_operation(
    extensions: AzureExtensions, fresh_cluster: ClusterRef, sandbox_thread: SandboxThread
) -> None:
    extensions.begin_create(fresh_cluster, ExtensionSpec()).result(30)
    before = len(_operation_polls(sandbox_thread, fresh_cluster))

    extensions.submit_delete(fresh_cluster, "flux")

    time.sleep(0.5)  # the emulator ends the delete on its own (0.1 s); nothing in this process polls it
    assert len(_operation_polls(sandbox_thread, fresh_cluster)) == before
    assert extensions.find_flux(fresh_cluster) is None
