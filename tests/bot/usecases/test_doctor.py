"""`/flux doctor` over the in-memory fakes: each check's finding and its fix, skipped checks, and --clusters."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from bot.cluster_objects import FLUX_RESOURCES, FluxObject, ObjectRef, Workload
from bot.commands import Run
from bot.doctor_checks import CONTROLLERS
from bot.grammar import parse
from bot.models import Cluster, ClusterRef, ClusterType, GitSource, RepositoryRef
from bot.views import DoctorReport, Finding, Phase, Severity
from tests.bot.usecases.fake_cluster_api import FakeClusterApi
from tests.bot.usecases.fakes import TUTORIAL_SPEC, World, everything_said

CRDS = [f"{plural}.{group}" for group, _v, plural in FLUX_RESOURCES.values()]


def healthy_api(world: World) -> FakeClusterApi:
    """The tutorial cluster's API: the four controllers ready, every Flux CRD, the tutorial's objects."""
    key = world.ref.arm_id.lower()
    api = FakeClusterApi(
        workloads_by_cluster={key: [Workload(c, "flux-system", 1, 1) for c in CONTROLLERS]},
        crds_by_cluster={key: list(CRDS)},
    )
    source = ObjectRef("GitRepository", "cluster-config", "cluster-config")
    api.add(world.ref, FluxObject(source))
    api.add(
        world.ref, FluxObject(ObjectRef("Kustomization", "cluster-config-infra", "cluster-config"), source_ref=source)
    )
    return api


_jobs = itertools.count(1)


def report_of(world: World, text: str = "doctor -c flux-demo-arc") -> DoctorReport:
    assert world.run(text, job_id=f"j-{next(_jobs)}") is Phase.SUCCEEDED, world.reporter.last.error
    reports = world.reporter.last.doctor
    assert reports is not None and len(reports) == 1
    assert_fixes_parse(reports[0])
    return reports[0]


def assert_fixes_parse(report: DoctorReport) -> None:
    """Every `/flux` fix the doctor shows runs as shown: the grammar parses it into a command (so every test
    here walks every finding it makes)."""
    for finding in report.findings:
        if finding.fix.startswith("/flux "):
            assert isinstance(parse(finding.fix), Run), (finding.fix, parse(finding.fix))


def with_fix(report: DoctorReport, fix: str) -> Finding:
    found = [f for f in report.findings if f.fix == fix]
    assert found, f"no finding with fix {fix!r} in {report.findings}"
    return found[0]


def test_a_healthy_cluster_has_nothing_to_fix(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    world.cluster_api = healthy_api(world)

    report = report_of(world)

    assert report.worst is Severity.OK, report.findings
    assert report.skipped == ()
    checks = {f.check for f in report.findings}
    assert checks >= {"providers", "extension", "version", "v1", "configurations", "controllers", "crds"}
    assert "multi-tenancy" in checks
    assert world.reporter.last.note == "no problems found"
    assert "microsoft.flux 1.17.3 is the newest" in everything_said(world)


def test_without_cluster_access_it_says_which_checks_were_skipped_and_why(world: World) -> None:
    world.extensions.seed_flux(world.ref)

    report = report_of(world)

    assert report.skipped == (
        "controllers, CRDs, Flux v1 operators and multi-tenancy: fluxops has no access to the clusters' "
        "Kubernetes API (FLUXOPS_CLUSTER_ACCESS is off)",
    )
    assert "some checks were skipped" in world.reporter.last.note


def test_a_cluster_api_refusal_is_a_skip_with_the_role_to_grant(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    world.cluster_api = healthy_api(world)
    world.cluster_api.deny.add(world.ref.arm_id.lower())

    report = report_of(world)

    assert len(report.skipped) == 1
    assert "refused fluxops (403)" in report.skipped[0]
    assert "Azure Kubernetes Service RBAC Reader" in report.skipped[0]


def _v1_operator(name: str, namespace: str, part: str, instance: str) -> Workload:
    """A Deployment of Azure's Flux v1 operator, labelled as it labels them."""
    return Workload(name, namespace, 1, 1, labels=(("instanceName", instance), ("name", part)))


