"""`/flux key rotate` with cluster access: each fetch is proved by asking the source to reconcile now and reading
its status, not by waiting for fetch intervals; without access (or where a cluster's API refuses) Azure's
reports prove it, and the job says up front how long that takes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import errors
from bot.cluster_objects import Condition, FluxObject, ObjectRef
from bot.views import Phase, StepState
from tests.bot.usecases.fake_cluster_api import FakeClusterApi
from tests.bot.usecases.fakes import WorkerDied, World, operators
from tests.bot.usecases.test_key_rotation import KEYS, NEW_PUBLIC, PROD, REPO, USERS, assert_rotated, keyed, rotate

REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567"


def source(name: str) -> ObjectRef:
    """The GitRepository the agent makes for configuration ``name`` (created in namespace default)."""
    return ObjectRef("GitRepository", name, "default")


def controllers(world: World, api: FakeClusterApi) -> None:
    """Each configuration's GitRepository, and a source-controller that fetches with the secret the agent has put
    on the cluster when asked: Ready True at a revision, or Ready False with the fetch's error."""
    clusters = {cluster.arm_id.lower(): cluster for cluster, _ in USERS}
    for cluster, name in USERS:
        api.add(cluster, FluxObject(source(name), conditions=(Condition("Ready", "True", "Succeeded"),)))

    def fetch(cluster_id: str, obj: FluxObject) -> FluxObject:
        protected = world.flux.on_cluster(clusters[cluster_id], obj.ref.name)
        failure = world.fetch(REPO, protected)
        if failure is not None:
            return replace(obj, conditions=(Condition("Ready", "False", "GitOperationFailed", failure),))
        return replace(obj, conditions=(Condition("Ready", "True", "Succeeded", "stored artifact"),), revision=REVISION)

    api.on_reconcile = fetch


@pytest.fixture
def world() -> World:
    api = FakeClusterApi()
    w = World(fetches=True, more_clusters=[PROD], policy=operators(), key_policy=KEYS, cluster_api=api)
    controllers(w, api)
    return w


def api_of(world: World) -> FakeClusterApi:
    assert world.cluster_api is not None
    return world.cluster_api


def test_with_cluster_access_a_rotation_proves_each_fetch_at_once(world: World) -> None:
    old = keyed(world, interval="10m")  # Azure's reports alone would take 15 minutes after the revoke

    assert rotate(world) is Phase.SUCCEEDED  # one run: no StillRunning, no waiting for intervals

    assert_rotated(world, old)
    assert sum(world.clock.sleeps) < 60
    # each source asked twice: after its switch to the new key, and after the old key was revoked
    sources = [(cluster, source(name)) for cluster, name in USERS]
    asked = [(cid, ref) for cid, ref, _ in api_of(world).requests]
    assert asked == [(c.arm_id.lower(), ref) for c, ref in sources] * 2
    # the values asked with were saved before asking (a resumed job follows the same requests)
    saved = {
        k: v for k, v in world.jobs.keys("rot").items() if k.startswith("rot:requested:") and not k.endswith(":before")
    }
    assert sorted(saved) == [f"rot:requested:recheck:{i}" for i in range(3)] + [
        f"rot:requested:verify-switch:{i}" for i in range(3)
    ]
    assert sorted(saved.values()) == sorted(value for _, _, value in api_of(world).requests)
    assert "without cluster access" not in " ".join(v.note for v in world.reporter.job_views)


def test_a_fetch_is_asked_for_only_once_the_agent_reported_after_the_switch(world: World) -> None:
    """The PATCH is done when ARM holds the new key; the agent puts it on the cluster later. A reconcile asked
    before that fetches with the old key (still registered), proves nothing, and the recheck after the revoke
    would fail: the job waits for the agent's next report to Azure first."""
    old = keyed(world, interval="10m")
    world.flux.agent_delay = 45
    asked_with: list[bool] = []
    api = api_of(world)
    fetch = api.on_reconcile
    assert fetch is not None

    def noting(cluster_id: str, obj: FluxObject) -> FluxObject:
        cluster = next(c for c, _ in USERS if c.arm_id.lower() == cluster_id)
        asked_with.append(world.flux.on_cluster(cluster, obj.ref.name) == world.flux.protected(cluster, obj.ref.name))
        return fetch(cluster_id, obj)

    api.on_reconcile = noting

    assert rotate(world) is Phase.SUCCEEDED

    assert_rotated(world, old)
    assert asked_with == [True] * 6  # every fetch asked for ran with the key ARM holds
    assert 45 <= sum(world.clock.sleeps) < 120


