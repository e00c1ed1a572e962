"""microsoft.flux extension, Flux v1 configurations and the cluster inventory through the real SDK."""

from __future__ import annotations

import pytest

from bot import errors
from bot.models import ClusterRef, ClusterType, ExtensionPatch, ExtensionSpec
from sandbox.arm.extensions import FLUX_RELEASES, supported_versions
from sandbox.seed import LEGACY_ARC, TUTORIAL_ARC, TUTORIAL_RG
from workers.azure_extensions import AzureExtensions
from workers.azure_inventory import AzureInventory, parse_cluster_id
from workers.azure_v1 import AzureV1Configs


def test_flux_extension_lifecycle_with_server_defaults(extensions: AzureExtensions, fresh_cluster: ClusterRef):
    spec = ExtensionSpec(settings=(("image-automation-controller.enabled", "true"),))
    created = extensions.begin_create(fresh_cluster, spec).result(30)
    assert created.provisioning_state == "Succeeded"
    assert (created.auto_upgrade_minor_version, created.release_train) == (True, "Stable")
    assert created.current_version == FLUX_RELEASES["stable"][-1]
    assert extensions.find_flux(fresh_cluster) == created

    pinned_old = supported_versions("stable")[-1]
    patch = ExtensionPatch(
        auto_upgrade_minor_version=False,
        version=pinned_old,
        settings=(("helm-controller.detectDrift", "true"),),
    )
    updated = extensions.begin_update(fresh_cluster, "flux", patch).result(30)
    assert (updated.version, updated.current_version) == (pinned_old, pinned_old)
    assert dict(updated.settings) == {
        "image-automation-controller.enabled": "true",
        "helm-controller.detectDrift": "true",
    }

    assert extensions.begin_delete(fresh_cluster, "flux").result(30) is None
    assert extensions.find_flux(fresh_cluster) is None


def test_version_needs_auto_upgrade_off(extensions: AzureExtensions, fresh_cluster: ClusterRef):
    with pytest.raises(errors.InvalidRequest) as caught:
        extensions.begin_create(fresh_cluster, ExtensionSpec(version="1.17.3")).result(30)
    assert "autoUpgradeMinorVersion is false" in caught.value.message


def test_unreleased_version_is_refused_with_the_released_ones(extensions: AzureExtensions, fresh_cluster: ClusterRef):
    with pytest.raises(errors.InvalidRequest) as caught:
        extensions.begin_create(fresh_cluster, ExtensionSpec(auto_upgrade_minor_version=False, version="0.0.1")).result(
            30
        )
    assert caught.value.code == "ExtensionVersionNotFound"
    assert FLUX_RELEASES["stable"][-1] in caught.value.message


def test_flux_v1_blocks_microsoft_flux_until_deleted(
    extensions: AzureExtensions, v1: AzureV1Configs, endpoints, sandbox_thread
):
    legacy = ClusterRef(endpoints.subscription_id, TUTORIAL_RG, ClusterType.CONNECTED, LEGACY_ARC)
    found = v1.list(legacy)
    assert [(c.name, c.repository_url) for c in found] == [("cluster-config", "https://github.com/Azure/arc-k8s-demo")]
    assert v1.get(legacy, "cluster-config").operator_namespace == "cluster-config"

    with pytest.raises(errors.InvalidRequest) as caught:
        extensions.begin_create(legacy, ExtensionSpec()).result(30)
    assert caught.value.code == "FluxV1ConfigurationsPresent"
    assert "/flux v1 list" in caught.value.recommendation

    try:
        v1.begin_delete(legacy, "cluster-config").result(30)
        assert v1.list(legacy) == []
        assert extensions.begin_create(legacy, ExtensionSpec()).result(30).provisioning_state == "Succeeded"
    finally:
        # leave the seeded world as other tests expect it
        from sandbox.world import V1ConfigRecord, v1_config_properties

        def restore(sb) -> None:
            cluster = sb.world.find_cluster(
                legacy.subscription_id, TUTORIAL_RG, "Microsoft.Kubernetes", "connectedClusters", LEGACY_ARC
            )
            cluster.extensions.clear()
            cluster.v1_configs["cluster-config"] = V1ConfigRecord(
                "cluster-config",
                v1_config_properties("https://github.com/Azure/arc-k8s-demo", "cluster-config"),
            )
            sb.flux.cluster_changed(cluster)

        sandbox_thread.call(restore)


