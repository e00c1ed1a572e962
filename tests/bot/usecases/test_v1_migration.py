"""`/flux v1 list` and `/flux v1 migrate`: the v1 tutorial's fields, the v2 equivalent, confirm, delete v1 before the
extension, create v2 as `config create` does, watch to Compliant, resume, and the way back when v2 fails."""

from __future__ import annotations

import pytest

from bot import errors
from bot.config_file import DeployKeyPolicy
from bot.models import GitSource, Kustomization, ProtectedSettings, RepositoryRef, V1Config
from bot.v1_migration import migration, operator_params, v2_command
from bot.views import Phase, StepState
from tests.bot.usecases.fakes import WorkerDied, World, everything_said

MIGRATE = "v1 migrate cluster-config -c flux-demo-arc"


def test_v1_list_shows_the_tutorial_fields(world: World) -> None:
    world.v1.seed(
        world.ref,
        operator_params="--git-readonly --git-branch=main",
        enable_helm_operator=True,
        helm_chart_version="1.4.0",
        helm_chart_values="--set helm.versions=v3",
        repository_public_key="ssh-rsa AAAAB3Nza fluxv1",
    )

    assert world.run("v1 list -c flux-demo-arc") is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.v1_configs is not None and [c.name for c in view.v1_configs] == ["cluster-config"]
    assert view.note == "`/flux v1 migrate NAME -c flux-demo-arc` moves one to Flux v2"
    said = everything_said(world)
    for text in ("https://github.com/Azure/arc-k8s-demo", "--git-readonly --git-branch=main", "chart 1.4.0", "fluxv1"):
        assert text in said


def test_v1_list_of_a_cluster_without_any(world: World) -> None:
    assert world.run("v1 list -c flux-demo-arc") is Phase.SUCCEEDED
    assert world.reporter.last.note == "no Flux v1 configurations on flux-demo-arc"


@pytest.mark.parametrize(
    ("params", "url", "branch", "path", "prune", "interval"),
    [
        ("--git-readonly", "https://github.com/Azure/arc-k8s-demo", "master", "", False, 300),
        (
            "--git-readonly --git-branch=main --git-path=releases --sync-garbage-collection --git-poll-interval 1m",
            "https://github.com/Azure/arc-k8s-demo",
            "main",
            "releases",
            True,
            60,
        ),
    ],
)
def test_the_v2_equivalent(
    world: World, params: str, url: str, branch: str, path: str, prune: bool, interval: int
) -> None:
    v1 = world.v1.seed(world.ref, operator_params=params, repository_url="git://github.com/Azure/arc-k8s-demo.git")
    plan = migration(v1)
    assert plan.spec.source == GitSource(
        url="https://github.com/Azure/arc-k8s-demo.git",
        ref=RepositoryRef(branch=branch),
        sync_interval_seconds=interval,
    )
    assert (plan.spec.namespace, plan.spec.scope) == ("cluster-config", "cluster")
    assert plan.spec.kustomizations == (
        Kustomization(name="sync", path=path, prune=prune, sync_interval_seconds=interval),
    )
    assert not plan.deploy_key
    assert any("git://" in note for note in plan.notes)
    assert url in v2_command(plan, "c")


def test_an_ssh_repository_gets_a_generated_deploy_key() -> None:
    world = World(key_policy=DeployKeyPolicy(repositories=["github.com/org/*"]))
    world.v1.seed(world.ref, repository_url="git@github.com:org/repo.git")
    plan = migration(world.v1.get(world.ref, "cluster-config"))
    assert plan.deploy_key and plan.spec.source.url == "ssh://git@github.com/org/repo.git"  # type: ignore[union-attr]
    assert "--deploy-key generate" in v2_command(plan, "flux-demo-arc")

    world.run(MIGRATE)
    assert world.run(MIGRATE, confirmed_by="U123") is Phase.SUCCEEDED

    [key] = world.key_maker.made
    assert world.git.public_keys("org/repo") == [key.public_key]
    assert world.flux.protected(world.ref, "cluster-config") == ProtectedSettings(ssh_private_key=key.private_key)
    assert key.private_key.reveal() not in everything_said(world)


def test_operator_params_are_read_as_the_operator_reads_them() -> None:
    assert operator_params("--git-path 'a b' --git-readonly") == {"git-path": "a b", "git-readonly": ""}
    assert operator_params("--git-branch main --git-poll-interval=1m") == {
        "git-branch": "main",
        "git-poll-interval": "1m",
    }


