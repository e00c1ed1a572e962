"""Flux v1 configurations read through the real SDK carry the v1 tutorial's fields (what `/flux v1 list` shows)."""

from __future__ import annotations

from bot.models import ClusterRef, ClusterType
from sandbox.seed import LEGACY_ARC, TUTORIAL_RG
from workers.azure_v1 import AzureV1Configs


def test_the_seeded_v1_configuration_with_every_field(v1: AzureV1Configs, endpoints) -> None:
    legacy = ClusterRef(endpoints.subscription_id, TUTORIAL_RG, ClusterType.CONNECTED, LEGACY_ARC)
    found = v1.get(legacy, "cluster-config")
    assert (found.operator_instance_name, found.operator_type, found.operator_scope) == (
        "cluster-config",
        "Flux",
        "cluster",
    )
    assert found.operator_params == "--git-readonly"
    assert (found.ssh_known_hosts, found.enable_helm_operator, found.repository_public_key) == (False, False, None)
    assert found.compliance_state == "Installed"
    assert found.compliance_message == "Configuration installed successfully"
    assert found.provisioning_state == "Succeeded"