def test_flux_v1_leftovers_block_the_extension_and_say_to_migrate(world: World) -> None:
    world.v1.seed(world.ref)
    key = world.ref.arm_id.lower()
    world.cluster_api = FakeClusterApi(
        workloads_by_cluster={
            key: [
                _v1_operator("cluster-config", "cluster-config", "flux", "cluster-config"),
                _v1_operator("memcached", "cluster-config", "memcached", "cluster-config"),
            ]
        }
    )

    report = report_of(world)

    assert report.worst is Severity.ERROR
    migrate = "/flux v1 migrate cluster-config -c flux-demo-arc"
    assert {f.check for f in report.findings if f.fix == migrate} == {"extension", "v1"}
    blocked = next(f for f in report.findings if f.check == "extension")
    assert "cannot be while Flux v1 configurations are on the cluster (cluster-config)" in blocked.text
    # the operator of a v1 configuration still in Azure is not a leftover: the migration removes it
    assert not [f for f in report.findings if f.fix.startswith("kubectl") and "delete" in f.fix]


def test_v1_operator_leftovers_are_found_after_the_migration_and_only_they(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    world.v1.seed(world.ref, "team-a", operator_namespace="default")  # still in Azure: its operator is owned
    key = world.ref.arm_id.lower()
    world.cluster_api = FakeClusterApi(
        workloads_by_cluster={
            key: [
                *(Workload(c, "flux-system", 1, 1) for c in CONTROLLERS),
                _v1_operator("cluster-config", "cluster-config", "flux", "cluster-config"),  # migrated: left over
                _v1_operator("memcached", "cluster-config", "memcached", "cluster-config"),
                _v1_operator("team-a", "default", "flux", "team-a"),
                _v1_operator("memcached", "default", "memcached", "team-a"),
                Workload("web", "default", 2, 2, labels=(("app", "web"),)),  # an application, not Flux v1
                Workload("flux", "default", 1, 1, labels=(("name", "flux"),)),  # no instanceName: not Azure's
            ]
        }
    )

    report = report_of(world)

    [leftover] = [f for f in report.findings if f.check == "v1" and f.fix.startswith("kubectl")]
    assert leftover.fix == "kubectl -n cluster-config delete deployment cluster-config memcached"
    assert leftover.severity is Severity.WARNING and "no Flux v1 configuration left to own them" in leftover.text


def test_no_extension_and_no_v1_says_to_create_it(world: World) -> None:
    report = report_of(world)
    assert with_fix(report, "/flux extension create -c flux-demo-arc").severity is Severity.ERROR


def test_an_old_pinned_version_is_an_error_with_the_update_to_the_newest(world: World) -> None:
    state = world.extensions.seed_flux(world.ref)
    world.extensions.extensions[(world.ref, "flux")] = replace(
        state, version="1.13.4", current_version="1.13.4", auto_upgrade_minor_version=False
    )

    report = report_of(world)

    old = with_fix(report, "/flux extension update -c flux-demo-arc --version 1.17.3")
    assert old.severity is Severity.ERROR
    assert "1.13.4 is no longer supported: only 1.17.3, 1.16.2, 1.15.1 are" in old.text
    auto = with_fix(report, "/flux extension update -c flux-demo-arc --auto-upgrade true")
    assert auto.severity is Severity.WARNING and "pinned to 1.13.4" in auto.text
    assert report.findings[0].severity is Severity.ERROR  # worst first


def test_a_supported_older_version_is_information(world: World) -> None:
    state = world.extensions.seed_flux(world.ref)
    world.extensions.extensions[(world.ref, "flux")] = replace(state, current_version="1.15.1")

    report = report_of(world)

    version = next(f for f in report.findings if f.check == "version" and "supported" in f.text)
    assert version.severity is Severity.INFO
    assert version.text == "microsoft.flux 1.15.1 is supported (N-2: 1.17.3, 1.16.2, 1.15.1); the newest is 1.17.3"


@pytest.mark.parametrize(("state", "severity"), [("NotRegistered", Severity.ERROR), ("Registering", Severity.WARNING)])
def test_unregistered_providers_get_the_az_command(world: World, state: str, severity: Severity) -> None:
    world.extensions.seed_flux(world.ref)
    assert world.inventory is not None
    world.inventory.states["Microsoft.KubernetesConfiguration"] = state

    report = report_of(world)

    fix = (
        f"az provider register --namespace Microsoft.KubernetesConfiguration --subscription {world.ref.subscription_id}"
    )
    assert with_fix(report, fix).severity is severity


def test_cross_namespace_sources_under_multi_tenancy(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    world.cluster_api = api = healthy_api(world)
    shared = ObjectRef("HelmRepository", "bitnami", "flux-system")
    api.add(world.ref, FluxObject(ObjectRef("HelmRelease", "redis", "apps"), source_ref=shared))

    report = report_of(world)
    pitfall = with_fix(report, "/flux extension update -c flux-demo-arc --config multiTenancy.enforce=false")
    assert pitfall.severity is Severity.ERROR
    assert "HelmRelease apps/redis -> HelmRepository flux-system/bitnami" in pitfall.text
    assert "same namespace" in pitfall.text

    # turned off knowingly: only worth knowing
    ext = world.extensions.extensions[(world.ref, "flux")]
    world.extensions.extensions[(world.ref, "flux")] = replace(ext, settings=(("multiTenancy.enforce", "false"),))
    again = report_of(world)
    assert [f.severity for f in again.findings if f.check == "multi-tenancy"] == [Severity.INFO]


def test_controllers_not_ready_and_crds_missing(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    key = world.ref.arm_id.lower()
    world.cluster_api = FakeClusterApi(
        workloads_by_cluster={key: [Workload("source-controller", "flux-system", 1, 0)]},
        crds_by_cluster={key: CRDS[:2]},
    )

    report = report_of(world)

    assert "kustomize-controller" in with_fix(report, "/flux extension show -c flux-demo-arc").text
    not_ready = with_fix(report, "kubectl -n flux-system describe deployment source-controller")
    assert not_ready.text == "source-controller is not ready (0/1 replicas)"
    assert any(f.check == "crds" and "kustomizations.kustomize.toolkit.fluxcd.io" in f.text for f in report.findings)


def test_an_azure_identity_source_needs_workload_or_kubelet_identity(world: World) -> None:
    aks = Cluster(ClusterRef(world.ref.subscription_id, "rg", ClusterType.MANAGED, "aks-1"), "westeurope")
    world.more_clusters.append(aks)
    world.extensions.seed_flux(aks.ref)
    source = GitSource(
        url="https://dev.azure.com/org/proj/_git/repo", ref=RepositoryRef(branch="main"), provider="Azure"
    )
    world.flux.seed(aks.ref, replace(TUTORIAL_SPEC, source=source))

    report = report_of(world, "doctor -c aks-1")
    needs = next(f for f in report.findings if f.check == "identity")
    assert needs.severity is Severity.ERROR
    assert "useKubeletIdentity=true" in needs.text
    assert needs.fix == (
        "/flux extension update -c aks-1 --config workloadIdentity.enable=true "
        "workloadIdentity.azureClientId=00000000-0000-0000-0000-000000000000"
    )
    assert needs.text.endswith(
        "; in the fix, replace 00000000-0000-0000-0000-000000000000 with your identity's client id"
    )

    ext = world.extensions.extensions[(aks.ref, "flux")]
    world.extensions.extensions[(aks.ref, "flux")] = replace(ext, settings=(("useKubeletIdentity", "true"),))
    fine = report_of(world, "doctor -c aks-1")
    assert [f.severity for f in fine.findings if f.check == "identity"] == [Severity.OK]


def test_doctor_over_a_selector_sums_up_per_cluster(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    legacy = Cluster(
        ClusterRef(world.ref.subscription_id, "flux-demo-rg", ClusterType.CONNECTED, "legacy-arc"),
        "northeurope",
        {"env": "legacy"},
    )
    world.more_clusters.append(legacy)
    world.v1.seed(legacy.ref)

    assert world.run("doctor --clusters all") is Phase.SUCCEEDED
    view = world.reporter.last
    assert view.title == "doctor on clusters matching all"
    assert view.doctor is not None
    assert [(r.cluster, r.worst) for r in view.doctor] == [
        ("legacy-arc", Severity.ERROR),
        ("flux-demo-arc", Severity.INFO),
    ]
    assert view.note == "2 errors on 1 of 2 clusters (some checks were skipped: see below)"
    said = everything_said(world)
    assert "/flux v1 migrate cluster-config -c legacy-arc" in said


def test_doctor_only_reads(world: World) -> None:
    """Doctor only reads: no ARM write, no lock, no audit entry."""
    world.v1.seed(world.ref)
    report_of(world)
    assert world.extensions.writes() == [] and world.flux.writes() == [] and world.v1.writes() == []
    assert world.audit.entries == []
