"""`/flux key rotate`: register the new key, switch every configuration, verify, revoke, recheck, finish;
roll back when a source cannot fetch; resume from what was recorded when the worker dies."""

from __future__ import annotations

import contextlib

import pytest

from bot import errors
from bot.config_file import DeployKeyPolicy
from bot.gitevents import RepoRef
from bot.jobs import SCHEDULE, JobRecord
from bot.key_records import ACTIVE, PENDING, DeployKeyRecord, KeyUser, key_id_for
from bot.models import Cluster, ClusterRef, ClusterType, FluxConfigPatch, ProtectedSettings, Secret
from bot.policy import Policy
from bot.views import JobView, Phase, StepState, TextView
from tests.bot.usecases.fakes import (
    CLUSTER,
    FakeKeyRegistry,
    FakeOperation,
    WorkerDied,
    World,
    admins,
    everything_said,
    operators,
    typed,
)

REPO = "ssh://git@github.com/org/repo"
ARC = CLUSTER.ref
PROD = Cluster(ClusterRef("00000000-0000-0000-0000-000000000002", "prod-rg", ClusterType.MANAGED, "prod-aks"), "weu")
#: the configurations reading org/repo, in the order a rotation goes through them (by cluster id, then name)
USERS = ((ARC, "apps"), (ARC, "infra"), (PROD.ref, "apps"))
OLD_PUBLIC, NEW_PUBLIC = "ssh-ed25519 AAAAfake-1", "ssh-ed25519 AAAAfake-2"
STEPS = ["rotate.register", "rotate.switch", "rotate.verify", "rotate.revoke", "rotate.recheck"]
TEAM = "C0PLATFORM"
#: the id of the key the rotation job "rot" makes (derived from the job, so a resumed job finds it)
NEW_ID = key_id_for("rot", "rotate")
#: these rotations share one key between clusters, as the policy lets them
KEYS = DeployKeyPolicy(repositories=["github.com/org/*"], shared=True)


@pytest.fixture
def world() -> World:
    return World(fetches=True, more_clusters=[PROD], policy=operators(), key_policy=KEYS)


def registry(world: World) -> FakeKeyRegistry:
    assert world.keys is not None
    return world.keys


def keyed(world: World, users: tuple[tuple[ClusterRef, str], ...] = USERS, *, interval: str = "20s") -> DeployKeyRecord:
    """Configurations made with `--deploy-key generate` (one key, shared): the newest key."""
    for cluster, name in users:
        text = (
            f"config create {name} -c {cluster.name} -u {REPO} --branch main --deploy-key generate "
            f"--no-extension --interval {interval}"
        )
        assert world.run(text, job_id=f"create-{name}-{cluster.name}") is Phase.SUCCEEDED
    return registry(world).all()[-1]


def rotate(world: World, text: str = "key rotate apps -c flux-demo-arc", job_id: str = "rot") -> Phase:
    return world.run(text, job_id=job_id)


def private(world: World, n: int) -> ProtectedSettings:
    """The protected settings that hold key n (1: the key the configurations were created with)."""
    return ProtectedSettings(ssh_private_key=world.key_maker.made[n - 1].private_key)


def holding(world: World) -> list[ProtectedSettings | None]:
    return [world.flux.protected(cluster, name) for cluster, name in USERS]


def users_of(*pairs: tuple[ClusterRef, str]) -> tuple[KeyUser, ...]:
    return tuple(sorted(KeyUser(cluster.arm_id, name) for cluster, name in pairs))


def steps_reached(world: World, job_id: str = "rot") -> list[str]:
    return [step for job, step in world.checkpoints if job == job_id]