def test_inventory_lists_aks_and_arc_clusters_with_tags_across_pages(inventory: AzureInventory, sandbox_thread):
    clusters = {c.ref.name: c for c in inventory.list_clusters()}
    arc = clusters[TUTORIAL_ARC]
    assert arc.ref.cluster_type is ClusterType.CONNECTED and arc.tags == {"env": "demo", "region": "weu"}
    assert clusters["flux-demo-aks"].ref.cluster_type is ClusterType.MANAGED
    assert sum(1 for name in clusters if name.startswith("fleet-")) == 5
    # page_size is 3 in the test sandbox, so this listing needed nextLink paging
    skip_tokens = sandbox_thread.call(
        lambda sb: [r.query for r in sb.arm.requests if r.path.endswith("/resources") and "skipToken" in r.query]
    )
    assert skip_tokens


def test_inventory_finds_a_cluster_by_ref_case_insensitively(inventory: AzureInventory, endpoints):
    ref = ClusterRef(endpoints.subscription_id, TUTORIAL_RG.upper(), ClusterType.CONNECTED, TUTORIAL_ARC.upper())
    assert inventory.get_cluster(ref).ref.name == TUTORIAL_ARC
    with pytest.raises(errors.NotFound):
        inventory.get_cluster(ClusterRef(endpoints.subscription_id, TUTORIAL_RG, ClusterType.MANAGED, "nope"))


def test_provider_registration_state(inventory: AzureInventory, endpoints, sandbox_thread):
    sandbox_thread.call(
        lambda sb: sb.world.provider_state.__setitem__(
            (endpoints.subscription_id.lower(), "microsoft.kubernetesconfiguration"), "NotRegistered"
        )
    )
    try:
        states = inventory.provider_states(endpoints.subscription_id)
    finally:
        sandbox_thread.call(lambda sb: sb.world.provider_state.clear())
    assert states == {
        "Microsoft.Kubernetes": "Registered",
        "Microsoft.ContainerService": "Registered",
        "Microsoft.KubernetesConfiguration": "NotRegistered",
    }


@pytest.mark.parametrize(
    ("arm_id", "expected"),
    [
        (
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Kubernetes/connectedClusters/a",
            ("s", "g", ClusterType.CONNECTED, "a"),
        ),
        (
            "/SUBSCRIPTIONS/s/RESOURCEGROUPS/g/PROVIDERS/microsoft.containerservice/MANAGEDCLUSTERS/b",
            ("s", "g", ClusterType.MANAGED, "b"),
        ),
    ],
)
def test_parse_cluster_id(arm_id: str, expected: tuple[object, ...]):
    ref = parse_cluster_id(arm_id)
    assert (ref.subscription_id, ref.resource_group, ref.cluster_type, ref.name) == expected


@pytest.mark.parametrize(
    "arm_id",
    [
        "/subscriptions/s/resourceGroups/g",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Kubernetes/managedClusters/x",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/x",
    ],
)
def test_parse_cluster_id_rejects_non_clusters(arm_id: str):
    with pytest.raises(errors.InvalidRequest):
        parse_cluster_id(arm_id)


def test_unregistered_provider_is_registered_by_the_sdk_itself(  # ~10 s: the SDK waits that long to re-read
    extensions: AzureExtensions, fresh_cluster: ClusterRef, endpoints, sandbox_thread
):
    key = (endpoints.subscription_id.lower(), "microsoft.kubernetesconfiguration")
    sandbox_thread.call(lambda sb: sb.world.provider_state.__setitem__(key, "NotRegistered"))
    try:
        assert extensions.list(fresh_cluster) == []
        state = sandbox_thread.call(lambda sb: sb.world.provider_registration(*key))
    finally:
        sandbox_thread.call(lambda sb: sb.world.provider_state.clear())
    assert state == "Registered"
    calls = sandbox_thread.call(
        lambda sb: [(r.method, r.status, r.path.rsplit("/", 1)[-1]) for r in sb.arm.requests][-4:]
    )
    assert calls[0] == ("GET", 409, "extensions")
    assert ("POST", 200, "register") in calls and calls[-1] == ("GET", 200, "extensions")
