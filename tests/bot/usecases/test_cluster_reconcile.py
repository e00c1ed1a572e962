"""`/flux reconcile`: the source, then each Kustomization in dependsOn order, each followed until Flux answered;
one kustomization alone; failures with Flux's message and events; no cluster access; a refusing API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from bot import errors
from bot.cluster_objects import Condition, FluxEvent, FluxObject, ObjectRef
from bot.commands import ClusterTarget, Reconcile
from bot.config_access import RoleRule
from bot.config_file import FluxopsConfig
from bot.models import ClusterRef, FluxConfigSpec, Kustomization
from bot.policy import Identity, Policy
from bot.usecases.configs import lock_key
from bot.usecases.reconcile_requests import requested_at
from bot.views import Phase, StepState
from tests.bot.usecases.fake_cluster_api import FakeClusterApi
from tests.bot.usecases.fakes import CLUSTER, TUTORIAL_SPEC, WALL_START, World, everything_said

NS = "cluster-config"
SOURCE = ObjectRef("GitRepository", "cluster-config", NS)
INFRA = ObjectRef("Kustomization", "cluster-config-infra", NS)
APPS = ObjectRef("Kustomization", "cluster-config-apps", NS)
NEW = "main@sha1:0123456789abcdef0123456789abcdef01234567"
#: the tutorial's configuration with its kustomizations written the other way round: apps (depends on infra) first
REVERSED = replace(TUTORIAL_SPEC, kustomizations=tuple(reversed(TUTORIAL_SPEC.kustomizations)))
#: what FakeClock 0 is, as the annotation says it
FIRST_REQUEST = "2025-06-15T15:06:40Z"


def ready(status: str, message: str = "", reason: str = "") -> tuple[Condition, ...]:
    return (Condition("Ready", status, reason or ("Succeeded" if status == "True" else "Failed"), message),)


def flux_objects(api: FakeClusterApi) -> None:
    """The tutorial's objects on the cluster, all Ready at an older revision."""
    old = "main@sha1:4f1bdad"
    api.add(CLUSTER.ref, FluxObject(SOURCE, conditions=ready("True", "stored artifact"), revision=old))
    api.add(CLUSTER.ref, FluxObject(INFRA, conditions=ready("True"), revision=old, source_ref=SOURCE))
    api.add(
        CLUSTER.ref, FluxObject(APPS, conditions=ready("True"), revision=old, source_ref=SOURCE, depends_on=(INFRA,))
    )


def fetch_and_apply(failing: dict[str, str] | None = None) -> Callable[[str, FluxObject], FluxObject]:
    """The controllers' answer to a request: the new revision, Ready True (or False with the given message)."""

    def answer(cluster_id: str, obj: FluxObject) -> FluxObject:
        message = (failing or {}).get(obj.ref.name)
        if message is not None:
            return replace(obj, conditions=ready("False", message, "BuildFailed"))
        return replace(obj, conditions=ready("True", "Applied revision: " + NEW), revision=NEW)

    return answer


@pytest.fixture
def world() -> World:
    api = FakeClusterApi()
    api.on_reconcile = fetch_and_apply()
    flux_objects(api)
    w = World(cluster_api=api)
    w.flux.seed(w.ref, REVERSED)
    return w


def api_of(world: World) -> FakeClusterApi:
    assert world.cluster_api is not None
    return world.cluster_api


def asked(world: World) -> list[ObjectRef]:
    return [ref for _, ref, _ in api_of(world).requests]


def test_the_source_then_each_kustomization_in_depends_on_order(world: World) -> None:
    assert world.run("reconcile cluster-config -c flux-demo-arc") is Phase.SUCCEEDED

    assert asked(world) == [SOURCE, INFRA, APPS]  # apps is written first, but it depends on infra
    # each with the time it was asked, as `flux reconcile` writes it, and each handled
    assert [value for _, _, value in api_of(world).requests] == [FIRST_REQUEST] * 3
    view = world.reporter.last
    assert [(s.text, s.state) for s in view.steps] == [
        (f"GitRepository {NS}/cluster-config: Ready, fetched {NEW}", StepState.DONE),
        (f"Kustomization {NS}/cluster-config-infra: Ready, applied {NEW}", StepState.DONE),
        (f"Kustomization {NS}/cluster-config-apps: Ready, applied {NEW}", StepState.DONE),
    ]
    assert view.note == "Flux on flux-demo-arc reconciled 3 objects: all Ready."
    # one message, edited: the first shows the source requested before anything else was asked
    first_steps = next(v.steps for v in world.reporter.job_views if v.steps)
    assert [(s.text, s.state) for s in first_steps] == [
        (f"GitRepository {NS}/cluster-config: reconcile requested", StepState.RUNNING)
    ]
    assert world.clock.sleeps == []  # the fake controllers answer at once: no poll waits
    # a mutation of what runs on the cluster: audited
    assert [(e.job_id, e.result) for e in world.audit.entries] == [("j-1", "succeeded")]


