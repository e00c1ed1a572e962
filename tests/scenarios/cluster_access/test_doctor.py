"""`/flux doctor` and `/flux v1 list|migrate` through the whole stack: fake Slack -> fluxops web -> Redis -> a Celery
worker -> the Azure SDK -> the ARM emulator (extensionTypes versions, Flux v1 on legacy-arc) and simulated Flux.

Clusters are left as found: demo-arc without configuration or extension (the lifecycle scenario installs it), the
AKS cluster without extension. legacy-arc ends migrated to Flux v2, which is what these scenarios are for."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from bot.errors import NotFound
from bot.models import ClusterRef, ClusterType
from cli.chat import Chat
from cli.demo import TUTORIAL_COMMAND
from cli.slack_text import blocks_to_text
from sandbox.credential import SandboxCredential
from sandbox.stack import Stack
from tests.scenarios.git_helpers import wait_for
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs
from workers.azure_v1 import AzureV1Configs


def job_text(chat: Chat, job_id: str) -> str:
    """The job's channel message as a person reads it."""
    messages = [m for m in chat.job_messages(job_id) if not m.get("ephemeral")]
    assert len(messages) == 1, f"a job keeps one message; found {len(messages)}"
    return blocks_to_text(messages[0]["blocks"], fallback=messages[0]["text"])


@pytest.fixture
def connection(stack: Stack) -> ArmConnection:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    return ArmConnection(
        endpoint=endpoints.arm_url, credential=SandboxCredential(), ca_bundle=str(endpoints.ca_file), poll_interval=0.1
    )


def _cluster(stack: Stack, kind: ClusterType, name: str) -> ClusterRef:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    return ClusterRef(endpoints.subscription_id, "flux-demo-rg", kind, name)


def _remove(connection: ArmConnection, cluster: ClusterRef, config: str | None) -> None:
    """Delete ``config`` and then the flux extension of ``cluster`` (whichever exist)."""
    flux, extensions = AzureFluxConfigs(connection=connection), AzureExtensions(connection=connection)
    if config is not None:
        with contextlib.suppress(NotFound):
            flux.begin_delete(cluster, config).result(60)
    if extensions.find_flux(cluster) is not None:
        extensions.begin_delete(cluster, "flux").result(60)


@pytest.fixture
def demo_arc_restored(stack: Stack, connection: ArmConnection) -> Iterator[ClusterRef]:
    cluster = _cluster(stack, ClusterType.CONNECTED, "flux-demo-arc")
    yield cluster
    _remove(connection, cluster, "cluster-config")


@pytest.fixture
def aks_restored(stack: Stack, connection: ArmConnection) -> Iterator[ClusterRef]:
    cluster = _cluster(stack, ClusterType.MANAGED, "flux-demo-aks")
    yield cluster
    _remove(connection, cluster, None)


def test_doctor_on_the_tutorial_cluster_finds_nothing_to_fix(chat: Chat, demo_arc_restored: ClusterRef) -> None:
    assert chat.run(TUTORIAL_COMMAND) == 0
    assert chat.run("/flux doctor -c demo-arc") == 0
    text = job_text(chat, chat.last_job_id or "")
    assert "microsoft.flux 1.17.3 is the newest on the Stable train" in text
    assert "resource providers registered" in text and "no Flux v1 configurations" in text
    assert "configurations without problems: cluster-config" in text
    assert "❌" not in text and "0 errors, 0 warnings" in text
    # read from the cluster's own API with the kubernetes client
    assert (
        "Flux controllers ready: source-controller, kustomize-controller, helm-controller, notification-controller"
        in (text)
    )
    assert "Flux CRDs present (7)" in text
    assert "every Kustomization and HelmRelease uses a source in its own namespace" in text


