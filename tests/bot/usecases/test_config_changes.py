"""Changing a configuration that exists: update, suspend, resume, and its kustomizations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.models import FluxConfigSpec, GitSource, Kustomization, RepositoryRef
from bot.views import Phase, StepState
from tests.bot.usecases.fakes import TUTORIAL_APPLIED, TUTORIAL_SPEC, WorkerDied, World

ON = "-c flux-demo-arc"


def spec(world: World, name: str = "cluster-config") -> FluxConfigSpec:
    found = world.flux.state(world.ref, name).spec
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("text", "seeded_suspended", "compliance", "step"),
    [
        (f"suspend cluster-config {ON}", False, "Suspended", "suspend flux configuration cluster-config"),
        (f"resume cluster-config {ON}", True, "Compliant", "resume flux configuration cluster-config"),
        (
            f"config update cluster-config {ON} --branch dev",
            False,
            "Compliant",
            "update flux configuration cluster-config",
        ),
    ],
)
def test_patches_watch_for_the_state_they_expect(
    world: World, text: str, seeded_suspended: bool, compliance: str, step: str
) -> None:
    world.flux.seed(world.ref, replace(TUTORIAL_SPEC, suspend=seeded_suspended))

    assert world.run(text) is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.config is not None and view.config.compliance_state == compliance
    assert [(s.text, s.state) for s in view.steps] == [(step, StepState.DONE)]
    assert world.flux.writes() == [("begin_update", "cluster-config")]
    assert spec(world).suspend is (compliance == "Suspended")
    assert [e.result for e in world.audit.entries] == ["succeeded"]


def test_update_changes_only_what_it_names(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    world.run(f"config update cluster-config {ON} --branch dev")

    source = TUTORIAL_SPEC.source
    assert isinstance(source, GitSource)
    assert spec(world) == replace(TUTORIAL_SPEC, source=replace(source, ref=RepositoryRef(branch="dev")))


def test_suspend_of_a_missing_configuration_fails(world: World) -> None:
    assert world.run(f"suspend cluster-config {ON}") is Phase.FAILED

    error = world.reporter.last.error
    assert (
        error is not None
        and error.message == "flux configuration 'cluster-config' does not exist on cluster 'flux-demo-arc'"
    )
    assert world.flux.writes() == []


KUSTOMIZATION_CREATE = f"kustomization create --config cluster-config -k {{name}} {ON} --path ./apps/production"


def test_kustomization_create_adds_it(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(KUSTOMIZATION_CREATE.format(name="prod")) is Phase.SUCCEEDED

    assert spec(world).kustomizations == (
        *TUTORIAL_SPEC.kustomizations,
        Kustomization(name="prod", path="./apps/production"),
    )


def test_kustomization_create_of_an_existing_name_is_refused(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(KUSTOMIZATION_CREATE.format(name="apps")) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == "kustomization 'apps' already exists in flux configuration 'cluster-config'"
    assert "`/flux kustomization update --config cluster-config -k apps ...`" in error.recommendation
    assert world.flux.writes() == []
    assert spec(world) == TUTORIAL_SPEC


def test_kustomization_create_resumed_after_its_worker_died_does_not_refuse_its_own_kustomization(
    world: World,
) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    world.flux.script(worker_dies=True)  # Azure adds the kustomization; the worker never learns it
    text = KUSTOMIZATION_CREATE.format(name="prod")
    with pytest.raises(WorkerDied):
        world.run(text)

    assert world.run(text) is Phase.SUCCEEDED

    assert [call for call, _ in world.flux.writes()] == ["begin_update", "resume"]
    assert [k.name for k in spec(world).kustomizations] == ["infra", "apps", "prod"]
    assert [e.result for e in world.audit.entries] == ["succeeded"]


def test_kustomization_update_changes_it(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert (
        world.run(f"kustomization update --config cluster-config -k apps {ON} --path ./apps/production")
        is Phase.SUCCEEDED
    )

    assert spec(world).kustomizations[1] == replace(TUTORIAL_SPEC.kustomizations[1], path="./apps/production")


def test_kustomization_update_changes_its_substitutions(world: World) -> None:
    """``--substitute`` and ``--substitute-from`` on an existing kustomization (once only at create)."""
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    text = (
        f"kustomization update --config cluster-config -k apps {ON} --substitute region:weu "
        "--substitute-from ConfigMap:cluster-vars,Secret:cluster-secrets:optional"
    )

    assert world.run(text) is Phase.SUCCEEDED

    (_, patch), *_ = world.flux.patches
    (change,) = patch.kustomizations or ()
    assert change.substitute == (("region", "weu"),)
    assert [(s.kind, s.name, s.optional) for s in change.substitute_from or ()] == [
        ("ConfigMap", "cluster-vars", False),
        ("Secret", "cluster-secrets", True),
    ]
    assert change.path is None and change.prune is None, "nothing else in the patch"


def test_kustomization_update_of_a_missing_name_fails(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(f"kustomization update --config cluster-config -k nope {ON} --path ./x") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and error.message == "flux configuration 'cluster-config' has no kustomization 'nope'"
    assert world.flux.writes() == []


@pytest.mark.parametrize(
    ("text", "check"),
    [
        (f"config show cluster-config {ON}", "config"),
        (f"status cluster-config {ON}", "config"),
        (f"status {ON}", "configs"),
        (f"config list {ON}", "configs"),
        (f"kustomization list --config cluster-config {ON}", "config"),
        (f"kustomization show --config cluster-config -k apps {ON}", "focus"),
        (f"extension show flux {ON}", "extension"),
        ("clusters", "clusters"),
    ],
)
def test_reads_show_what_they_read_and_neither_lock_nor_audit(world: World, text: str, check: str) -> None:
    world.extensions.seed_flux(world.ref)
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)

    assert world.run(text) is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.error is None
    if check == "focus":
        assert view.focus == "apps" and view.config is not None
    elif check == "configs":
        assert view.configs is not None and [c.name for c in view.configs] == ["cluster-config"]
    elif check == "clusters":
        assert view.clusters is not None and [r.cluster.ref.name for r in view.clusters] == ["flux-demo-arc"]
    else:
        assert getattr(view, check) is not None
    assert world.flux.writes() == world.extensions.writes() == []
    assert world.locks.taken == []
    assert world.audit.entries == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"kustomization show --config cluster-config -k nope {ON}",
            "flux configuration 'cluster-config' has no kustomization 'nope'",
        ),
        (f"config show nope {ON}", "flux configuration 'nope' does not exist on cluster 'flux-demo-arc'"),
        ("config show cluster-config -c elsewhere", "<@U123> has no role on a cluster named 'elsewhere'"),
    ],
)
def test_reads_of_something_missing_fail(world: World, text: str, message: str) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(text) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None and view.error.message == message
    assert world.reporter.private_views == [view]
    # reads are not audited, even when they fail; a refusal is (an unknown cluster is refused like a hidden one)
    assert [e.result for e in world.audit.entries] == ([f"refused: {message}"] if "no role" in message else [])
    assert world.jobs.get("j-1", "phase") == "failed"


def test_an_empty_cluster_says_so(world: World) -> None:
    assert world.run(f"config list {ON}") is Phase.SUCCEEDED
    assert world.reporter.last.note == "no flux configurations on flux-demo-arc"


def test_an_alias_names_the_cluster_in_titles_and_audit(world: World) -> None:
    world.alias = "demo"
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run("suspend cluster-config -c demo") is Phase.SUCCEEDED

    assert world.reporter.last.title == "suspend cluster-config on demo"
    assert [e.cluster for e in world.audit.entries] == ["demo"]