def assert_rotated(world: World, old: DeployKeyRecord) -> DeployKeyRecord:
    """The end state of a rotation that went through: only the new key, everywhere."""
    view = world.reporter.last
    assert view.phase is Phase.SUCCEEDED, view.error
    keys = registry(world)
    [new] = keys.all()
    assert new.key_id != old.key_id
    assert (new.state, new.users, new.replaces) == (ACTIVE, users_of(*USERS), (old.key_id,))
    assert (new.public_key, new.github_key_id) == (NEW_PUBLIC, 102)
    assert keys.unseal(old.key_id) is None  # the old private half is destroyed
    assert keys.unseal(new.key_id) == private(world, 2).ssh_private_key
    assert all(keys.for_config(c.arm_id, n) == new for c, n in USERS)
    assert world.git.public_keys("org/repo") == [NEW_PUBLIC]
    assert holding(world) == [private(world, 2)] * 3
    return new


def test_a_rotation_registers_switches_verifies_then_revokes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    old = keyed(world)
    registered_at_patch: list[list[str]] = []
    at_revoke: list[tuple[list[ProtectedSettings | None], list[tuple[str, StepState]]]] = []
    begin_update, remove = world.flux.begin_update, world.git.remove_deploy_key

    def watched_update(cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> FakeOperation[object]:
        registered_at_patch.append(world.git.public_keys("org/repo"))
        return begin_update(cluster, name, patch)  # type: ignore[return-value]

    def watched_remove(repo: RepoRef, key_id: int) -> bool:
        verified = [(s.text, s.state) for s in world.reporter.last.steps if s.text.startswith("verify")]
        at_revoke.append((holding(world), verified))
        return remove(repo, key_id)

    monkeypatch.setattr(world.flux, "begin_update", watched_update)
    monkeypatch.setattr(world.git, "remove_deploy_key", watched_remove)

    assert rotate(world) is Phase.SUCCEEDED

    new = assert_rotated(world, old)
    assert len(world.key_maker.made) == 2
    # registered before any configuration switched to it, next to the old key
    assert registered_at_patch == [[OLD_PUBLIC, NEW_PUBLIC]] * 3
    assert world.git.adds[-1] == ("org/repo", "fluxops: apps on flux-demo-arc (+2 more)", NEW_PUBLIC)
    # the old key went only once every configuration held the new one and had fetched with it
    [(held, verified)] = at_revoke
    assert held == [private(world, 2)] * 3
    assert len(verified) == 3
    assert {state for _, state in verified} == {StepState.DONE}
    assert world.git.removes == [("org/repo", old.github_key_id)]
    assert steps_reached(world) == STEPS
    view = world.reporter.last
    assert view.note == (
        f"Rotated: {new.key_id} (SHA256:fake-2) replaces {old.key_id} on 3 configurations; "
        "the old key is revoked and destroyed."
    )
    assert [s.text for s in view.steps] == [
        f"registered new read-only deploy key {new.key_id} (SHA256:fake-2)",
        f"switch apps on flux-demo-arc to {new.key_id}",
        f"switch infra on flux-demo-arc to {new.key_id}",
        f"switch apps on prod-aks to {new.key_id}",
        f"verify apps on flux-demo-arc fetched with {new.key_id}",
        f"verify infra on flux-demo-arc fetched with {new.key_id}",
        f"verify apps on prod-aks fetched with {new.key_id}",
        f"revoke old deploy key {old.key_id} (SHA256:fake-1)",
        "verify every source still fetches with the old keys gone",
    ]
    assert {s.state for s in view.steps} == {StepState.DONE}
    assert [(e.job_id, e.result) for e in world.audit.entries if e.job_id == "rot"] == [("rot", "succeeded")]
    assert world.locks.holders == {}


@pytest.mark.parametrize(
    "text",
    ["key rotate apps -c flux-demo-arc", "key rotate apps -c prod-aks", "key rotate --repo git@github.com:Org/Repo"],
)
def test_every_way_of_naming_the_key_rotates_it_for_every_configuration(world: World, text: str) -> None:
    old = keyed(world)

    assert rotate(world, text) is Phase.SUCCEEDED

    assert_rotated(world, old)


def test_rotate_by_key_id(world: World) -> None:
    old = keyed(world)

    assert rotate(world, f"key rotate --key {old.key_id}") is Phase.SUCCEEDED

    assert_rotated(world, old)


def test_a_repository_with_several_keys_gets_one_new_key(world: World) -> None:
    first = keyed(world, USERS[:1])
    registry(world).sealed.pop(first.key_id)  # its private half is lost: the next create makes another key
    second = keyed(world, ((ARC, "infra"),))
    assert registry(world).all() == [first, second]

    assert rotate(world, "key rotate --repo https://github.com/Org/Repo") is Phase.SUCCEEDED

    [new] = registry(world).all()
    assert new.replaces == (first.key_id, second.key_id)
    assert new.users == users_of((ARC, "apps"), (ARC, "infra"))
    assert world.git.removes == [("org/repo", 101), ("org/repo", 102)]
    assert world.git.public_keys("org/repo") == ["ssh-ed25519 AAAAfake-3"]
    assert world.flux.count("begin_update") == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("key rotate --key dk-0000000000", "fluxops has no deploy key dk-0000000000 in use"),
        ("key rotate other -c flux-demo-arc", "flux configuration 'other' on flux-demo-arc does not use a deploy key"),
        ("key rotate --repo ssh://git@github.com/org/else", "no configuration uses a deploy key fluxops made for"),
    ],
)
def test_nothing_to_rotate_is_not_found(world: World, text: str, message: str) -> None:
    keyed(world)

    assert rotate(world, text) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and message in error.message
    assert "`/flux key status`" in error.recommendation
    assert len(world.key_maker.made) == 1
    assert world.flux.count("begin_update") == 0


