"""``--no-wait`` (az's): a write goes to Azure and the job ends once Azure accepted it, without following the
operation or Flux's reconciliation, and says where to follow it. Against in-memory fakes of Azure and Redis."""

from __future__ import annotations

import pytest

from bot.config_file import DeployKeyPolicy
from bot.views import Phase
from tests.bot.usecases.fakes import TUTORIAL_SPEC, World
from tests.bot.usecases.scoping import with_credentials

ON = "-c flux-demo-arc"
CREATE = (
    f"config create cluster-config {ON} --namespace cluster-config "
    "-u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main "
    "--kustomization name=infra path=./infrastructure"
)
FOLLOW_CONFIG = "accepted by Azure; not waiting for it: see `/flux status cluster-config -c flux-demo-arc`"
FOLLOW_EXTENSION = "accepted by Azure; not waiting for it: see `/flux extension show -c flux-demo-arc`"


def phases(world: World) -> list[Phase]:
    seen: list[Phase] = []
    for view in world.reporter.job_views:
        if not seen or seen[-1] is not view.phase:
            seen.append(view.phase)
    return seen


def submitted(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [call for call in calls if call[0].startswith("submit_")]


def test_config_create_returns_once_azure_accepted_it(world: World) -> None:
    world.extensions.seed_flux(world.ref)

    assert world.run(f"{CREATE} --no-wait") is Phase.SUCCEEDED

    assert submitted(world.flux.calls) == [("submit_create_or_update", "cluster-config")]
    assert phases(world) == [Phase.RUNNING, Phase.SUCCEEDED], "no reconciliation watch"
    view = world.reporter.last
    assert (view.note, view.error) == (FOLLOW_CONFIG, None)
    assert world.flux.state(world.ref, "cluster-config").compliance_state == "Pending", "Flux has not applied it"
    audited = [(e.result, e.command) for e in world.audit.entries]
    assert audited == [("accepted by Azure (--no-wait)", f"/flux {CREATE} --no-wait")], "not that it succeeded"
    assert world.reporter.last.steps[-1].text == "create submitted to Azure (--no-wait)"
    assert world.locks.holders == {}


def test_without_no_wait_the_job_follows_the_write(world: World) -> None:
    world.extensions.seed_flux(world.ref)

    assert world.run(CREATE) is Phase.SUCCEEDED

    assert submitted(world.flux.calls) == []
    assert Phase.WATCHING in phases(world)
    assert world.reporter.last.note == ""


def test_an_extension_the_configuration_needs_is_still_installed_first(world: World) -> None:
    """As az: the configuration cannot be written before microsoft.flux is there, so that install is followed."""
    assert world.run(f"{CREATE} --no-wait") is Phase.SUCCEEDED

    assert submitted(world.extensions.calls) == []
    assert world.extensions.count("begin_create") == 1
    assert submitted(world.flux.calls) == [("submit_create_or_update", "cluster-config")]
    assert world.reporter.last.note == FOLLOW_CONFIG


@pytest.mark.parametrize(
    ("text", "call"),
    [
        pytest.param(f"config update cluster-config {ON} --interval 5m", "submit_update", id="config-update"),
        pytest.param(
            f"kustomization create --config cluster-config -k extra --path ./extra {ON}",
            "submit_update",
            id="kustomization-create",
        ),
        pytest.param(
            f"kustomization update --config cluster-config -k apps --prune false {ON}",
            "submit_update",
            id="kustomization-update",
        ),
    ],
)
def test_updates_return_once_accepted(world: World, text: str, call: str) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(f"{text} --no-wait") is Phase.SUCCEEDED

    assert submitted(world.flux.calls) == [(call, "cluster-config")]
    assert Phase.WATCHING not in phases(world)
    assert world.reporter.last.note == FOLLOW_CONFIG


@pytest.mark.parametrize(
    ("text", "call"),
    [
        pytest.param(f"config delete cluster-config {ON}", "submit_delete", id="config-delete"),
        pytest.param(f"kustomization delete --config cluster-config -k apps {ON}", "submit_update", id="ks-delete"),
    ],
)
def test_deletes_ask_first_then_return_once_accepted(world: World, text: str, call: str) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run(f"{text} --no-wait") is Phase.AWAITING_CONFIRMATION
    assert submitted(world.flux.calls) == []

    assert world.run(f"{text} --no-wait", confirmed_by="U999") is Phase.SUCCEEDED
    assert submitted(world.flux.calls) == [(call, "cluster-config")]
    assert world.reporter.last.note == FOLLOW_CONFIG, "not the list of what is left: the delete has not ended"
    if call == "submit_delete":
        assert world.reporter.last.steps[-1].text == "delete submitted to Azure (--no-wait)"


@pytest.mark.parametrize(
    ("text", "call", "seeded"),
    [
        pytest.param(f"extension create {ON} --no-wait", "submit_create", False, id="create"),
        pytest.param(
            f"extension update {ON} --config helm-controller.detectDrift=true --no-wait",
            "submit_update",
            True,
            id="update",
        ),
    ],
)
def test_extension_writes_return_once_accepted(world: World, text: str, call: str, seeded: bool) -> None:
    if seeded:
        world.extensions.seed_flux(world.ref)

    assert world.run(text) is Phase.SUCCEEDED

    assert submitted(world.extensions.calls) == [(call, "flux")]
    view = world.reporter.last
    assert view.note == FOLLOW_EXTENSION
    assert view.extension is not None and view.extension.name == "flux"


def test_extension_delete_returns_once_accepted(world: World) -> None:
    world.extensions.seed_flux(world.ref)
    text = f"extension delete {ON} --no-wait"

    assert world.run(text) is Phase.AWAITING_CONFIRMATION
    assert world.run(text, confirmed_by="U999") is Phase.SUCCEEDED

    assert submitted(world.extensions.calls) == [("submit_delete", "flux")]
    assert world.reporter.last.note == FOLLOW_EXTENSION


def test_an_extension_named_otherwise_is_followed_by_its_name(world: World) -> None:
    world.extensions.seed_flux(world.ref, name="gitops")

    assert world.run(f"extension update gitops {ON} --auto-upgrade false --no-wait") is Phase.SUCCEEDED

    assert world.reporter.last.note.endswith("see `/flux extension show -c flux-demo-arc --name gitops`")


def test_a_generated_deploy_key_is_not_left_to_an_unfollowed_write(world: World) -> None:
    """fluxops records a key it generates as used (or revokes it) by the write's outcome: it must see it."""
    world.key_policy = DeployKeyPolicy(repositories=["github.com/org/*"])
    world.extensions.seed_flux(world.ref)
    text = f"config create apps {ON} -u ssh://git@github.com/org/repo --branch main --deploy-key generate --no-wait"

    assert world.run(text) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and "`--deploy-key generate` cannot go with `--no-wait`" in error.message
    assert "without `--no-wait`" in error.recommendation
    assert world.flux.writes() == [] and world.git.adds == [] and world.keys.all() == []


def test_a_configuration_holding_a_recorded_credential_is_not_deleted_unfollowed() -> None:
    """Its record of the credential ends when the delete has: a delete Azure then fails would leave it holding
    a secret fluxops no longer knows of (and a moved source would take it along)."""
    policy = with_credentials({"ado-pat": ["dev.azure.com/org/proj/_git/*"]}, clusters=["*"], role="admin")
    world = World(policy=policy)
    world.credentials.values["ado-pat"] = "t-1"
    url = "https://dev.azure.com/org/proj/_git/apps"
    create = f"config create apps {ON} --no-extension -u {url} --branch main --https-user git --https-key-ref ado-pat"
    assert world.run(create) is Phase.SUCCEEDED

    assert world.run(f"config delete apps {ON} --no-wait", job_id="d") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert "holds credential 'ado-pat', and fluxops takes it off that record only once Azure" in error.message
    assert submitted(world.flux.calls) == [] and world.flux.count("begin_delete") == 0