def test_requested_at_is_rfc3339_as_flux_writes_it() -> None:
    assert requested_at(WALL_START) == FIRST_REQUEST
    assert requested_at(WALL_START + 0.25) == "2025-06-15T15:06:40.25Z"
    assert requested_at(WALL_START + 0.000001) == "2025-06-15T15:06:40.000001Z"


@pytest.mark.parametrize(
    ("flags", "objects"),
    [
        ("--kustomization apps", [APPS]),
        ("--ks infra", [INFRA]),
        ("--kustomization apps --with-source", [SOURCE, APPS]),
        ("--with-source", [SOURCE, INFRA, APPS]),
    ],
)
def test_one_kustomization_alone_and_with_its_source(world: World, flags: str, objects: list[ObjectRef]) -> None:
    assert world.run(f"reconcile cluster-config -c flux-demo-arc {flags}") is Phase.SUCCEEDED
    assert asked(world) == objects
    assert len(world.reporter.last.steps) == len(objects)


def test_an_unknown_kustomization_names_those_there_are(world: World) -> None:
    assert world.run("reconcile cluster-config -c flux-demo-arc --kustomization app") is Phase.FAILED
    error = world.reporter.last.error
    assert error is not None
    assert error.message == "flux configuration 'cluster-config' on flux-demo-arc has no kustomization 'app' " + (
        "(it has `infra`, `apps`)"
    )
    assert error.recommendation == "`/flux kustomization list --config cluster-config -c flux-demo-arc` lists them"
    assert asked(world) == []


def test_a_failing_kustomization_ends_it_with_flux_message_and_events(world: World) -> None:
    api = api_of(world)
    why = "kustomize build failed: accumulating resources: 'infrastructure/missing': no such file or directory"
    api.on_reconcile = fetch_and_apply({"cluster-config-infra": why})
    api.add_event(
        CLUSTER.ref, FluxEvent(INFRA, "Normal", "ReconciliationSucceeded", "applied", last_seen="2025-06-15T15:00:00Z")
    )
    api.add_event(
        CLUSTER.ref, FluxEvent(INFRA, "Warning", "BuildFailed", why, count=2, last_seen="2025-06-15T15:06:40Z")
    )
    api.add_event(CLUSTER.ref, FluxEvent(SOURCE, "Warning", "GitOperationFailed", "an older failure of the source"))

    assert world.run("reconcile cluster-config -c flux-demo-arc") is Phase.FAILED

    assert asked(world) == [SOURCE, INFRA]  # apps depends on infra: not asked
    view = world.reporter.last
    assert [(s.text, s.state) for s in view.steps] == [
        (f"GitRepository {NS}/cluster-config: Ready, fetched {NEW}", StepState.DONE),
        (f"Kustomization {NS}/cluster-config-infra: {why}", StepState.FAILED),
    ]
    assert view.error is not None
    assert view.error.doing == "reconciling flux configuration 'cluster-config' on flux-demo-arc"
    assert view.error.message == (
        f"Kustomization {NS}/cluster-config-infra is not Ready: {why}\n"
        f"Not asked, as they come after it: Kustomization {NS}/cluster-config-apps."
    )
    assert "`/flux reconcile cluster-config -c flux-demo-arc` again" in view.error.recommendation
    assert "`/flux events cluster-config -c flux-demo-arc`" in view.error.recommendation
    # the failing object's Warnings, as every Non-Compliant result shows them (not the source's older one)
    assert view.failure_events is not None
    assert [(e.involved, e.reason, e.count) for e in view.failure_events.events] == [(INFRA, "BuildFailed", 2)]
    assert view.failure_events.as_of == FIRST_REQUEST
    assert world.reporter.private_views[-1] == view  # the person who asked is told too


