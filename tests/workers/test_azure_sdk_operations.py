"""The SDK operations the adapters reach only indirectly: operation status, forceDelete, list paging."""

from __future__ import annotations

import pytest
from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import KubernetesConfigurationFluxConfigurationsMgmtClient

from bot import errors
from bot.models import ClusterRef, ExtensionSpec, FluxConfigSpec, GitSource, RepositoryRef
from sandbox.seed import TUTORIAL_URL
from workers.azure_clients import cluster_args
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs


def spec(name: str) -> FluxConfigSpec:
    return FluxConfigSpec(name=name, source=GitSource(url=TUTORIAL_URL, ref=RepositoryRef(branch="main")))


def operation_id(sandbox_thread, resource_suffix: str) -> str:
    """The id of the (only) operation the emulator ran on the resource."""
    ids = sandbox_thread.call(
        lambda sb: [op.id for op in sb.arm.operations.ops.values() if op.resource_path.endswith(resource_suffix)]
    )
    assert len(ids) == 1
    return ids[0]


def test_operation_status_apis(
    connection, fresh_cluster: ClusterRef, extensions: AzureExtensions, flux: AzureFluxConfigs, sandbox_thread
):
    extensions.begin_create(fresh_cluster, ExtensionSpec()).result(30)
    flux.begin_create_or_update(fresh_cluster, spec("opstatus")).result(30)
    kc = f"{fresh_cluster.name}/providers/Microsoft.KubernetesConfiguration"
    flux_op = operation_id(sandbox_thread, f"{kc}/fluxConfigurations/opstatus")
    ext_op = operation_id(sandbox_thread, f"{kc}/extensions/flux")
    kwargs = connection.client_kwargs()
    flux_client = KubernetesConfigurationFluxConfigurationsMgmtClient(
        connection.credential, fresh_cluster.subscription_id, **kwargs
    )
    ext_client = KubernetesConfigurationExtensionsMgmtClient(
        connection.credential, fresh_cluster.subscription_id, **kwargs
    )

    status = flux_client.flux_config_operation_status.get(*cluster_args(fresh_cluster), "opstatus", flux_op)
    assert status.status == "Succeeded" and status.name == flux_op
    ext_status = ext_client.operation_status.get(*cluster_args(fresh_cluster), "flux", ext_op)
    assert ext_status.status == "Succeeded" and ext_status.id.endswith(f"/extensions/flux/operations/{ext_status.name}")


def test_force_delete_and_paged_list(
    fresh_cluster: ClusterRef, extensions: AzureExtensions, flux: AzureFluxConfigs, sandbox_thread
):
    extensions.begin_create(fresh_cluster, ExtensionSpec()).result(30)
    names = [f"paged-{i}" for i in range(5)]
    for name in names:
        flux.begin_create_or_update(fresh_cluster, spec(name)).result(30)

    assert sorted(s.name for s in flux.list(fresh_cluster)) == names  # page size 3: two pages
    pages = sandbox_thread.call(
        lambda sb: [
            r.query
            for r in sb.arm.requests
            if r.path.endswith(f"{fresh_cluster.name}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations")
        ]
    )
    assert any("skipToken=3" in q for q in pages)

    assert flux.begin_delete(fresh_cluster, "paged-0", force=True).result(30) is None
    statuses = sandbox_thread.call(
        lambda sb: [
            (r.status, r.query) for r in sb.arm.requests if r.method == "DELETE" and r.path.endswith("/paged-0")
        ]
    )
    assert statuses == [(200, "api-version=2025-04-01&forceDelete=true")]
    with pytest.raises(errors.NotFound):
        flux.get(fresh_cluster, "paged-0")
