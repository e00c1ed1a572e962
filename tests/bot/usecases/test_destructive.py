"""Deletes ask first: a ConfirmView with what will go, and nothing deleted until someone confirms."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config_access import ApprovalRule, RoleRule
from bot.config_file import FluxopsConfig
from bot.models import Cluster, ClusterRef, ClusterType, FluxConfigSpec, Kustomization
from bot.policy import Policy
from bot.views import ConfirmView, Phase, StepState, mention
from tests.bot.usecases.fakes import CLUSTER, TUTORIAL_APPLIED, TUTORIAL_SPEC, WorkerDied, World

ON = "-c flux-demo-arc"
DELETE = f"config delete cluster-config {ON}"
AKS = Cluster(ClusterRef("00000000-0000-0000-0000-000000000001", "aks-rg", ClusterType.MANAGED, "flux-demo-arc"), "weu")
NO_PRUNE = replace(TUTORIAL_SPEC, kustomizations=tuple(replace(k, prune=False) for k in TUTORIAL_SPEC.kustomizations))


def succeeded(result: str) -> bool:
    """An audit result of a confirmed job may say who confirmed it after the outcome."""
    return result == "succeeded" or result.startswith("succeeded (")


def confirm_view(world: World) -> ConfirmView:
    assert world.reporter.shown, "nothing was shown"
    view = world.reporter.shown[-1]
    assert isinstance(view, ConfirmView), f"the last view is {view!r}"
    return view


@pytest.mark.parametrize(
    ("cluster", "spec", "flags", "summary", "consequences"),
    [
        pytest.param(
            CLUSTER,
            TUTORIAL_SPEC,
            "",
            "Delete flux configuration cluster-config from flux-demo-arc (Arc).",
            (
                "kustomization infra (prune: true) removes HelmRelease nginx, HelmRelease redis",
                "kustomization apps (prune: true) removes HelmRelease podinfo",
            ),
            id="prune",
        ),
        pytest.param(
            AKS,
            NO_PRUNE,
            " --force",
            "Delete flux configuration cluster-config from flux-demo-arc (AKS).",
            (
                "kustomization infra (prune: false) leaves what it applied on the cluster",
                "kustomization apps (prune: false) leaves what it applied on the cluster",
                "--force: Azure removes the resource even if the agent cannot clean up",
            ),
            id="no-prune-force-aks",
        ),
    ],
)
def test_config_delete_asks_first_with_what_prune_removes(
    world: World,
    cluster: Cluster,
    spec: FluxConfigSpec,
    flags: str,
    summary: str,
    consequences: tuple[str, ...],
) -> None:
    world.cluster = cluster
    world.flux.seed(world.ref, spec, applied=TUTORIAL_APPLIED)

    assert world.run(DELETE + flags) is Phase.AWAITING_CONFIRMATION

    view = confirm_view(world)
    assert (view.job_id, view.actor, view.title) == ("j-1", "U123", "config delete cluster-config on flux-demo-arc")
    assert view.summary == summary
    assert view.consequences == consequences
    assert (view.confirm_label, view.approver) == ("Delete", "an admin of flux-demo-arc")
    assert world.jobs.get("j-1", "phase") == "awaiting_confirmation"
    assert world.flux.writes() == []
    assert world.flux.state(world.ref, "cluster-config").spec == spec
    assert world.audit.entries == []
    assert world.locks.taken == []


def test_prune_without_objects_seen_says_everything_it_applied(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    world.run(DELETE)

    assert confirm_view(world).consequences[0] == "kustomization infra (prune: true) removes everything it applied"


def test_config_delete_waits_for_its_button_then_deletes(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)
    world.run(DELETE)
    shown = len(world.reporter.shown)

    # Redelivered before anyone pressed Confirm: nothing happens.
    assert world.run(DELETE) is Phase.AWAITING_CONFIRMATION
    assert len(world.reporter.shown) == shown

    assert world.run(DELETE, confirmed_by="U999") is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.note == "configurations left on flux-demo-arc: none"
    assert [(s.text, s.state) for s in view.steps] == [("deleted flux configuration cluster-config", StepState.DONE)]
    assert any(v.note == f"confirmed by {mention('U999')}" for v in world.reporter.job_views)
    assert world.flux.writes() == [("begin_delete", "cluster-config")]
    assert world.flux.configs == {}
    assert [(succeeded(e.result), e.actor) for e in world.audit.entries] == [(True, "slack:U123")]
    assert world.jobs.get("j-1", "phase") == "succeeded"


def test_config_delete_names_what_is_left(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    world.flux.seed(world.ref, replace(TUTORIAL_SPEC, name="other"))

    assert world.run(DELETE, confirmed_by="U999") is Phase.SUCCEEDED

    assert world.reporter.last.note == "configurations left on flux-demo-arc: other"


def test_a_confirmed_delete_resumes_after_its_worker_died(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    world.flux.script(worker_dies=True)
    with pytest.raises(WorkerDied):
        world.run(DELETE, confirmed_by="U999")

    assert world.run(DELETE, confirmed_by="U999") is Phase.SUCCEEDED

    assert [call for call, _ in world.flux.writes()] == ["begin_delete", "resume"]
    assert [succeeded(e.result) for e in world.audit.entries] == [True]


def test_config_delete_of_a_missing_configuration_fails(world: World) -> None:
    assert world.run(DELETE) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and "'cluster-config' does not exist" in error.message
    assert world.reporter.confirms == []


def test_kustomization_delete_asks_about_that_one_then_removes_it(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)
    text = f"kustomization delete --config cluster-config -k apps {ON}"

    assert world.run(text) is Phase.AWAITING_CONFIRMATION

    view = confirm_view(world)
    assert view.summary == "Remove kustomization apps from flux configuration cluster-config on flux-demo-arc."
    assert view.consequences == ("kustomization apps (prune: true) removes HelmRelease podinfo",)
    assert view.confirm_label == "Remove"
    assert world.flux.writes() == []

    assert world.run(text, confirmed_by="U999") is Phase.SUCCEEDED

    spec = world.flux.state(world.ref, "cluster-config").spec
    assert spec is not None and spec.kustomizations == (
        Kustomization(name="infra", path="./infrastructure", prune=True),
    )
    assert [succeeded(e.result) for e in world.audit.entries] == [True]


def test_kustomization_delete_of_a_missing_name_fails(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(f"kustomization delete --config cluster-config -k nope {ON}") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and error.message == "flux configuration 'cluster-config' has no kustomization 'nope'"
    assert world.reporter.confirms == []


EXTENSION_DELETE = f"extension delete {ON}"


@pytest.mark.parametrize("confirmed_by", ["", "U999"])
def test_extension_delete_is_refused_while_configurations_exist(world: World, confirmed_by: str) -> None:
    world.extensions.seed_flux(world.ref)
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(EXTENSION_DELETE, confirmed_by=confirmed_by) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None
    assert "while flux configurations exist (cluster-config)" in view.error.message
    assert "`/flux config delete cluster-config -c flux-demo-arc`" in view.error.recommendation
    assert world.reporter.private_views == [view]
    assert world.reporter.confirms == []
    assert world.extensions.writes() == []
    assert world.extensions.find_flux(world.ref) is not None
    assert [e.result.startswith(f"failed: {view.error.message}") for e in world.audit.entries] == [True]


def test_extension_delete_asks_first_then_uninstalls(world: World) -> None:
    world.extensions.seed_flux(world.ref)

    assert world.run(EXTENSION_DELETE) is Phase.AWAITING_CONFIRMATION

    view = confirm_view(world)
    assert view.summary == "Uninstall the microsoft.flux extension 'flux' from flux-demo-arc."
    assert view.confirm_label == "Uninstall"
    assert "1.17.3" in view.consequences[0]
    assert world.extensions.writes() == []

    assert world.run(EXTENSION_DELETE, confirmed_by="U999") is Phase.SUCCEEDED

    assert world.extensions.writes() == [("begin_delete", "flux")]
    assert world.extensions.extensions == {}
    assert [(s.text, s.state) for s in world.reporter.last.steps] == [("uninstalled extension flux", StepState.DONE)]
    assert [succeeded(e.result) for e in world.audit.entries] == [True]


def test_extension_create_installs_it_or_refuses_a_second_one(world: World) -> None:
    assert world.run(f"extension create {ON}") is Phase.SUCCEEDED
    extension = world.reporter.last.extension
    assert extension is not None and extension.current_version == "1.17.3"

    assert world.run(f"extension create {ON}", job_id="j-2") is Phase.FAILED
    error = world.reporter.last.error
    assert error is not None and "already has the microsoft.flux extension ('flux', 1.17.3)" in error.message
    assert world.extensions.count("begin_create") == 1


def test_extension_update_changes_it(world: World) -> None:
    world.extensions.seed_flux(world.ref)

    assert world.run(f"extension update {ON} --version 1.18.0") is Phase.SUCCEEDED

    extension = world.reporter.last.extension
    assert extension is not None and extension.current_version == "1.18.0"
    assert extension.auto_upgrade_minor_version is False


def approvals_policy(*, admins: tuple[str, ...] = ("U123", "U777"), approvals: bool = True) -> Policy:
    """Admins by name and through the S0OPS group; deletes on flux-demo-arc need one approval (``approvals``)."""
    rules = [
        RoleRule.model_validate({"role": "admin", "slack_users": list(admins)}),
        RoleRule.model_validate({"role": "admin", "slack_groups": ["S0OPS"]}),
    ]
    one = ApprovalRule.model_validate({"clusters": {"names": ["flux-demo-arc"]}, "required": 1})
    return Policy(FluxopsConfig(roles=rules, approvals=[one] if approvals else []))


def staged_then_confirmed(world: World, approved_by: str) -> Phase:
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)
    assert world.run(DELETE) is Phase.AWAITING_CONFIRMATION
    staged = world.jobs.records["j-1"]
    return world.run_record(replace(staged, confirmed_by="U123", approved_by=approved_by))


def test_the_staged_view_says_how_many_approvals_it_needs(world: World) -> None:
    world.policy = approvals_policy()
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)
    world.run(DELETE)
    view = confirm_view(world)
    assert (view.approvals_required, view.approval_ttl) == (1, 1800)


def test_an_approved_delete_runs(world: World) -> None:
    world.policy = approvals_policy()
    assert staged_then_confirmed(world, "u777") is Phase.SUCCEEDED
    assert world.flux.configs == {}
    assert "approved by u777" in world.audit.entries[-1].result


def test_the_worker_refuses_when_an_approver_lost_the_role(world: World) -> None:
    world.policy = approvals_policy()
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)
    assert world.run(DELETE) is Phase.AWAITING_CONFIRMATION
    world.policy = Policy(
        FluxopsConfig(
            roles=[RoleRule.model_validate({"role": "admin", "slack_users": ["U123"]})],
            approvals=approvals_policy()._approvals,
        )
    )  # type: ignore[attr-defined]
    staged = world.jobs.records["j-1"]
    assert world.run_record(replace(staged, confirmed_by="U123", approved_by="u777")) is Phase.FAILED
    assert world.flux.writes() == []
    assert world.audit.entries[-1].result.startswith("refused: `config delete` on flux-demo-arc needs 1 approval")


def test_the_requester_never_counts_and_group_roles_of_approvers_do(world: World) -> None:
    world.policy = approvals_policy()
    assert staged_then_confirmed(world, "u123") is Phase.FAILED  # their own approval, however it got there
    assert world.flux.writes() == []


def test_an_approver_whose_role_comes_from_a_group_counts(world: World) -> None:
    world.policy = approvals_policy()
    world.jobs.put("j-1", "approver-groups:u555", "S0OPS")
    assert staged_then_confirmed(world, "u555") is Phase.SUCCEEDED


def test_a_rule_added_after_staging_still_applies(world: World) -> None:
    world.policy = approvals_policy(approvals=False)
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)
    assert world.run(DELETE) is Phase.AWAITING_CONFIRMATION  # staged when no approvals were needed
    world.policy = approvals_policy()
    staged = world.jobs.records["j-1"]
    assert world.run_record(replace(staged, confirmed_by="U123")) is Phase.FAILED
    assert world.flux.writes() == []
