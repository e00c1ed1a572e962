"""ARM's extensionTypes versions through the real SDK (azure-mgmt-kubernetesconfiguration, 2022-01-15-preview)."""

from __future__ import annotations

import pytest

from bot import errors
from bot.extension_versions import is_supported, supported
from bot.models import Cluster, ClusterRef, ClusterType
from sandbox.arm.extensions import FLUX_RELEASES, supported_versions
from sandbox.seed import TUTORIAL_ARC, TUTORIAL_RG
from workers.azure_extensions import AzureExtensions


def _arc(subscription_id: str) -> Cluster:
    return Cluster(ClusterRef(subscription_id, TUTORIAL_RG, ClusterType.CONNECTED, TUTORIAL_ARC), "westeurope")


def test_flux_versions_newest_first_per_release_train(extensions: AzureExtensions, endpoints) -> None:
    cluster = _arc(endpoints.subscription_id)
    stable = extensions.versions(cluster, "microsoft.flux")
    assert stable == list(reversed(FLUX_RELEASES["stable"]))
    assert stable[0] == "1.17.3"
    assert extensions.versions(cluster, "microsoft.flux", release_train="preview")[0] == FLUX_RELEASES["preview"][-1]
    # the domain's N-2 window is the emulator's (and Azure's): the newest and the two minors before it
    assert supported(stable) == supported_versions("stable")
    assert not is_supported(FLUX_RELEASES["stable"][0], stable)


def test_unknown_extension_type_is_not_found(extensions: AzureExtensions, endpoints) -> None:
    with pytest.raises(errors.NotFound):
        extensions.versions(_arc(endpoints.subscription_id), "microsoft.nothing")