def test_a_key_no_configuration_uses_any_more_is_not_rotated(world: World) -> None:
    old = keyed(world, USERS[:1])
    world.policy = admins()  # a delete needs an admin
    assert world.run("config delete apps -c flux-demo-arc", job_id="delete", confirmed_by="U999") is Phase.SUCCEEDED

    assert rotate(world, f"key rotate --key {old.key_id}") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and error.message == f"fluxops has no deploy key {old.key_id} in use"
    assert len(world.key_maker.made) == 1
    assert world.git.removes == []


# -- resuming -------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
def test_a_worker_that_died_after_a_step_resumes_and_rotates_exactly_once(world: World, step: str) -> None:
    old = keyed(world)
    world.crash_at(step)
    with pytest.raises(WorkerDied):
        rotate(world)
    assert steps_reached(world)[-1] == step

    assert rotate(world) is Phase.SUCCEEDED

    assert_rotated(world, old)
    assert len(world.key_maker.made) == 2
    assert [a for a in world.git.adds if a[2] == NEW_PUBLIC] == [
        ("org/repo", "fluxops: apps on flux-demo-arc (+2 more)", NEW_PUBLIC)
    ]
    assert world.git.removes == [("org/repo", old.github_key_id)]
    assert world.flux.count("begin_update") == 3
    assert [e.result for e in world.audit.entries if e.job_id == "rot"] == ["succeeded"]


def test_a_worker_that_died_during_a_switch_resumes_that_arm_operation(world: World) -> None:
    old = keyed(world)
    world.flux.script()
    world.flux.script(worker_dies=True)  # the second configuration's PATCH
    with pytest.raises(WorkerDied):
        rotate(world)

    assert rotate(world) is Phase.SUCCEEDED

    assert_rotated(world, old)
    assert world.flux.count("begin_update") == 3
    assert world.flux.count("resume") == 1


