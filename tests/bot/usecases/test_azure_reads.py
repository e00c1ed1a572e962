"""``extension list`` and ``deployed-object list|show``: reads as az has them, a viewer's to run, against in-memory
fakes of Azure (the objects are the configuration's ARM ``statuses``)."""

from __future__ import annotations

import pytest

from bot import errors
from bot.commands import ClusterTarget, DeployedObjectList, DeployedObjectShow, ExtensionList, ExtensionUpdate
from bot.config_access import RoleRule
from bot.config_file import FluxopsConfig
from bot.models import ExtensionPatch, ExtensionState
from bot.policy import Identity, Policy
from bot.views import Phase
from tests.bot.usecases.fakes import CLUSTER, TUTORIAL_APPLIED, TUTORIAL_SPEC, World, applied_object

ON = "-c flux-demo-arc"
VIEWER = Policy(FluxopsConfig(roles=[RoleRule.model_validate({"role": "viewer", "slack_users": ["U123"]})]))
WHERE = ClusterTarget("flux-demo-arc")


def test_extension_list_names_every_extension_of_the_cluster(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    monitor = ExtensionState(
        cluster=world.ref,
        name="azuremonitor-containers",
        extension_type="Microsoft.AzureMonitor.Containers",
        provisioning_state="Succeeded",
        version="3.1.16",
        current_version="3.1.16",
        auto_upgrade_minor_version=False,
        release_train="Stable",
        scope="cluster",
        namespace="kube-system",
    )
    world.extensions.extensions[(world.ref, monitor.name)] = monitor

    assert world.run(f"extension list {ON}") is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.extensions is not None
    assert [(e.name, e.extension_type) for e in view.extensions] == [
        ("flux", "microsoft.flux"),
        ("azuremonitor-containers", "Microsoft.AzureMonitor.Containers"),
    ]
    assert view.title == "extension list on flux-demo-arc"
    assert world.audit.entries == [], "a read is not audited"
    assert world.extensions.writes() == []


def test_extension_list_of_a_cluster_without_extensions_says_so(world: World) -> None:
    assert world.run(f"extension list {ON}") is Phase.SUCCEEDED
    assert world.reporter.last.extensions == ()
    assert world.reporter.last.note == "no extensions on flux-demo-arc"


def test_deployed_object_list_is_the_configurations_statuses(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)

    assert world.run(f"deployed-object list cluster-config {ON}") is Phase.SUCCEEDED

    deployed = world.reporter.last.deployed
    assert deployed is not None and not deployed.detail
    assert deployed.objects == world.flux.state(world.ref, "cluster-config").statuses
    assert [(o.kind, o.name) for o in deployed.objects][-3:] == [
        ("HelmRelease", "nginx"),
        ("HelmRelease", "redis"),
        ("HelmRelease", "podinfo"),
    ]


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param("--object-name podinfo --object-namespace podinfo --object-kind HelmRelease", id="all-three"),
        pytest.param("--object-name podinfo --object-kind helmrelease", id="no-namespace-kind-in-any-case"),
        pytest.param("--object-name podinfo --object-kind hr", id="flux-short-name"),
    ],
)
def test_deployed_object_show_is_one_object_in_full(world: World, flags: str) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)

    assert world.run(f"deployed-object show cluster-config {ON} {flags}") is Phase.SUCCEEDED

    deployed = world.reporter.last.deployed
    assert deployed is not None and deployed.detail
    assert deployed.objects == (TUTORIAL_APPLIED[2],)


def test_an_object_the_configuration_does_not_report_is_not_found(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)

    flags = "--object-name podinfo --object-namespace default --object-kind HelmRelease"
    assert world.run(f"deployed-object show cluster-config {ON} {flags}") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == (
        "flux configuration 'cluster-config' on cluster 'flux-demo-arc' reports no HelmRelease 'podinfo' in namespace "
        "'default'"
    )
    assert error.recommendation == "`/flux deployed-object list cluster-config -c flux-demo-arc` lists its objects"


def test_two_objects_of_one_name_and_kind_need_the_namespace(world: World) -> None:
    twins = (*TUTORIAL_APPLIED, applied_object("cluster-config", "apps", "HelmRelease", "podinfo", "staging"))
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=twins)

    assert world.run(f"deployed-object show cluster-config {ON} --object-name podinfo --object-kind HelmRelease") is (
        Phase.FAILED
    )

    error = world.reporter.last.error
    assert error is not None
    assert "reports 2 objects HelmRelease 'podinfo' (namespaces podinfo, staging)" in error.message
    assert error.recommendation == "say which with `--object-namespace NAMESPACE`"


def test_deployed_objects_of_a_missing_configuration_say_it_is_missing(world: World) -> None:
    assert world.run(f"deployed-object list nope {ON}") is Phase.FAILED
    assert world.reporter.last.error is not None


@pytest.mark.parametrize(
    "command",
    [
        ExtensionList(target=WHERE),
        DeployedObjectList(target=WHERE, name="cluster-config"),
        DeployedObjectShow(target=WHERE, name="cluster-config", object_name="podinfo", object_kind="HelmRelease"),
    ],
)
def test_a_viewer_may_read(command: ExtensionList | DeployedObjectList | DeployedObjectShow) -> None:
    VIEWER.authorize(Identity("slack", "U123"), command, CLUSTER)
    assert not command.mutates


def test_a_viewer_may_not_write_with_no_wait() -> None:
    command = ExtensionUpdate(target=WHERE, patch=ExtensionPatch(release_train="Preview"), no_wait=True)
    with pytest.raises(errors.Forbidden):
        VIEWER.authorize(Identity("slack", "U123"), command, CLUSTER)


def test_extension_create_passes_its_scope(world: World) -> None:
    assert world.run(f"extension create {ON} --release-namespace flux-ops") is Phase.SUCCEEDED
    installed = world.extensions.extensions[(world.ref, "flux")]
    assert (installed.scope, installed.namespace) == ("cluster", "flux-ops")