def test_doctor_on_an_old_extension_names_the_update(chat: Chat, aks_restored: ClusterRef) -> None:
    assert chat.run("/flux extension create -c flux-demo-aks --version 1.13.4") == 0
    assert chat.run("/flux doctor -c flux-demo-aks") == 0
    text = job_text(chat, chat.last_job_id or "")
    assert "microsoft.flux 1.13.4 is no longer supported: only 1.17.3, 1.16.2, 1.15.1 are" in text
    assert "`/flux extension update -c flux-demo-aks --version 1.17.3`" in text
    assert "`/flux extension update -c flux-demo-aks --auto-upgrade true`" in text


def test_doctor_on_legacy_arc_reports_flux_v1_with_the_migrate_command(chat: Chat) -> None:
    assert chat.run("/flux doctor -c legacy-arc") == 0
    text = job_text(chat, chat.last_job_id or "")
    assert "Flux v1 configuration 'cluster-config'" in text
    assert "`/flux v1 migrate cluster-config -c legacy-arc`" in text
    assert "microsoft.flux is not installed, and cannot be while Flux v1 configurations are on the cluster" in text
    # the operator of a v1 configuration still in Azure is owned, not a leftover: the migration removes it
    assert "Flux v1 operator Deployments still run" not in text and "kubectl delete namespace" not in text
    assert "CRDs missing" not in text, "without the extension there are no CRDs to miss: the extension finding says so"

    assert chat.run("/flux v1 list -c legacy-arc") == 0
    listed = job_text(chat, chat.last_job_id or "")
    for field in ("https://github.com/Azure/arc-k8s-demo", "--git-readonly", "Operator: `cluster-config`", "Installed"):
        assert field in listed


def test_doctor_over_a_selector_sums_up_each_cluster(chat: Chat) -> None:
    assert chat.run("/flux doctor --clusters env=legacy") == 0
    text = job_text(chat, chat.last_job_id or "")
    assert "doctor on clusters matching env=legacy" in text
    assert "legacy-arc" in text and "/flux v1 migrate cluster-config -c legacy-arc" in text


def test_v1_migrate_legacy_arc_to_compliant(chat: Chat, stack: Stack, connection: ArmConnection) -> None:
    legacy = _cluster(stack, ClusterType.CONNECTED, "legacy-arc")
    assert chat.run("/flux v1 migrate cluster-config -c legacy-arc", confirm=False) == 3
    assert AzureV1Configs(connection=connection).list(legacy), "nothing changes before Confirm"

    job_id = chat.last_job_id or ""
    confirm = next(m for m in chat.job_messages(job_id) if not m.get("ephemeral"))
    assert "--branch master --namespace cluster-config --scope cluster" in job_text(chat, job_id)
    assert "cannot be undone" in job_text(chat, job_id)
    chat.press(confirm, "fluxops_confirm")
    assert chat.follow(job_id) == 0, job_text(chat, job_id)

    text = job_text(chat, chat.last_job_id or "")
    assert "deleted Flux v1 configuration cluster-config" in text
    assert "installed microsoft.flux 1.17.3" in text
    done = "Flux v1 configuration cluster-config is now Flux v2 configuration cluster-config"
    # the closing note is an edit right after the watch ends Compliant
    wait_for(
        "the closing note", lambda: done in job_text(chat, job_id), timeout=20, seen=lambda: job_text(chat, job_id)
    )
    assert AzureV1Configs(connection=connection).list(legacy) == []
    state = AzureFluxConfigs(connection=connection).get(legacy, "cluster-config")
    assert state.compliance_state == "Compliant"
    assert state.spec is not None and state.spec.namespace == "cluster-config"
    assert state.spec.source.url == "https://github.com/Azure/arc-k8s-demo"  # type: ignore[union-attr]

    assert chat.run("/flux doctor -c legacy-arc") == 0
    after = job_text(chat, chat.last_job_id or "")
    assert "no Flux v1 configurations" in after and "/flux v1 migrate" not in after
    assert "Flux v1 operator Deployments still run" not in after  # Arc removed the operator with its configuration