def test_events_that_cannot_be_read_do_not_hide_the_failure(world: World) -> None:
    api = api_of(world)
    api.on_reconcile = fetch_and_apply({"cluster-config": "authentication required"})

    def refuse(*args: object, **kwargs: object) -> list[FluxEvent]:
        raise errors.ClusterAccessDenied("events are forbidden", recommendation="grant list on events")

    api.events = refuse  # type: ignore[method-assign]

    assert world.run("reconcile cluster-config -c flux-demo-arc") is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None and "authentication required" in view.error.message
    assert view.failure_events is not None
    assert view.failure_events.problem.startswith("Flux's events could not be read: events are forbidden")


def test_a_controller_that_never_answers_times_out(world: World) -> None:
    api_of(world).handle_reconciles = False

    assert world.run("reconcile cluster-config -c flux-demo-arc") is Phase.FAILED

    assert asked(world) == [SOURCE]
    assert sum(world.clock.sleeps) >= world.watch.timeout  # polled with backoff until the watch timeout
    assert max(world.clock.sleeps) <= world.watch.longest
    view = world.reporter.last
    assert view.steps[0].text == f"GitRepository {NS}/cluster-config: not handled within 600 s"
    assert view.error is not None
    assert "did not handle the reconcile request within 600 s" in view.error.message


class SlowControllers(FakeClusterApi):
    """Controllers that handle a request at once but report Ready only on the third read after it."""

    reads_left: int = 2

    def flux_object(self, cluster: ClusterRef, ref: ObjectRef) -> FluxObject:
        obj = super().flux_object(cluster, ref)
        if obj.last_handled_reconcile_at is not None and self.reads_left > 0:
            self.reads_left -= 1
            return replace(
                obj, conditions=(Condition("Ready", "Unknown", "Progressing", "reconciliation in progress"),)
            )
        return obj


def test_handled_then_ready_is_followed_with_backoff() -> None:
    api = SlowControllers()
    api.on_reconcile = fetch_and_apply()
    flux_objects(api)
    world = World(cluster_api=api)
    world.flux.seed(world.ref, REVERSED)

    assert world.run("reconcile cluster-config -c flux-demo-arc --kustomization infra") is Phase.SUCCEEDED

    assert world.clock.sleeps == [1.0, 1.5]
    assert f"Kustomization {NS}/cluster-config-infra: handled, reconciling" in world.reporter.step_texts()
    assert world.reporter.last.steps[0].text == f"Kustomization {NS}/cluster-config-infra: Ready, applied {NEW}"


def test_without_cluster_access_it_says_how_to_turn_it_on_and_when_flux_reconciles_anyway() -> None:
    world = World()
    world.flux.seed(world.ref, REVERSED)

    assert world.run("reconcile cluster-config -c flux-demo-arc") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == (
        "fluxops runs without cluster access (FLUXOPS_CLUSTER_ACCESS=off), so it cannot ask Flux on flux-demo-arc "
        "to reconcile 'cluster-config' now"
    )
    assert error.recommendation.startswith("set FLUXOPS_CLUSTER_ACCESS=on (the default) in the worker's environment")
    # the tutorial's source is fetched every 10 minutes; the clock reads 15:06:40 UTC
    assert error.recommendation.endswith(
        "Meanwhile Flux fetches the source by itself every 10m: a new commit is applied by 15:16 UTC at the latest"
    )


def test_a_refusing_cluster_api_is_explained_with_what_to_grant(world: World) -> None:
    api_of(world).deny.add(CLUSTER.ref.arm_id.lower())

    assert world.run("reconcile cluster-config -c flux-demo-arc") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == "the Kubernetes API of flux-demo-arc refused fluxops (403)"
    assert error.recommendation == "grant fluxops' identity the Azure Kubernetes Service RBAC Reader role"
    assert world.reporter.last.steps[0].state is StepState.FAILED


def test_a_suspended_configuration_is_not_reconciled(world: World) -> None:
    world.flux.seed(world.ref, FluxConfigSpec(name="paused", source=TUTORIAL_SPEC.source, suspend=True))

    assert world.run("reconcile paused -c flux-demo-arc") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == "flux configuration 'paused' on flux-demo-arc is suspended, so Flux does not reconcile it"
    assert error.recommendation == "resume it first: `/flux resume paused -c flux-demo-arc`"
    assert asked(world) == []


