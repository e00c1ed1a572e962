"""`/flux key rotate --https-key-ref REF`: the credential's new value to every configuration given it, verified,
or the previous value back (Azure DevOps has no deploy keys, so its repositories are read with a token)."""

from __future__ import annotations

import pytest

from bot import errors
from bot.config_file import DeployKeyPolicy
from bot.key_records import KeyUser
from bot.models import Cluster, ClusterRef, ClusterType, ProtectedSettings, Secret
from bot.views import Phase, StepState, TextView
from tests.bot.usecases.fakes import CLUSTER, FakeKeyRegistry, WorkerDied, World, everything_said
from tests.bot.usecases.scoping import with_credentials

REPO = "https://dev.azure.com/org/proj/_git/fleet"
REF = "ado-fleet"
ROTATE = f"key rotate --https-key-ref {REF}"
ARC = CLUSTER.ref
PROD = Cluster(ClusterRef("00000000-0000-0000-0000-000000000002", "prod-rg", ClusterType.MANAGED, "prod-aks"), "weu")
USERS = ((ARC, "apps"), (PROD.ref, "apps"))
TEAM = "C0PLATFORM"


@pytest.fixture
def world() -> World:
    policy = with_credentials({REF: ["dev.azure.com/org/proj/_git/*"]})
    world = World(fetches=True, more_clusters=[PROD], policy=policy, valid_tokens={"token-1"})
    world.credentials.values[REF] = "token-1"
    return world


def registry(world: World) -> FakeKeyRegistry:
    assert world.keys is not None
    return world.keys


def handed_out(world: World) -> None:
    """Both configurations created with `--https-key-ref REF` (token-1)."""
    for cluster, name in USERS:
        text = (
            f"config create {name} -c {cluster.name} -u {REPO} --branch main --https-user git "
            f"--https-key-ref {REF} --no-extension --interval 20s"
        )
        assert world.run(text, job_id=f"create-{name}-{cluster.name}") is Phase.SUCCEEDED


def tokens(world: World) -> list[str | None]:
    held = [world.flux.protected(cluster, name) for cluster, name in USERS]
    return [p.https_key.reveal() if p is not None and p.https_key is not None else None for p in held]


def change_token(world: World, value: str, *, valid: bool = True) -> None:
    """Someone made a new token in Azure DevOps and put it in the credential file."""
    world.credentials.values[REF] = value
    if valid:
        world.valid_tokens.add(value)


def test_a_create_with_a_credential_records_who_got_it_and_seals_the_value(world: World) -> None:
    handed_out(world)

    keys = registry(world)
    assert keys.credential_use(REF).users == tuple(sorted(KeyUser(c.arm_id, n) for c, n in USERS))
    assert keys.unseal(f"cred:{REF}") == Secret("token-1")
    assert tokens(world) == ["token-1", "token-1"]


def test_a_config_update_with_a_credential_records_it_too(world: World) -> None:
    text = f"config create apps -c flux-demo-arc -u {REPO} --branch main --no-extension --interval 20s"
    assert world.run(text, job_id="create") is Phase.SUCCEEDED
    assert registry(world).credential_use(REF).users == ()

    update = f"config update apps -c flux-demo-arc --https-user git --https-key-ref {REF}"
    assert world.run(update, job_id="update") is Phase.SUCCEEDED

    assert registry(world).credential_use(REF).users == (KeyUser(ARC.arm_id, "apps"),)
    assert world.flux.protected(ARC, "apps") == ProtectedSettings(https_key=Secret("token-1"))


def test_an_unchanged_credential_changes_nothing(world: World) -> None:
    handed_out(world)

    assert world.run(ROTATE, job_id="rot") is Phase.SUCCEEDED

    assert world.reporter.last.note.startswith(f"`{REF}` has not changed since fluxops last handed it out")
    assert world.flux.count("begin_update") == 0


