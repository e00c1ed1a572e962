"""`/flux v1 list` and `/flux v1 migrate`: the v1 tutorial's fields, the v2 equivalent, confirm, delete v1 before the
extension, create v2 as `config create` does, watch to Compliant, resume, and the way back when v2 fails."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import errors
from bot.commands import ConfigCreate, Run
from bot.config_access import ApprovalRule, RoleRule
from bot.config_file import DeployKeyPolicy, FluxopsConfig
from bot.grammar import parse
from bot.models import ExtensionSpec, GitSource, Kustomization, ProtectedSettings, RepositoryRef, V1Config
from bot.policy import Policy
from bot.v1_migration import migration, operator_params, v2_command
from bot.views import Phase, StepState
from tests.bot.usecases.fakes import TUTORIAL_SPEC, WorkerDied, World, everything_said

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
    # v2 exists (Non-Compliant): fix it; Azure no longer creates v1, so no way back is offered
    assert "`/flux config update cluster-config -c flux-demo-arc ...`" in error.recommendation
    assert "Azure no longer accepts new Flux v1 configurations" in error.recommendation
    assert "az k8s-configuration create -g" not in error.recommendation


def test_an_azure_failure_creating_v2_carries_the_way_on(world: World) -> None:
    world.v1.seed(world.ref)
    world.run(MIGRATE)
    world.flux.script(failure=errors.OperationFailed("the ARM operation ended Failed"))

    assert world.run(MIGRATE, confirmed_by="U123") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and "was deleted" in error.recommendation
    # no v2 to update: the recovery names the create, and it parses as typed
    assert "/flux config update" not in error.recommendation
    create = error.recommendation.split("create it once the cause is fixed with `")[1].split("`")[0]
    assert isinstance(parse(create.removeprefix("/flux ")), Run)


def test_kept_fields_round_trip(world: World) -> None:
    from bot.v1_migration import v1_from_json, v1_to_json

    v1 = world.v1.seed(world.ref, enable_helm_operator=True, ssh_known_hosts=True)
    assert v1_from_json(v1_to_json(v1)) == v1
    assert isinstance(v1, V1Config)


def _nothing_changed(world: World) -> None:
    assert world.v1.writes() == [] and world.extensions.writes() == [] and world.flux.writes() == []
    assert "cluster-config" in {n for (_, n) in world.v1.configs}


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("git@gitlab.com:org/repo.git", "gitlab.com is not GitHub"),
        ("git@ssh.dev.azure.com:v3/org/proj/repo", "Azure DevOps has no per-repository deploy keys"),
    ],
)
def test_an_ssh_repository_fluxops_cannot_key_is_refused_before_the_confirm(world: World, url: str, said: str) -> None:
    world.v1.seed(world.ref, repository_url=url)

    assert world.run(MIGRATE) is Phase.FAILED

    _nothing_changed(world)
    error = world.reporter.last.error
    assert error is not None and said in error.message
    assert "az k8s-configuration delete -g flux-demo-rg -c flux-demo-arc -t connectedClusters -n cluster-config" in (
        error.recommendation
    )
    by_hand = error.recommendation.split("then `")[1].removesuffix("`")
    assert "--https-user USER --https-key-ref REF" in by_hand and "-u https://" in by_hand
    assert isinstance(parse(by_hand.removeprefix("/flux ")), Run)


def test_the_ado_repository_is_given_its_https_address(world: World) -> None:
    world.v1.seed(world.ref, repository_url="git@ssh.dev.azure.com:v3/Org/Proj/Repo")
    world.run(MIGRATE)
    error = world.reporter.last.error
    assert error is not None and "-u https://dev.azure.com/Org/Proj/_git/Repo " in error.recommendation


def test_a_github_repository_the_policy_does_not_list_is_refused_before_the_confirm(world: World) -> None:
    world.v1.seed(world.ref, repository_url="git@github.com:org/repo.git")  # deploy_keys.repositories is empty

    assert world.run(MIGRATE) is Phase.FAILED

    _nothing_changed(world)
    assert world.reporter.last.error is not None
    assert "`deploy_keys.repositories` in the policy does not list it" in world.reporter.last.error.message


def test_without_a_key_registry_an_ssh_migration_is_refused_before_the_confirm() -> None:
    world = World(keys=None, key_policy=DeployKeyPolicy(repositories=["github.com/org/*"]))
    world.v1.seed(world.ref, repository_url="git@github.com:org/repo.git")

    assert world.run(MIGRATE) is Phase.FAILED

    _nothing_changed(world)
    assert world.reporter.last.error is not None and "FLUXOPS_KEY_ENCRYPTION_KEY" in world.reporter.last.error.message


def test_what_changed_between_the_confirm_and_the_delete_is_checked_again(world: World) -> None:
    world.v1.seed(world.ref)
    assert world.run(MIGRATE) is Phase.AWAITING_CONFIRMATION
    world.flux.seed(world.ref, replace(TUTORIAL_SPEC, name="cluster-config"))  # someone made v2 meanwhile

    assert world.run(MIGRATE, confirmed_by="U123") is Phase.FAILED

    assert world.v1.writes() == [] and world.extensions.writes() == []
    assert world.reporter.last.error is not None and "already has a Flux v2 configuration" in (
        world.reporter.last.error.message
    )


def test_the_confirmation_says_the_delete_cannot_be_undone(world: World) -> None:
    world.v1.seed(world.ref)
    world.run(MIGRATE)
    assert any("cannot be undone" in line for line in world.reporter.confirms[-1].consequences)


def test_with_other_v1_configurations_a_migration_of_one_is_refused(world: World) -> None:
    world.v1.seed(world.ref)
    world.v1.seed(world.ref, "team-a")

    assert world.run(MIGRATE) is Phase.FAILED

    assert world.v1.writes() == [] and world.extensions.writes() == []
    error = world.reporter.last.error
    assert error is not None and "other Flux v1 configurations (team-a)" in error.message
    steps = error.recommendation
    delete = "`az k8s-configuration delete -g flux-demo-rg -c flux-demo-arc -t connectedClusters -n team-a --yes`"
    assert delete in steps and "then `/flux v1 migrate cluster-config -c flux-demo-arc`" in steps
    create = steps.split("create each of the others as Flux v2: `")[1].split("`")[0]
    parsed = parse(create.removeprefix("/flux "))
    assert isinstance(parsed, Run) and isinstance(parsed.command, ConfigCreate)
    assert parsed.command.spec.name == "team-a"
    # the steps work: team-a deleted by hand, then the migration of cluster-config goes through
    world.v1.configs.pop((world.ref, "team-a"))
    assert world.run(MIGRATE, job_id="j-2") is Phase.AWAITING_CONFIRMATION
    assert world.run(MIGRATE, job_id="j-2", confirmed_by="U123") is Phase.SUCCEEDED
    assert world.run(create.removeprefix("/flux "), job_id="j-3") is Phase.SUCCEEDED


def test_the_fake_refuses_the_extension_while_v1_remains(world: World) -> None:
    world.v1.seed(world.ref, "team-a")
    with pytest.raises(errors.InvalidRequest, match="team-a"):
        world.extensions.begin_create(world.ref, ExtensionSpec())


def test_with_the_extension_installed_one_of_several_may_be_migrated(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    world.v1.seed(world.ref)
    world.v1.seed(world.ref, "team-a")
    world.run(MIGRATE)
    assert world.run(MIGRATE, confirmed_by="U123") is Phase.SUCCEEDED
    assert [n for (_, n) in world.v1.configs] == ["team-a"]


def test_a_migration_waits_for_approvals_where_deletes_do(world: World) -> None:
    rules = [RoleRule.model_validate({"role": "admin", "slack_users": ["U123", "U777"]})]
    default_for = ApprovalRule.model_validate({"clusters": {"names": ["flux-demo-arc"]}})
    deletes = ApprovalRule.model_validate({"clusters": {"names": ["flux-demo-arc"]}, "for": ["delete"]})
    named = ApprovalRule.model_validate({"clusters": {"names": ["flux-demo-arc"]}, "for": ["v1 migrate"]})
    for rule in (default_for, deletes, named):
        world = World(policy=Policy(FluxopsConfig(roles=rules, approvals=[rule])))
        world.v1.seed(world.ref)
        assert world.run(MIGRATE) is Phase.AWAITING_CONFIRMATION
        assert world.reporter.confirms[-1].approvals_required == 1
        staged = world.jobs.records["j-1"]
        assert world.run_record(replace(staged, confirmed_by="U123")) is Phase.FAILED  # nobody else approved
        assert world.v1.writes() == []
        assert world.run(MIGRATE, job_id="j-2") is Phase.AWAITING_CONFIRMATION
        staged = world.jobs.records["j-2"]
        assert world.run_record(replace(staged, confirmed_by="U123", approved_by="u777")) is Phase.SUCCEEDED


@pytest.mark.parametrize(
    ("params", "paths"),
    [
        ("--git-readonly --git-path=a,b", ("a", "b")),
        ("--git-path=a --git-path=b", ("a", "b")),
        ("--git-path a --git-path=b,c", ("a", "b", "c")),
        ("--git-path='team-a/apps'", ("team-a/apps",)),
        ("--git-readonly", ("",)),
    ],
)
def test_every_git_path_becomes_a_kustomization_and_the_command_parses(
    world: World, params: str, paths: tuple[str, ...]
) -> None:
    plan = migration(world.v1.seed(world.ref, operator_params=params))
    ks = plan.spec.kustomizations
    assert tuple(k.path for k in ks) == paths
    assert tuple(k.name for k in ks) == ("sync", "sync-2", "sync-3")[: len(paths)]
    assert all(k.depends_on == () for k in ks)
    parsed = parse(v2_command(plan, "flux-demo-arc").removeprefix("/flux "))
    assert isinstance(parsed, Run) and isinstance(parsed.command, ConfigCreate)
    assert tuple(k.path for k in parsed.command.spec.kustomizations) == tuple(p or "./" for p in paths)
    assert parsed.command.target.cluster == "flux-demo-arc"


@pytest.mark.parametrize(
    ("params", "branch", "prune", "readonly_note"),
    [
        ("--git-branch x --git-readonly", "x", False, False),
        ("--git-branch=x --sync-garbage-collection", "x", True, False),
        ("--sync-garbage-collection=false --git-readonly=false --git-user=flux", "master", False, True),
        ("--git-readonly=true --git-user=flux --sync-garbage-collection=true", "master", True, False),
        ("--git-branch 'rel-1' --git-path x", "rel-1", False, False),
    ],
)
def test_operator_flags_in_either_form(
    world: World, params: str, branch: str, prune: bool, readonly_note: bool
) -> None:
    plan = migration(world.v1.seed(world.ref, operator_params=params))
    assert plan.spec.source.ref.branch == branch  # type: ignore[union-attr]
    assert plan.spec.kustomizations[0].prune is prune
    assert any("Flux v2 only reads it" in n for n in plan.notes) is readonly_note


def test_https_credentials_are_said_not_to_carry(world: World) -> None:
    world.v1.seed(world.ref)
    world.run(MIGRATE)
    assert any(
        "HTTPS credentials" in line and "--https-key-ref" in line for line in world.reporter.confirms[-1].consequences
    )


def test_a_path_fluxops_cannot_write_is_refused_before_the_confirm(world: World) -> None:
    world.v1.seed(world.ref, operator_params="--git-path='team a/apps'")

    assert world.run(MIGRATE) is Phase.FAILED

    _nothing_changed(world)
    error = world.reporter.last.error
    assert error is not None and "cannot contain spaces" in error.message
    assert "az k8s-configuration delete -g flux-demo-rg" in error.recommendation