def test_an_agent_that_never_reports_after_the_switch_rolls_back(world: World) -> None:
    keyed(world, interval="10m")
    world.flux.agent_delay = 10_000  # longer than the watch timeout

    assert rotate(world) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message.startswith(
        "apps on flux-demo-arc could not fetch with the new key: its agent reported nothing to Azure within 600 s "
        "of the switch, so fluxops cannot tell it put the new secret on the cluster"
    ), error.message
    assert api_of(world).requests == []  # nothing was proved with the old key


def test_with_cluster_access_a_source_failing_after_the_revoke_rolls_back_with_flux_message(world: World) -> None:
    keyed(world, interval="10m")
    world.at_checkpoint("rotate.revoke", lambda: world.git.broken.add(NEW_PUBLIC))

    assert rotate(world) is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message.startswith("apps on flux-demo-arc failed to fetch after the old key was revoked: ")
    assert "ssh: handshake failed" in error.message  # what the source reported, in Flux's words
    assert "Rolled back" in error.message
    assert sum(world.clock.sleeps) < 60


def test_with_cluster_access_a_new_key_that_cannot_fetch_is_rolled_back(world: World) -> None:
    keyed(world)
    world.git.broken.add(NEW_PUBLIC)

    assert rotate(world) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None
    assert view.error.message.startswith("apps on flux-demo-arc could not fetch with the new key: ")
    assert "ssh: handshake failed" in view.error.message
    assert view.error.message.endswith("and fetching.")
    # the failed fetch, then the roll-back proving each configuration fetches with the old key again: all asked
    assert [ref.name for _, ref, _ in api_of(world).requests] == ["apps", "apps", "infra", "apps"]


def test_a_cluster_whose_api_refuses_falls_back_to_azure_reports_and_says_so(world: World) -> None:
    old = keyed(world, interval="20s")
    api_of(world).deny.add(PROD.ref.arm_id.lower())

    assert rotate(world) is Phase.SUCCEEDED

    assert_rotated(world, old)
    notes = [v.note for v in world.reporter.job_views]
    assert any(
        n.startswith("fluxops cannot use the Kubernetes API of prod-aks (the Kubernetes API of prod-aks refused")
        and n.endswith(
            "from what Flux reports to Azure: about 30s after the old key is revoked (1.5 fetch intervals of 20s)"
        )
        for n in notes
    ), notes
    # the Arc cluster still answered through its API; prod-aks was asked nothing
    assert {cid for cid, _, _ in api_of(world).requests} == {USERS[0][0].arm_id.lower()}


def test_without_cluster_access_it_says_up_front_how_long_the_proof_takes() -> None:
    world = World(fetches=True, more_clusters=[PROD], policy=operators(), key_policy=KEYS)
    keyed(world, interval="10m")

    with pytest.raises(errors.StillRunning) as waiting:
        rotate(world)

    first = next(v for v in world.reporter.job_views if v.note and v.title.startswith("key rotate"))
    assert first.note == (
        "fluxops runs without cluster access (FLUXOPS_CLUSTER_ACCESS=off), so it proves each fetch from what Flux "
        "reports to Azure: about 15m after the old key is revoked (1.5 fetch intervals of 10m). With "
        "FLUXOPS_CLUSTER_ACCESS=on it asks Flux to fetch at once and takes about a minute."
    )
    assert waiting.value.message == (
        "waiting for every source to fetch once more with the old keys gone: Azure's reports show it about 15m "
        "after the old key is revoked (1.5 fetch intervals of 10m)"
    )


def test_a_resumed_rotation_follows_the_request_it_made_before_its_worker_died(world: World) -> None:
    old = keyed(world)
    api = api_of(world)
    fetch = api.on_reconcile
    assert fetch is not None
    died: list[str] = []

    def die_once(cluster_id: str, obj: FluxObject) -> FluxObject:
        if not died:
            died.append(obj.ref.name)
            raise WorkerDied("after asking, before the answer was read")
        return fetch(cluster_id, obj)

    api.on_reconcile = die_once
    with pytest.raises(WorkerDied):
        rotate(world)
    world.clock.now += 30  # the job is picked up again later

    assert rotate(world) is Phase.SUCCEEDED

    assert_rotated(world, old)
    first, again = api.requests[0], api.requests[1]
    assert first == again  # the same object, with the same requestedAt value as before
    assert tuple({s.state for s in world.reporter.last.steps}) == (StepState.DONE,)
