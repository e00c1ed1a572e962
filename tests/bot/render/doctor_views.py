"""Views of `/flux doctor` and `/flux v1 list|migrate` for the renderer goldens (Slack and Markdown), built with the
real checks (bot/doctor_checks.py) so the goldens show what a person would read."""

from __future__ import annotations

from collections.abc import Callable

from bot import doctor_checks as checks
from bot.cluster_objects import FLUX_RESOURCES, FluxObject, ObjectRef, Workload
from bot.models import ClusterRef, ClusterType, ExtensionState, V1Config
from bot.v1_migration import migration, v2_command
from bot.views import ConfirmView, DoctorReport, JobView, Phase, View
from tests.bot.render.tutorial_views import ALICE, ARC, SUBSCRIPTION

CRDS = [f"{plural}.{group}" for group, _version, plural in FLUX_RESOURCES.values()]
RELEASED = ("1.17.3", "1.16.2", "1.15.1", "1.14.3", "1.13.4")
REGISTERED = dict.fromkeys(checks.PROVIDERS, "Registered")
LEGACY = ClusterRef(SUBSCRIPTION, "flux-demo-rg", ClusterType.CONNECTED, "legacy-arc")
LEGACY_V1 = V1Config(
    cluster=LEGACY,
    name="cluster-config",
    repository_url="https://github.com/Azure/arc-k8s-demo",
    operator_namespace="cluster-config",
    operator_scope="cluster",
    compliance_state="Installed",
    operator_instance_name="cluster-config",
    operator_type="Flux",
    operator_params="--git-readonly --git-path=releases",
    enable_helm_operator=True,
    helm_chart_version="1.4.0",
    helm_chart_values="--set helm.versions=v3",
    repository_public_key="ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 flux-generated",
    compliance_message="Configuration installed successfully",
)


def _flux(version: str, *, auto: bool, settings: tuple[tuple[str, str], ...] = ()) -> ExtensionState:
    return ExtensionState(
        ARC, "flux", "microsoft.flux", "Succeeded", None if auto else version, version, auto, "Stable", settings
    )


def _job(reports: tuple[DoctorReport, ...], note: str, title: str = "doctor on flux-demo-arc") -> JobView:
    return JobView(
        job_id="j-20261203-d0c70r", actor=ALICE, title=title, phase=Phase.SUCCEEDED, note=note, doctor=reports
    )


def doctor_healthy() -> JobView:
    ext = _flux("1.17.3", auto=True)
    workloads = [Workload(c, "flux-system", 1, 1) for c in checks.CONTROLLERS]
    findings = [
        *checks.providers(REGISTERED, SUBSCRIPTION),
        *checks.v1_leftovers([], "flux-demo-arc"),
        *checks.extension(ext, RELEASED, [], "flux-demo-arc"),
        *checks.controllers(workloads, ext, "flux-demo-arc"),
        *checks.crds(CRDS, ext, "flux-demo-arc"),
    ]
    return _job((DoctorReport("flux-demo-arc", checks.ordered(findings)),), "no problems found")


def doctor_legacy() -> JobView:
    findings = [
        *checks.providers({**REGISTERED, "Microsoft.KubernetesConfiguration": "NotRegistered"}, SUBSCRIPTION),
        *checks.v1_leftovers([LEGACY_V1], "legacy-arc"),
        *checks.extension(None, RELEASED, [LEGACY_V1], "legacy-arc"),
        *checks.v1_operators(
            [Workload("team-a", "team-a", 1, 1, labels=(("instanceName", "team-a"), ("name", "flux")))],
            [LEGACY_V1],
            "legacy-arc",
        ),
    ]
    skipped = (
        "controllers, CRDs, Flux v1 operators and multi-tenancy: fluxops has no access to the clusters' "
        "Kubernetes API (FLUXOPS_CLUSTER_ACCESS is off)",
    )
    report = DoctorReport("legacy-arc", checks.ordered(findings), skipped)
    return _job((report,), "3 errors, 1 warning (some checks were skipped: see below)", "doctor on legacy-arc")


def doctor_old_version() -> JobView:
    ext = _flux("1.13.4", auto=False)
    objects = [
        FluxObject(
            ObjectRef("HelmRelease", "redis", "apps"), source_ref=ObjectRef("HelmRepository", "bitnami", "flux-system")
        )
    ]
    findings = [
        *checks.extension(ext, RELEASED, [], "flux-demo-arc"),
        *checks.multi_tenancy(objects, ext, "flux-demo-arc"),
    ]
    return _job((DoctorReport("flux-demo-arc", checks.ordered(findings)),), "2 errors, 1 warning")


def doctor_fleet() -> JobView:
    healthy = doctor_healthy().doctor
    legacy = doctor_legacy().doctor
    old = doctor_old_version().doctor
    assert healthy and legacy and old
    reports = (legacy[0], old[0], DoctorReport("flux-demo-aks", healthy[0].findings))
    return _job(reports, "5 errors, 2 warnings on 2 of 3 clusters", "doctor on clusters matching env=demo")


def v1_list() -> JobView:
    return JobView(
        job_id="j-20261203-v1v1v1",
        actor=ALICE,
        title="v1 list on legacy-arc",
        phase=Phase.SUCCEEDED,
        note="`/flux v1 migrate NAME -c legacy-arc` moves one to Flux v2",
        v1_configs=(LEGACY_V1,),
    )


def v1_migrate_confirm() -> ConfirmView:
    plan = migration(LEGACY_V1)
    return ConfirmView(
        job_id="j-20261203-m1m1m1",
        actor=ALICE,
        title="v1 migrate cluster-config on legacy-arc",
        summary="Migrate Flux v1 configuration cluster-config on legacy-arc to Flux v2.",
        consequences=(
            "delete Flux v1 configuration cluster-config (https://github.com/Azure/arc-k8s-demo); its operator leaves "
            "the cluster",
            "install the microsoft.flux extension if the cluster has none",
            f"create the equivalent Flux v2 configuration: {v2_command(plan, 'legacy-arc')}",
            "watch cluster-config until Flux reports Compliant",
            *plan.notes,
        ),
        confirm_label="Migrate",
        approver="an admin of legacy-arc",
    )


CASES: dict[str, Callable[[], View]] = {
    "doctor_healthy": doctor_healthy,
    "doctor_legacy": doctor_legacy,
    "doctor_old_version": doctor_old_version,
    "doctor_fleet": doctor_fleet,
    "v1_list": v1_list,
    "v1_migrate_confirm": v1_migrate_confirm,
}