def test_a_retryable_github_error_on_revoke_resumes_at_the_revoke(world: World) -> None:
    old = keyed(world)
    world.git.fail_next_remove(errors.ServiceUnavailable("GitHub answered 502 removing deploy key 101"))

    with pytest.raises(errors.ServiceUnavailable):
        rotate(world)

    view = world.reporter.last
    assert not view.phase.terminal
    assert view.note == "GitHub answered 502 removing deploy key 101; trying again shortly"
    assert world.git.public_keys("org/repo") == [OLD_PUBLIC, NEW_PUBLIC]
    assert registry(world).get(old.key_id) is not None
    assert world.audit.entries[-1].job_id != "rot"

    assert rotate(world) is Phase.SUCCEEDED

    assert_rotated(world, old)
    assert world.git.removes == [("org/repo", old.github_key_id)] * 2
    assert world.flux.count("begin_update") == 3
    assert len([a for a in world.git.adds if a[2] == NEW_PUBLIC]) == 1
    assert steps_reached(world).count("rotate.register") == 1
    assert steps_reached(world).count("rotate.revoke") == 1


def test_a_recheck_longer_than_a_minute_gives_the_worker_back_and_carries_on(world: World) -> None:
    old = keyed(world, interval="10m")  # a recheck waits 1.5 fetch intervals: 15 minutes of reports

    with pytest.raises(errors.StillRunning):
        rotate(world)
    assert world.reporter.last.note.startswith("waiting for every source to fetch once more with the old keys gone")
    since = world.jobs.get("rot", "rot:recheck:since")
    assert since is not None

    phases: list[Phase | None] = []
    for _ in range(20):  # the task layer retries it; each run waits up to a minute
        try:
            phases.append(rotate(world))
            break
        except errors.StillRunning:
            phases.append(None)

    assert phases[-1] is Phase.SUCCEEDED
    assert len(phases) >= 10  # 15 minutes of reports, a minute a run
    assert world.jobs.get("rot", "rot:recheck:since") == since  # measured from the first run
    assert_rotated(world, old)
    assert world.flux.count("begin_update") == 3


# -- roll-back ------------------------------------------------------------------------------------


def test_a_new_key_that_cannot_fetch_is_rolled_back(world: World) -> None:
    world.key_policy = KEYS.model_copy(update={"channel": TEAM})
    old = keyed(world)
    world.git.broken.add(NEW_PUBLIC)  # registered, but GitHub refuses fetches with it

    assert rotate(world) is Phase.FAILED

    # every configuration back on the old key, which is still registered and recorded with its users
    assert holding(world) == [private(world, 1)] * 3
    assert world.flux.count("begin_update") == 6
    assert world.git.public_keys("org/repo") == [OLD_PUBLIC]
    assert world.git.removes == [("org/repo", 102)]  # the new key only
    keys = registry(world)
    assert keys.all() == [old]
    assert keys.unseal(old.key_id) == private(world, 1).ssh_private_key
    assert list(keys.sealed) == [old.key_id]
    assert all(keys.for_config(c.arm_id, n) == old for c, n in USERS)
    view = world.reporter.last
    assert view.error is not None
    assert view.error.doing == f"rotating deploy key {old.key_id} of org/repo"
    assert view.error.message.startswith("apps on flux-demo-arc could not fetch with the new key: ")
    assert "ssh: handshake failed" in view.error.message
    assert view.error.message.endswith(f"Rolled back: every configuration is back on {old.key_id} and fetching.")
    assert "both keys" not in view.error.recommendation
    assert (f"verify apps on flux-demo-arc fetched with {NEW_ID}", StepState.FAILED) in [
        (s.text, s.state) for s in view.steps
    ]
    assert f"revoke the new deploy key {NEW_ID}" in [s.text for s in view.steps]
    assert world.reporter.private_views == [view]
    [told] = world.channels[TEAM].private_views
    assert isinstance(told, TextView) and told.error
    assert told.text == f"Deploy key rotation of org/repo failed and was rolled back: {view.error.message}"
    assert [e.result for e in world.audit.entries if e.job_id == "rot"] == [f"failed: {view.error.message}"]
    assert "rotate.revoke" not in steps_reached(world)