def test_a_missing_configuration_says_so(world: World) -> None:
    assert world.run("reconcile nope -c flux-demo-arc") is Phase.FAILED
    assert "flux configuration 'nope' does not exist on cluster 'flux-demo-arc'" in everything_said(world)


def test_an_azure_blob_source_is_a_bucket_and_kustomizations_share_its_namespace() -> None:
    from bot.models import AzureBlobSource

    api = FakeClusterApi()
    api.on_reconcile = fetch_and_apply()
    blob = ObjectRef("Bucket", "blobs", "apps-ns")
    api.add(CLUSTER.ref, FluxObject(blob))
    api.add(CLUSTER.ref, FluxObject(ObjectRef("Kustomization", "blobs-web", "apps-ns")))
    world = World(cluster_api=api)
    source = AzureBlobSource(url="https://acct.blob.core.windows.net", container_name="manifests")
    spec = FluxConfigSpec(
        name="blobs", source=source, namespace="apps-ns", kustomizations=(Kustomization(name="web", path="./web"),)
    )
    world.flux.seed(world.ref, spec)

    assert world.run("reconcile blobs -c flux-demo-arc") is Phase.SUCCEEDED
    assert asked(world) == [blob, ObjectRef("Kustomization", "blobs-web", "apps-ns")]


def test_reconcile_needs_an_operator_as_suspend_does() -> None:
    viewer = Policy(FluxopsConfig(roles=[RoleRule.model_validate({"role": "viewer", "slack_users": ["U1"]})]))
    command = Reconcile(target=ClusterTarget("flux-demo-arc"), name="cluster-config")
    with pytest.raises(errors.Forbidden, match="`reconcile` needs operator"):
        viewer.authorize(Identity("slack", "U1"), command, CLUSTER)


@pytest.mark.parametrize(
    "theirs",
    [
        "2025-06-15T15:06:41.123456789Z",  # asked just after us, as the flux CLI writes it
        "2025-06-15T16:06:41+01:00",  # the same kind of later request, with an offset
        "2025-06-15T15:00:00Z",  # asked after us from a clock that is behind: it differs from the value before
    ],
)
def test_a_reconcile_someone_else_asked_meanwhile_counts_as_handled(world: World, theirs: str) -> None:
    api = api_of(world)
    answer = fetch_and_apply()

    def someone_else_asked_too(cluster_id: str, obj: FluxObject) -> FluxObject:
        # the controller saw their newer annotation before ours and copied theirs
        return replace(answer(cluster_id, obj), requested_at=theirs, last_handled_reconcile_at=theirs)

    api.on_reconcile = someone_else_asked_too

    assert world.run("reconcile cluster-config -c flux-demo-arc") is Phase.SUCCEEDED

    assert asked(world) == [SOURCE, INFRA, APPS]
    assert world.clock.sleeps == []  # no waiting for a value the controller will never copy


def test_an_earlier_value_the_object_had_before_is_not_taken_for_ours(world: World) -> None:
    api = api_of(world)
    earlier = "2025-06-15T15:00:00Z"
    api.add(CLUSTER.ref, replace(api.objects[(CLUSTER.ref.arm_id.lower(), SOURCE)], last_handled_reconcile_at=earlier))
    api.handle_reconciles = False  # the controller is down: it keeps the value it had

    assert world.run("reconcile cluster-config -c flux-demo-arc") is Phase.FAILED

    assert world.reporter.last.steps[0].text == f"GitRepository {NS}/cluster-config: not handled within 600 s"
    assert world.jobs.get("j-1", "reconcile:0:before") == earlier


def test_a_reconcile_takes_the_configuration_lock(world: World) -> None:
    key = lock_key(world.ref, "cluster-config")
    world.locks.take(key, "j-0")  # another job changes (or reconciles) the configuration

    with pytest.raises(errors.Busy) as caught:
        world.run("reconcile cluster-config -c flux-demo-arc")

    assert caught.value.holder == "j-0"
    assert asked(world) == []  # nothing asked while the other job runs
    world.locks.release(key, "j-0")

    assert world.run("reconcile cluster-config -c flux-demo-arc", job_id="j-2") is Phase.SUCCEEDED
    assert (key, "j-2") in world.locks.taken
    assert world.locks.holders == {}