def test_migrate_confirms_then_deletes_v1_installs_flux_and_creates_v2(world: World) -> None:
    world.v1.seed(world.ref)

    assert world.run(MIGRATE) is Phase.AWAITING_CONFIRMATION
    confirm = world.reporter.confirms[-1]
    assert confirm.confirm_label == "Migrate"
    assert any(
        "/flux config create cluster-config -c flux-demo-arc -u https://github.com/Azure/arc-k8s-demo "
        "--branch master --namespace cluster-config --scope cluster" in line
        for line in confirm.consequences
    )
    assert world.v1.writes() == [] and world.extensions.writes() == []

    assert world.run(MIGRATE, confirmed_by="U123") is Phase.SUCCEEDED

    assert world.v1.configs == {}
    steps = [(s.text, s.state) for s in world.reporter.last.steps]
    assert [text for text, _ in steps] == [
        "deleted Flux v1 configuration cluster-config",
        "installed microsoft.flux 1.17.3",
        "created flux configuration cluster-config in Azure",
    ]
    assert {state for _, state in steps} == {StepState.DONE}
    state = world.flux.state(world.ref, "cluster-config")
    assert state.compliance_state == "Compliant"
    assert (
        world.reporter.last.note == "Flux v1 configuration cluster-config is now Flux v2 configuration cluster-config"
    )
    assert world.audit.entries[-1].result.startswith("succeeded (confirmed by U123")


def test_migrate_of_an_unknown_v1_configuration(world: World) -> None:
    assert world.run(MIGRATE) is Phase.FAILED
    assert world.reporter.last.error is not None
    assert world.reporter.last.error.recommendation == "`/flux v1 list -c flux-demo-arc` lists them"


def test_a_worker_dying_after_the_v1_delete_carries_on(world: World) -> None:
    world.v1.seed(world.ref)
    world.run(MIGRATE)
    world.v1.script(worker_dies=True)
    with pytest.raises(WorkerDied):
        world.run(MIGRATE, confirmed_by="U123")
    assert world.v1.configs == {}  # gone from Azure; the job kept its fields

    assert world.run(MIGRATE, confirmed_by="U123") is Phase.SUCCEEDED
    assert world.flux.state(world.ref, "cluster-config").compliance_state == "Compliant"
    # the restarted job sends the (idempotent) DELETE again rather than resume a poller: it is gone, 204
    assert world.v1.count("begin_delete") == 2
    assert world.extensions.count("begin_create") == 1 and world.flux.count("begin_create_or_update") == 1


def test_when_v2_fails_it_says_how_to_get_back(world: World) -> None:
    world.v1.seed(world.ref, operator_params="--git-readonly --git-path=releases")
    world.flux.bad_paths.add("releases")
    world.run(MIGRATE)

    assert world.run(MIGRATE, confirmed_by="U123") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and error.message.startswith("Flux reports Non-Compliant")
    assert "Flux v1 configuration 'cluster-config' was deleted (repository https://github.com/Azure/arc-k8s-demo" in (
        error.recommendation
    )
    assert "`/flux config delete cluster-config -c flux-demo-arc`" in error.recommendation
    assert (
        "az k8s-configuration create -g flux-demo-rg -c flux-demo-arc -t connectedClusters -n cluster-config "
        "--repository-url https://github.com/Azure/arc-k8s-demo --operator-instance-name cluster-config "
        "--operator-namespace cluster-config --scope cluster --operator-params='--git-readonly --git-path=releases'"
    ) in error.recommendation


def test_an_azure_failure_creating_v2_carries_the_way_back(world: World) -> None:
    world.v1.seed(world.ref)
    world.run(MIGRATE)
    world.flux.script(failure=errors.OperationFailed("the ARM operation ended Failed"))

    assert world.run(MIGRATE, confirmed_by="U123") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and "was deleted" in error.recommendation


def test_kept_fields_round_trip(world: World) -> None:
    from bot.v1_migration import v1_from_json, v1_to_json

    v1 = world.v1.seed(world.ref, enable_helm_operator=True, ssh_known_hosts=True)
    assert v1_from_json(v1_to_json(v1)) == v1
    assert isinstance(v1, V1Config)