def test_a_changed_credential_goes_to_every_configuration_and_is_verified(world: World) -> None:
    handed_out(world)
    change_token(world, "token-2")

    assert world.run(ROTATE, job_id="rot") is Phase.SUCCEEDED

    assert tokens(world) == ["token-2", "token-2"]
    assert world.flux.count("begin_update") == 2
    assert registry(world).unseal(f"cred:{REF}") == Secret("token-2")
    view = world.reporter.last
    assert view.note == (
        f"Every configuration using `{REF}` (2) fetched with its new value: the old token can be revoked in "
        "Azure DevOps now."
    )
    assert [(s.text, s.state) for s in view.steps] == [
        (f"give apps on flux-demo-arc the new `{REF}`", StepState.DONE),
        (f"give apps on prod-aks the new `{REF}`", StepState.DONE),
        (f"verify apps on flux-demo-arc fetched with the new `{REF}`", StepState.DONE),
        (f"verify apps on prod-aks fetched with the new `{REF}`", StepState.DONE),
    ]
    assert [e.result for e in world.audit.entries if e.job_id == "rot"] == ["succeeded"]
    # and a second rotation finds nothing new
    assert world.run(ROTATE, job_id="rot-2") is Phase.SUCCEEDED
    assert "has not changed" in world.reporter.last.note


def test_a_credential_that_cannot_fetch_is_rolled_back_to_the_previous_value(world: World) -> None:
    world.key_policy = DeployKeyPolicy(channel=TEAM)
    handed_out(world)
    change_token(world, "token-2", valid=False)

    assert world.run(ROTATE, job_id="rot") is Phase.FAILED

    assert tokens(world) == ["token-1", "token-1"]
    assert world.flux.count("begin_update") == 4
    assert registry(world).unseal(f"cred:{REF}") == Secret("token-1")
    view = world.reporter.last
    assert view.error is not None
    assert view.error.doing == f"rotating credential `{REF}`"
    assert view.error.message.startswith("apps on flux-demo-arc could not fetch with the new key: ")
    assert "authentication required" in view.error.message
    assert view.error.message.endswith("Rolled back: every configuration is back on the previous value.")
    assert "do not revoke the old token yet" in view.error.recommendation
    assert world.reporter.private_views == [view]
    [told] = world.channels[TEAM].private_views
    assert isinstance(told, TextView)
    assert told.text == f"Rotation of credential `{REF}` failed and was rolled back: {view.error.message}"


def test_a_permanent_arm_failure_after_a_switch_is_rolled_back_too(world: World) -> None:
    """The first configuration has the new value, Azure refuses the second for good: the first goes back."""
    handed_out(world)
    change_token(world, "token-2")
    world.flux.script()
    world.flux.script(failure=errors.OperationFailed("the ARM operation ended Failed: ExtensionOperationFailed"))

    assert world.run(ROTATE, job_id="rot") is Phase.FAILED

    assert tokens(world) == ["token-1", "token-1"]
    assert registry(world).unseal(f"cred:{REF}") == Secret("token-1")
    error = world.reporter.last.error
    assert error is not None and "ExtensionOperationFailed" in error.message
    assert error.message.endswith("Rolled back: every configuration is back on the previous value.")


def test_a_roll_back_interrupted_by_a_retryable_error_is_finished_not_undone(world: World) -> None:
    """The new token cannot fetch, both configurations are given the old one back, and Azure answers 503 while
    the roll-back checks them. The retried job finishes the roll-back; it never goes forward again (that would
    take the old value's fetches for the new one's, seal the bad token and say the old one may be revoked)."""
    handed_out(world)
    change_token(world, "token-2", valid=False)
    flux = world.flux
    get = flux.get
    failed = False

    def get_failing_once_after_the_roll_back(cluster: ClusterRef, name: str) -> object:
        nonlocal failed
        if flux.count("begin_update") == 4 and not failed:  # two switches, two back
            failed = True
            raise errors.ServiceUnavailable("Azure Resource Manager answered 503")
        return get(cluster, name)

    flux.get = get_failing_once_after_the_roll_back  # type: ignore[method-assign,assignment]

    with pytest.raises(errors.ServiceUnavailable):
        world.run(ROTATE, job_id="rot")
    assert world.run(ROTATE, job_id="rot") is Phase.FAILED

    assert tokens(world) == ["token-1", "token-1"]
    assert registry(world).unseal(f"cred:{REF}") == Secret("token-1")
    error = world.reporter.last.error
    assert error is not None and "could not fetch with the new key" in error.message
    assert error.message.endswith("Rolled back: every configuration is back on the previous value.")