def test_the_team_channel_is_not_told_twice(world: World) -> None:
    world.key_policy = KEYS.model_copy(update={"channel": TEAM})
    keyed(world)
    world.git.broken.add(NEW_PUBLIC)
    record = JobRecord(
        job_id="rot",
        text="key rotate apps -c flux-demo-arc",
        command=typed("key rotate apps -c flux-demo-arc"),
        platform="slack",
        actor="U123",
        channel=TEAM,
    )

    assert world.run_record(record) is Phase.FAILED

    assert world.channels == {}
    assert isinstance(world.reporter.private_views[-1], JobView)


def test_a_source_that_fails_after_the_revoke_gets_the_old_key_back(world: World) -> None:
    old = keyed(world)
    world.at_checkpoint("rotate.verify", lambda: world.git.broken.add(NEW_PUBLIC))

    assert rotate(world) is Phase.FAILED

    keys = registry(world)
    [restored] = keys.all()
    assert restored.key_id == old.key_id
    assert (restored.github_key_id, restored.users, restored.state) == (103, old.users, ACTIVE)
    assert world.git.public_keys("org/repo") == [OLD_PUBLIC]
    assert [a for a in world.git.adds if a[2] == OLD_PUBLIC][-1][0] == "org/repo"
    assert len([a for a in world.git.adds if a[2] == OLD_PUBLIC]) == 2  # at the create, and again now
    assert world.git.removes == [("org/repo", 101), ("org/repo", 102)]
    assert holding(world) == [private(world, 1)] * 3
    error = world.reporter.last.error
    assert error is not None
    assert error.message.startswith("apps on flux-demo-arc failed to fetch after the old key was revoked: ")
    assert "Rolled back: every configuration is back on" in error.message
    assert f"register old deploy key {old.key_id} again" in [s.text for s in world.reporter.last.steps]
    assert steps_reached(world) == [*STEPS[:4], "rotate.rollback.reregister", "rotate.rollback.switch"]


@pytest.mark.parametrize("step", ["rotate.rollback.reregister", "rotate.rollback.switch"])
def test_a_roll_back_resumes_after_its_worker_died(world: World, step: str) -> None:
    old = keyed(world)
    world.at_checkpoint("rotate.verify", lambda: world.git.broken.add(NEW_PUBLIC))
    world.crash_at(step)
    with pytest.raises(WorkerDied):
        rotate(world)

    assert rotate(world) is Phase.FAILED

    assert len([a for a in world.git.adds if a[2] == OLD_PUBLIC]) == 2
    assert world.git.public_keys("org/repo") == [OLD_PUBLIC]
    assert world.flux.count("begin_update") == 6
    assert holding(world) == [private(world, 1)] * 3
    assert [r.key_id for r in registry(world).all()] == [old.key_id]
    assert [e.result.split(":")[0] for e in world.audit.entries if e.job_id == "rot"] == ["failed"]


def test_a_roll_back_that_cannot_verify_leaves_both_keys(world: World) -> None:
    old = keyed(world)
    world.flux.settle_after = None  # from now on no source reports anything

    assert rotate(world) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message.startswith("apps on flux-demo-arc reported no fetch within 600 s of the switch. Rolled back: ")
    assert "the roll-back could not restore every configuration" in error.message
    assert error.recommendation.endswith("both keys are left registered so nothing loses access")
    assert world.git.public_keys("org/repo") == [OLD_PUBLIC, NEW_PUBLIC]
    assert world.git.removes == []
    new = registry(world).get(NEW_ID)
    assert new is not None and new.state == PENDING
    assert registry(world).get(old.key_id) == old


# -- who may rotate ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["key rotate --key {key}", "key rotate apps -c flux-demo-arc", "key rotate --repo {repo}"]
)
def test_an_operator_of_one_cluster_cannot_rotate_a_key_another_cluster_uses(world: World, text: str) -> None:
    old = keyed(world)
    world.policy = operators("flux-demo-arc")

    assert rotate(world, text.format(key=old.key_id, repo=REPO)) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    # the other cluster is not named: this person has no role there
    assert error.message == (
        "it is also used on 1 cluster(s) you have no role on; `key rotate` needs operator on every cluster that uses it"
    )
    assert "prod-aks" not in error.message
    assert len(world.key_maker.made) == 1
    assert len(world.git.adds) == 1
    assert world.flux.count("begin_update") == 0
    assert registry(world).all() == [old]


