"""Views of the az-shaped reads and of a --no-wait write, as the bot builds them on the tutorial's cluster:
``extension list`` (microsoft.flux and another extension), ``deployed-object list|show`` and ``config create
--no-wait`` ended once Azure accepted it.

Shared by the Slack (test_slack_render.py) and Markdown (test_markdown.py) golden tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.models import Condition, ExtensionState, HelmReleaseInfo
from bot.usecases.accepted import NoWait
from bot.views import DeployedObjects, JobView, Phase, View
from tests.bot.render import tutorial_views as tv

FLUX = ExtensionState(
    cluster=tv.ARC,
    name="flux",
    extension_type="microsoft.flux",
    provisioning_state="Succeeded",
    version="1.17.3",
    current_version="1.17.3",
    auto_upgrade_minor_version=True,
    release_train="Stable",
    scope="cluster",
    namespace="flux-system",
)
MONITOR = ExtensionState(
    cluster=tv.ARC,
    name="azuremonitor-containers",
    extension_type="Microsoft.AzureMonitor.Containers",
    provisioning_state="Failed",
    version="3.1.16",
    current_version=None,
    auto_upgrade_minor_version=False,
    release_train="Stable",
    error="helm install timed out waiting for the condition",
    scope="cluster",
    namespace="kube-system",
)
FAILING_RELEASE = replace(
    tv.release("podinfo", "cluster-config-apps", revision=3),
    compliance_state="Non-Compliant",
    conditions=(
        tv.ready("False", "UpgradeFailed", "Helm upgrade failed: timed out waiting for the condition"),
        Condition("Released", "False", "UpgradeFailed", "upgrade retries exhausted", "2022-04-06T17:22:10Z"),
    ),
    helm_release=HelmReleaseInfo(
        last_revision_applied=3, chart_name="cluster-config-podinfo", chart_namespace="cluster-config", failure_count=2
    ),
)


def extension_list() -> JobView:
    return JobView(
        job_id="j-20220409-e1e1e1",
        actor=tv.ALICE,
        title="extension list on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        extensions=(FLUX, MONITOR),
    )


def deployed_object_list() -> JobView:
    return JobView(
        job_id="j-20220409-d0d0d0",
        actor=tv.ALICE,
        title="deployed-object list cluster-config on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        deployed=DeployedObjects(
            config="cluster-config", cluster=tv.ARC, objects=(*tv.COMPLIANT.statuses[:-1], FAILING_RELEASE)
        ),
    )


def deployed_object_show() -> JobView:
    return JobView(
        job_id="j-20220409-d1d1d1",
        actor=tv.ALICE,
        title="deployed-object show cluster-config on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        deployed=DeployedObjects(config="cluster-config", cluster=tv.ARC, objects=(FAILING_RELEASE,), detail=True),
    )


def config_create_no_wait() -> JobView:
    note = NoWait(follow="/flux status cluster-config -c flux-demo-arc").note
    return JobView(
        job_id="j-20220409-a1a1a1",
        actor=tv.ALICE,
        title="config create cluster-config on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        steps=tv.CREATE_STEPS[-1:],
        note=note,
    )


CASES: dict[str, Callable[[], View]] = {
    "extension_list": extension_list,
    "deployed_object_list": deployed_object_list,
    "deployed_object_show": deployed_object_show,
    "config_create_no_wait": config_create_no_wait,
}