def test_a_rotation_whose_worker_died_resumes_without_patching_twice(world: World) -> None:
    handed_out(world)
    change_token(world, "token-2")
    world.crash_at("rotate.switch")
    with pytest.raises(WorkerDied):
        world.run(ROTATE, job_id="rot")
    # Before the value is sealed, the new value is what the configurations hold, but the job is not done.
    assert registry(world).unseal(f"cred:{REF}") == Secret("token-1")

    assert world.run(ROTATE, job_id="rot") is Phase.SUCCEEDED

    assert tokens(world) == ["token-2", "token-2"]
    assert world.flux.count("begin_update") == 2
    assert registry(world).unseal(f"cred:{REF}") == Secret("token-2")


def test_a_credential_nobody_was_given_is_not_found(world: World) -> None:
    assert world.run(ROTATE, job_id="rot") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == f"no configuration was given `--https-key-ref {REF}` through fluxops"


def test_only_an_operator_of_every_cluster_may_rotate_it(world: World) -> None:
    handed_out(world)
    change_token(world, "token-2")
    world.policy = with_credentials({REF: ["dev.azure.com/org/proj/_git/*"]}, operator_on=["flux-demo-arc"])

    assert world.run(ROTATE, job_id="rot") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and error.message.startswith("it is also used on 1 cluster(s) you have no role on")
    assert tokens(world) == ["token-1", "token-1"]
    assert world.flux.count("begin_update") == 0


def test_the_token_values_never_leave(world: World) -> None:
    world.key_policy = DeployKeyPolicy(channel=TEAM)
    handed_out(world)
    change_token(world, "token-2-secret-value")
    assert world.run(ROTATE, job_id="rot-1") is Phase.SUCCEEDED
    change_token(world, "token-3-secret-value", valid=False)
    assert world.run(ROTATE, job_id="rot-2") is Phase.FAILED

    said = everything_said(world)
    assert REF in said
    assert [t for t in ("token-1", "token-2-secret-value", "token-3-secret-value") if t in said] == []


def test_a_configuration_given_the_changed_file_does_not_hide_the_change_from_a_rotation(world: World) -> None:
    handed_out(world)
    change_token(world, "token-2")
    text = f"config create infra -c flux-demo-arc -u {REPO} --branch main --https-user git --https-key-ref {REF}"
    assert world.run(f"{text} --no-extension --interval 20s", job_id="create-infra") is Phase.SUCCEEDED
    assert world.flux.protected(ARC, "infra") == ProtectedSettings(https_key=Secret("token-2"))

    assert world.run(ROTATE, job_id="rot") is Phase.SUCCEEDED

    assert tokens(world) == ["token-2", "token-2"]  # the configurations that still had token-1 got it
    assert registry(world).unseal(f"cred:{REF}") == Secret("token-2")
    assert len(registry(world).credential_use(REF).users) == 3


def test_a_roll_back_to_a_value_that_no_longer_works_says_so(world: World) -> None:
    handed_out(world)
    change_token(world, "token-2", valid=False)
    world.valid_tokens.discard("token-1")  # the old token was revoked too early

    assert world.run(ROTATE, job_id="rot") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert "Rolled back: apps on flux-demo-arc could not fetch with the old key: " in error.message
    assert "; apps on prod-aks could not fetch with the old key: " in error.message
    assert "every configuration is back" not in error.message
    assert tokens(world) == ["token-1", "token-1"]
