"""Flux events through the use-cases, over the in-memory fakes: ``/flux events`` and the events a Non-Compliant
result carries (a config create or status, a traced push and its commit status)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest

from bot.cluster_objects import FluxEvent, ObjectRef
from bot.models import ClusterRef
from bot.usecases.failure_events import PER_OBJECT, rfc3339
from bot.usecases.flux_events import SHOWN
from bot.views import Phase, TraceState
from tests.bot.usecases import test_push_statuses as pushes
from tests.bot.usecases.fake_cluster_api import FakeClusterApi
from tests.bot.usecases.fakes import TUTORIAL_APPLIED, TUTORIAL_SPEC, WALL_START, World

CREATE = (
    "/flux config create cluster-config -c flux-demo-arc --namespace cluster-config "
    "-u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main "
    "--kustomization name=infra path=./infrastructure prune=true "
    "--kustomization name=apps path=./apps/nope prune=true depends_on=infra"
)
NS = "cluster-config"
SOURCE = ObjectRef("GitRepository", "cluster-config", NS)
INFRA = ObjectRef("Kustomization", "cluster-config-infra", NS)
APPS = ObjectRef("Kustomization", "cluster-config-apps", NS)
PODINFO = ObjectRef("HelmRelease", "podinfo", "podinfo")
NOT_FOUND = "kustomization path not found: stat /tmp/kustomization-1/apps/nope: no such file or directory"


def ago(seconds: float) -> str:
    return rfc3339(WALL_START - seconds)


def event(ref: ObjectRef, reason: str, seconds_ago: float, *, warning: bool = False, message: str = "") -> FluxEvent:
    when = ago(seconds_ago)
    return FluxEvent(
        involved=ref,
        type="Warning" if warning else "Normal",
        reason=reason,
        message=message or f"{reason} of {ref.name}",
        first_seen=when,
        last_seen=when,
        source="kustomize-controller",
    )


@dataclass
class CountingClusterApi(FakeClusterApi):
    """FakeClusterApi noting each events call: (namespace, involved)."""

    calls: list[tuple[str | None, tuple[ObjectRef, ...]]] = field(default_factory=list)

    def events(
        self,
        cluster: ClusterRef,
        *,
        namespace: str | None = None,
        involved: Sequence[ObjectRef] = (),
        since: str | None = None,
    ) -> list[FluxEvent]:
        self.calls.append((namespace, tuple(involved)))
        return super().events(cluster, namespace=namespace, involved=involved, since=since)


@pytest.fixture
def api(world: World) -> CountingClusterApi:
    world.cluster_api = CountingClusterApi()
    return world.cluster_api


# ---------------------------------------------------------------------------------------------
# /flux events
# ---------------------------------------------------------------------------------------------


def tutorial(world: World, api: FakeClusterApi) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC, applied=TUTORIAL_APPLIED)
    for item in (
        event(SOURCE, "NewArtifact", 1800),
        event(INFRA, "ReconciliationSucceeded", 1700),
        event(PODINFO, "UpgradeSucceeded", 1600),
        event(APPS, "ArtifactFailed", 60, warning=True, message=NOT_FOUND),
        # another configuration's object, and an event older than the default hour
        event(ObjectRef("Kustomization", "other-apps", NS), "ReconciliationSucceeded", 30),
        event(INFRA, "ReconciliationSucceeded", 7200),
    ):
        api.add_event(world.ref, item)


def test_events_lists_the_configurations_objects_oldest_first_within_the_hour(
    world: World, api: CountingClusterApi
) -> None:
    tutorial(world, api)

    assert world.run("/flux events cluster-config -c flux-demo-arc") is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.events is not None
    assert [(e.involved, e.reason) for e in view.events.events] == [
        (SOURCE, "NewArtifact"),
        (INFRA, "ReconciliationSucceeded"),
        (PODINFO, "UpgradeSucceeded"),
        (APPS, "ArtifactFailed"),
    ]
    assert view.events.as_of == rfc3339(WALL_START)
    assert view.events.more == 0
    assert view.title == "events cluster-config on flux-demo-arc"
    # one call: the HelmReleases live in their own namespaces, so it asks across namespaces for these objects
    [(namespace, involved)] = api.calls
    assert namespace is None
    assert set(involved) >= {SOURCE, INFRA, APPS, PODINFO}
    assert world.audit.entries == [], "a read is not audited"


def test_kind_and_since_narrow_the_events(world: World, api: CountingClusterApi) -> None:
    tutorial(world, api)

    world.run("/flux events cluster-config -c flux-demo-arc --kind KUSTOMIZATION --since 2h30m")

    view = world.reporter.last
    assert view.events is not None
    assert [(e.involved, e.reason) for e in view.events.events] == [
        (INFRA, "ReconciliationSucceeded"),
        (INFRA, "ReconciliationSucceeded"),
        (APPS, "ArtifactFailed"),
    ]
    [(namespace, involved)] = api.calls
    assert namespace == NS and set(involved) == {INFRA, APPS}


def test_many_events_show_the_newest_and_count_the_rest(world: World, api: CountingClusterApi) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    for i in range(SHOWN + 12):
        api.add_event(world.ref, event(INFRA, f"Progressing{i}", 3000 - i))

    world.run("/flux events cluster-config -c flux-demo-arc")

    listing = world.reporter.last.events
    assert listing is not None
    assert len(listing.events) == SHOWN and listing.more == 12
    assert listing.events[-1].reason == f"Progressing{SHOWN + 11}", "the newest last"


def test_no_events_says_so_for_the_period(world: World, api: CountingClusterApi) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run("/flux events cluster-config -c flux-demo-arc --since 30m --kind ks") is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.events is not None and view.events.events == ()
    assert view.note == "no events about its Kustomization objects in the last 30m"


def test_a_kind_the_configuration_has_not_names_the_kinds_it_has(world: World, api: CountingClusterApi) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)  # no HelmReleases applied

    assert world.run("/flux events cluster-config -c flux-demo-arc --kind helmrelease") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == "flux configuration 'cluster-config' on cluster 'flux-demo-arc' has no HelmRelease"
    assert "`GitRepository`, `Kustomization`" in error.recommendation
    assert "`/flux events cluster-config -c flux-demo-arc --kind GitRepository`" in error.recommendation
    assert api.calls == []


def test_without_cluster_access_it_says_so_and_points_to_status(world: World) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    assert world.run("/flux events cluster-config -c flux-demo-arc") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert "fluxops has no access to the Kubernetes API of cluster 'flux-demo-arc'" in error.message
    assert "FLUXOPS_CLUSTER_ACCESS" in error.recommendation
    assert "`/flux status cluster-config -c flux-demo-arc`" in error.recommendation
    assert world.reporter.private_views == [world.reporter.last]


def test_a_refusing_cluster_is_explained_with_what_to_grant(world: World, api: CountingClusterApi) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)
    api.deny.add(world.ref.arm_id.lower())

    assert world.run("/flux events cluster-config -c flux-demo-arc") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None
    assert error.message == "the Kubernetes API of flux-demo-arc refused fluxops (403)"
    assert "RBAC Reader" in error.recommendation


def test_a_missing_configuration_is_not_found(world: World, api: CountingClusterApi) -> None:
    assert world.run("/flux events nope -c flux-demo-arc") is Phase.FAILED

    error = world.reporter.last.error
    assert error is not None and "'nope' does not exist" in error.message
    assert api.calls == []


# ---------------------------------------------------------------------------------------------
# A Non-Compliant result carries the failing objects' Warnings
# ---------------------------------------------------------------------------------------------


def failing_apps(world: World, api: FakeClusterApi) -> None:
    world.flux.bad_paths = {"./apps/nope"}
    for i in range(PER_OBJECT + 2):
        api.add_event(world.ref, event(APPS, "ArtifactFailed", 600 - i * 60, warning=True, message=f"{NOT_FOUND} {i}"))
    api.add_event(world.ref, event(APPS, "Progressing", 30))  # not a Warning
    api.add_event(world.ref, event(INFRA, "HealthCheckFailed", 20, warning=True))  # infra is not failing


def test_a_non_compliant_create_shows_the_newest_warnings_of_the_failing_objects(
    world: World, api: CountingClusterApi
) -> None:
    failing_apps(world, api)

    assert world.run(CREATE) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None and view.error.message.startswith("Flux reports Non-Compliant")
    assert view.failure_events is not None and view.failure_events.problem == ""
    assert [e.message for e in view.failure_events.events] == [f"{NOT_FOUND} {i}" for i in range(2, PER_OBJECT + 2)], (
        "the newest few, oldest first"
    )
    assert api.calls == [(NS, (APPS,))], "one call, at the final result, for the failing objects only"
    assert world.reporter.private_views == [view]


def test_a_warning_repeated_by_an_earlier_object_of_the_same_name_is_shown_once(
    world: World, api: CountingClusterApi
) -> None:
    world.flux.bad_paths = {"./apps/nope"}
    api.add_event(world.ref, event(APPS, "ArtifactFailed", 900, warning=True, message=NOT_FOUND))  # before a re-create
    api.add_event(world.ref, event(APPS, "ArtifactFailed", 30, warning=True, message=NOT_FOUND))

    world.run(CREATE)

    why = world.reporter.last.failure_events
    assert why is not None and [e.last_seen for e in why.events] == [ago(30)]


def test_events_that_cannot_be_read_do_not_change_the_outcome(world: World, api: CountingClusterApi) -> None:
    failing_apps(world, api)
    api.unreachable.add(world.ref.arm_id.lower())

    assert world.run(CREATE) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None and view.error.message.startswith("Flux reports Non-Compliant")
    assert view.failure_events is not None and view.failure_events.events == ()
    assert view.failure_events.problem == (
        "Flux's events could not be read: the Kubernetes API of flux-demo-arc cannot be reached"
    )
    assert world.audit.entries[0].result.startswith("failed: Flux reports Non-Compliant")


def test_without_cluster_access_a_non_compliant_result_is_as_before(world: World) -> None:
    world.flux.bad_paths = {"./apps/nope"}

    assert world.run(CREATE) is Phase.FAILED

    assert world.reporter.last.failure_events is None


def test_status_of_a_non_compliant_configuration_shows_why(world: World, api: CountingClusterApi) -> None:
    failing_apps(world, api)
    apps = replace(TUTORIAL_SPEC.kustomizations[1], path="./apps/nope")
    world.flux.seed(world.ref, replace(TUTORIAL_SPEC, kustomizations=(TUTORIAL_SPEC.kustomizations[0], apps)))

    assert world.run("/flux status cluster-config -c flux-demo-arc") is Phase.SUCCEEDED

    view = world.reporter.last
    assert view.config is not None and view.config.compliance_state == "Non-Compliant"
    assert view.failure_events is not None and len(view.failure_events.events) == PER_OBJECT
    assert api.calls == [(NS, (APPS,))]


def test_status_of_a_compliant_configuration_reads_no_events(world: World, api: CountingClusterApi) -> None:
    world.flux.seed(world.ref, TUTORIAL_SPEC)

    world.run("/flux status cluster-config -c flux-demo-arc")

    assert world.reporter.last.failure_events is None and api.calls == []


# ---------------------------------------------------------------------------------------------
# A traced push: the failed row and its commit status say the newest Warning
# ---------------------------------------------------------------------------------------------


def test_a_failed_push_target_carries_its_newest_warning_into_the_row_and_status() -> None:
    world, flux, host = pushes.fleet(3)
    api = CountingClusterApi()
    world.cluster_api = api
    flux.applies = {f"aks-{i:02d}": 2.0 for i in range(3)}
    flux.fails = {"aks-01"}
    failing = ObjectRef("Kustomization", "apps-apps", "apps-apps")
    broken = next(c for c in world.more_clusters if c.ref.name == "aks-01")
    long_message = "kustomize build failed: " + "x" * 300
    api.add_event(broken.ref, event(failing, "BuildFailed", 90, warning=True, message="an older failure"))
    api.add_event(broken.ref, event(failing, "BuildFailed", 10, warning=True, message=long_message))

    assert pushes.trace(world) is Phase.FAILED

    assert len(api.calls) == 1, "one events call, for the one failed target, when it failed"
    rows = world.jobs.get("j-1", "trace:rows")
    assert rows is not None and long_message in rows
    failed = host.contexts()["fluxops/aks-01/apps"][-1]
    assert failed[0] == "failure"
    assert failed[1].startswith("Kustomization apps-apps: BuildFailed: kustomize build failed: xxx")
    assert len(failed[1]) <= 140 and failed[1].endswith("…")
    applied = host.contexts()["fluxops/aks-00/apps"][-1]
    assert applied[0] == "success"


def test_a_push_row_saved_before_why_existed_still_loads() -> None:
    world, _, _ = pushes.fleet(1)
    world.jobs.put("j-1", "trace:rows", '[["aks-00", "apps", "failed", "Kustomization apps-apps: boom", "main/x"]]')
    trace = pushes.PushTrace(
        pushes.Job(world.record("/flux clusters"), world.ports(), world.reporter, "push"), pushes.EVENT
    )
    [row] = trace.saved_rows(trace.targets())
    assert row.state is TraceState.FAILED and row.why == ""


# ---------------------------------------------------------------------------------------------
# Reading why never fails a job, and never slows a fleet's trace
# ---------------------------------------------------------------------------------------------


@dataclass
class BrokenClusterApi(CountingClusterApi):
    """An adapter failing with something that is not a FluxopsError (a bug, an unmapped library error)."""

    def events(self, cluster: ClusterRef, **kwargs: object) -> list[FluxEvent]:  # type: ignore[override]
        raise RuntimeError("Connection broken: IncompleteRead(12 bytes read, 988 more expected)")


def test_any_error_reading_events_leaves_the_result_as_it_is(world: World) -> None:
    world.cluster_api = BrokenClusterApi()
    world.flux.bad_paths = {"./apps/nope"}

    assert world.run(CREATE) is Phase.FAILED

    view = world.reporter.last
    assert view.error is not None and view.error.message.startswith("Flux reports Non-Compliant")
    assert view.failure_events is not None and view.failure_events.events == ()
    assert view.failure_events.problem == "Flux's events could not be read: an unexpected error (see the logs)"
    assert "IncompleteRead" not in view.failure_events.problem


@dataclass
class SlowClusterApi(CountingClusterApi):
    """Each events call takes ``takes`` seconds of the fake clock; notes the rows saved when it is asked."""

    world: World | None = None
    takes: float = 0.0
    rows_seen: list[str | None] = field(default_factory=list)

    def events(
        self,
        cluster: ClusterRef,
        *,
        namespace: str | None = None,
        involved: Sequence[ObjectRef] = (),
        since: str | None = None,
    ) -> list[FluxEvent]:
        assert self.world is not None
        self.rows_seen.append(self.world.jobs.get("j-1", "trace:rows"))
        self.world.clock.now += self.takes
        return super().events(cluster, namespace=namespace, involved=involved, since=since)


def failing_fleet(n: int, failing: int, api: SlowClusterApi) -> World:
    world, flux, _ = pushes.fleet(n)
    api.world = world
    world.cluster_api = api
    flux.applies = {f"aks-{i:02d}": 2.0 for i in range(n)}
    flux.fails = {f"aks-{i:02d}" for i in range(failing)}
    return world


def test_rows_are_saved_before_why_is_read() -> None:
    api = SlowClusterApi()
    world = failing_fleet(2, 1, api)

    assert pushes.trace(world) is Phase.FAILED

    assert len(api.calls) == 1
    assert api.rows_seen[0] is not None and '"failed"' in api.rows_seen[0]


def test_why_is_read_for_a_few_failures_a_round_within_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.usecases import push_trace

    monkeypatch.setattr(push_trace, "WHY_PER_ROUND", 3)
    api = SlowClusterApi()
    assert pushes.trace(failing_fleet(5, 5, api)) is Phase.FAILED
    assert len(api.calls) == 3, "five failed in the same round: the first three say why"

    slow = SlowClusterApi(takes=push_trace.WHY_BUDGET / 2 + 0.1)
    assert pushes.trace(failing_fleet(5, 5, slow)) is Phase.FAILED
    assert len(slow.calls) == 2, "the second call used up the round's budget"


def test_a_fleet_with_grouped_statuses_reads_no_events() -> None:
    api = SlowClusterApi()
    world = failing_fleet(pushes.PER_TARGET_UP_TO + 1, 3, api)

    assert pushes.trace(world) is Phase.FAILED

    assert api.calls == []
    rows = world.jobs.get("j-1", "trace:rows")
    assert rows is not None and rows.count('"failed"') == 3
