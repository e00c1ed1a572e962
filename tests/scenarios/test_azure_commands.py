"""The az equivalents typed into Slack, run for real: fake Slack -> fluxops web -> Redis -> a Celery worker ->
the Azure SDK -> the ARM emulator and simulated Flux -> back to Slack.

``config create --no-wait`` ends once ARM accepted the PUT (no operation poll, no watch); the configuration
reconciles on its own; ``deployed-object list|show`` read its objects from ARM; ``extension list`` names every
extension of the cluster, a viewer's to ask."""

from __future__ import annotations

from itertools import count

from bot.models import ClusterRef, ClusterType, ExtensionSpec
from cli.chat import Chat
from sandbox.credential import SandboxCredential
from sandbox.stack import VIEWER, Stack
from tests.scenarios.conftest import arm_requests
from tests.scenarios.git_helpers import wait_for
from tests.scenarios.test_slack_lifecycle import TUTORIAL_URL, job_text
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs

ON = "-c flux-demo-aks"
_names = count()


def _aks(stack: Stack) -> ClusterRef:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    return ClusterRef(endpoints.subscription_id, "flux-demo-rg", ClusterType.MANAGED, "flux-demo-aks")


def _extensions(stack: Stack) -> AzureExtensions:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    connection = ArmConnection(
        endpoint=endpoints.arm_url, credential=SandboxCredential(), ca_bundle=str(endpoints.ca_file), poll_interval=0.1
    )
    return AzureExtensions(connection=connection)


def _config_requests(stack: Stack, name: str) -> list[tuple[str, str]]:
    """(method, path) of every ARM request about flux configuration ``name`` on flux-demo-aks."""
    marker = f"/fluxconfigurations/{name}".lower()
    return [(r["method"], r["path"]) for r in arm_requests(stack) if marker in r["path"].lower()]


def test_no_wait_create_then_deployed_objects_and_extension_list(
    stack: Stack, chat: Chat, chat_as, arm_flux: AzureFluxConfigs
) -> None:
    aks, name = _aks(stack), f"nowait-{next(_names)}"
    monitor = ExtensionSpec(
        name="azuremonitor-containers", extension_type="microsoft.azuremonitor.containers", namespace="kube-system"
    )
    extensions = _extensions(stack)
    extensions.begin_create(aks, monitor).result(60)
    try:
        create = (
            f"/flux config create {name} {ON} --namespace {name} -u {TUTORIAL_URL} --branch main "
            "--kustomization name=infra path=./infrastructure prune=true --no-wait"
        )
        assert chat.run(create) == 0
        created = job_text(chat, chat.last_job_id or "")
        assert f"accepted by Azure; not waiting for it: see `/flux status {name} -c flux-demo-aks`" in created
        assert "Compliant" not in created, "the job did not watch Flux"
        requests = _config_requests(stack, name)
        assert [method for method, _ in requests].count("PUT") == 1
        assert not [path for _, path in requests if "/operations/" in path.lower()], "no operation was polled"

        state = wait_for(
            f"{name} to reconcile on its own",
            lambda: (s := arm_flux.get(aks, name)).compliance_state == "Compliant" and s,
            seen=lambda: arm_flux.get(aks, name).compliance_state,
        )
        releases = sorted(o.name for o in state.statuses if o.kind == "HelmRelease")
        assert releases, "the tutorial's infrastructure has HelmReleases"

        assert chat.run(f"/flux deployed-object list {name} {ON}") == 0
        listed = job_text(chat, chat.last_job_id or "")
        for obj in state.statuses:
            assert f"{obj.kind} `{obj.name}`" in listed
        assert f"`{name}-infra`" in listed, "applied by its Kustomization"

        show = f"/flux deployed-object show {name} {ON} --object-name {releases[0]} --object-kind helmrelease"
        assert chat.run(show) == 0
        shown = job_text(chat, chat.last_job_id or "")
        assert "Kind: HelmRelease" in shown and f"Name: `{releases[0]}`" in shown
        assert "Helm chart:" in shown and "Conditions" in shown

        viewer = chat_as(VIEWER)
        assert viewer.run(f"/flux extension list {ON}") == 0
        listing = job_text(viewer, viewer.last_job_id or "")
        assert "microsoft.flux" in listing and "release namespace `flux-system`" in listing
        assert "`azuremonitor-containers`* · microsoft.azuremonitor.containers" in listing, listing
        assert "release namespace `kube-system`" in listing
    finally:
        arm_flux.begin_delete(aks, name).result(60) if _exists(arm_flux, aks, name) else None
        extensions.begin_delete(aks, monitor.name).result(60)


def _exists(flux: AzureFluxConfigs, cluster: ClusterRef, name: str) -> bool:
    return any(c.name == name for c in flux.list(cluster))