def test_an_operator_of_every_cluster_may(world: World) -> None:
    old = keyed(world)
    world.policy = operators("flux-demo-arc", "prod-aks")

    assert rotate(world, f"key rotate --key {old.key_id}") is Phase.SUCCEEDED


def test_the_scheduler_needs_no_role(world: World) -> None:
    old = keyed(world)
    world.policy = Policy.empty()
    record = JobRecord(
        job_id="rot",
        text=f"key rotate --key {old.key_id}",
        command=typed(f"key rotate --key {old.key_id}"),
        platform=SCHEDULE,
        actor="fluxops-scheduler",
    )

    assert world.run_record(record) is Phase.SUCCEEDED

    assert_rotated(world, old)
    assert world.audit.entries[-1].actor == "schedule:fluxops-scheduler"


def test_the_private_keys_never_leave_in_a_rotation(world: World) -> None:
    world.key_policy = KEYS.model_copy(update={"channel": TEAM})
    old = keyed(world)
    assert rotate(world, job_id="rot-1") is Phase.SUCCEEDED
    world.git.broken.add("ssh-ed25519 AAAAfake-3")
    assert rotate(world, f"key rotate --key {keys_id_after(world, old)}", job_id="rot-2") is Phase.FAILED

    said = everything_said(world)
    assert "SHA256:fake-3" in said
    secrets = world.key_maker.private_texts()
    assert len(secrets) == 6
    assert [s for s in secrets if s in said] == []
    assert all(not isinstance(v, Secret) for v in world.jobs.values.values())


def keys_id_after(world: World, old: DeployKeyRecord) -> str:
    [current] = registry(world).all()
    assert current.key_id != old.key_id
    return current.key_id


# -- gaps found by review, now fixed (each was a strict xfail until its fix landed) -------------------


def test_a_permanent_arm_failure_while_switching_is_rolled_back(world: World) -> None:
    old = keyed(world)
    world.flux.script()
    world.flux.script(failure=errors.OperationFailed("the ARM operation ended Failed: ExtensionOperationFailed"))

    assert rotate(world) is Phase.FAILED

    assert holding(world) == [private(world, 1)] * 3
    assert world.git.public_keys("org/repo") == [OLD_PUBLIC]
    assert registry(world).all() == [old]


def test_a_configuration_created_during_a_rotation_keeps_a_working_key(world: World) -> None:
    keyed(world)
    other = (
        f"config create other -c flux-demo-arc -u {REPO} --branch main --deploy-key generate "
        "--no-extension --interval 20s"
    )

    def create_other() -> None:
        with contextlib.suppress(errors.Busy):  # waiting for the rotation would be right too
            world.run(other, job_id="create-other")

    world.at_checkpoint("rotate.verify", create_other)

    assert rotate(world) is Phase.SUCCEEDED
    if world.jobs.get("create-other", "phase") != "succeeded":
        assert world.run(other, job_id="create-other") is Phase.SUCCEEDED

    record = registry(world).for_config(ARC.arm_id, "other")
    assert record is not None  # today: deleted with the old key, which it was given
    assert record.public_key in world.git.public_keys("org/repo")
    held = world.flux.protected(ARC, "other")
    assert held is not None and world.key_maker.public_of(held.ssh_private_key) == record.public_key


def test_a_configuration_deleted_outside_fluxops_does_not_leave_a_stray_key(world: World) -> None:
    keyed(world)
    del world.flux.configs[(PROD.ref, "apps")]  # `az k8s-configuration flux delete`

    rotate(world)

    in_use = {r.public_key for r in registry(world).all() if r.users}
    assert set(world.git.public_keys("org/repo")) <= in_use
