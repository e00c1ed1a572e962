"""The commit statuses of a traced push over the in-memory fakes: one per (cluster, configuration) up to
PER_TARGET_UP_TO targets, one per configuration name above it (counts while pending, final on the last target,
failures naming the clusters), and check-run edits that do not grow with the fleet."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from bot.git_host import STATUS_DESCRIPTION_LIMIT, CheckRun, CommitStatus
from bot.gitevents import GITHUB, PushEvent, RepoRef
from bot.models import (
    Cluster,
    ClusterRef,
    ClusterType,
    Condition,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    Kustomization,
    ObjectStatus,
    RepositoryRef,
)
from bot.usecases.context import Job, WatchPolicy
from bot.usecases.push_statuses import AGGREGATE_EVERY, PER_TARGET_UP_TO
from bot.usecases.push_trace import SHOW_EVERY, PushTrace
from bot.views import Phase
from tests.bot.usecases.fakes import FakeFluxConfigs, FakeGitHost, World

SUB = "00000000-0000-0000-0000-0000000000f2"
AFTER = "a" * 40
BEFORE = "b" * 40
URL = "https://github.com/acme/app"
EVENT = PushEvent(
    repo=RepoRef(provider=GITHUB, full_name="acme/app", url=URL),
    branch="main",
    after=AFTER,
    before=BEFORE,
    pusher="octocat",
)


def spec(name: str = "apps") -> FluxConfigSpec:
    return FluxConfigSpec(
        name=name,
        source=GitSource(url=URL, ref=RepositoryRef(branch="main")),
        namespace=name,
        kustomizations=(Kustomization(name="apps", path="./apps"),),
    )


def ready(kind: str, name: str, status: str, message: str) -> ObjectStatus:
    compliance = "Compliant" if status == "True" else "Non-Compliant"
    return ObjectStatus(name, name, kind, compliance, (Condition("Ready", status, "r", message),))


class ScriptedFlux(FakeFluxConfigs):
    """Each cluster applies (or fails) the pushed commit at its own moment of the fake clock; until then it
    shows the commit before it. ``never`` clusters stay there (the watch times out)."""

    def __init__(self, world_clock: list[World]) -> None:
        super().__init__()
        self.world = world_clock
        self.applies: dict[str, float] = {}
        self.fails: set[str] = set()

    def read(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        base = super().read(cluster, name)
        at = self.applies.get(cluster.name)
        if at is None or self.world[0].clock.now < at:
            return replace(base, source_synced_commit=f"main@sha1:{BEFORE}", statuses=())
        if cluster.name in self.fails:
            broken = ready("Kustomization", f"{name}-apps", "False", f"apply of {AFTER} failed: path not found")
            return replace(
                base, source_synced_commit=f"main@sha1:{AFTER}", compliance_state="Non-Compliant", statuses=(broken,)
            )
        applied = ready("Kustomization", f"{name}-apps", "True", f"Applied revision: main@sha1:{AFTER}")
        return replace(
            base, source_synced_commit=f"main@sha1:{AFTER}", compliance_state="Compliant", statuses=(applied,)
        )


class StatusHost(FakeGitHost):
    """A Git host with commit statuses and check runs, noting each write and the fake clock's time of it."""

    def __init__(self, world: list[World]) -> None:
        super().__init__()
        self.world = world
        self.statuses: list[tuple[float, CommitStatus]] = []
        self.runs: list[CheckRun] = []

    def set_commit_status(self, repo: RepoRef, sha: str, status: CommitStatus) -> None:
        assert sha == AFTER
        self.statuses.append((self.world[0].clock.now, status))

    def publish_check_run(self, repo: RepoRef, sha: str, run: CheckRun, run_id: str | None = None) -> str | None:
        self.runs.append(run)
        return "1"

    def contexts(self) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for _, status in self.statuses:
            found.setdefault(status.context, []).append((status.state.value, status.description))
        return found


def fleet(clusters: int, configs: tuple[str, ...] = ("apps",)) -> tuple[World, ScriptedFlux, StatusHost]:
    holder: list[World] = []
    flux = ScriptedFlux(holder)
    host = StatusHost(holder)
    more = [
        Cluster(ClusterRef(SUB, "fleet-rg", ClusterType.MANAGED, f"aks-{i:02d}"), "westeurope") for i in range(clusters)
    ]
    world = World(flux=flux, more_clusters=more, git=host, watch=WatchPolicy(first=1.0, longest=4.0, timeout=120.0))
    holder.append(world)
    for cluster in more:
        for name in configs:
            flux.seed(cluster.ref, spec(name))
    return world, flux, host


def trace(world: World, job_id: str = "j-1") -> Phase:
    return PushTrace(
        Job(world.record("/flux clusters", job_id=job_id), world.ports(), world.reporter, "push"), EVENT
    ).run()


def test_a_handful_of_targets_get_a_status_each() -> None:
    world, flux, host = fleet(PER_TARGET_UP_TO)
    flux.applies = {f"aks-{i:02d}": 2.0 + i for i in range(PER_TARGET_UP_TO)}

    assert trace(world) is Phase.SUCCEEDED

    contexts = host.contexts()
    assert sorted(contexts) == [f"fluxops/aks-{i:02d}/apps" for i in range(PER_TARGET_UP_TO)]
    for states in contexts.values():
        assert [state for state, _ in states] == ["pending", "success"]


def test_above_the_threshold_one_status_per_configuration_counts_and_ends_on_the_last_target() -> None:
    n = PER_TARGET_UP_TO + 7
    world, flux, host = fleet(n)
    # one cluster every 2 s from t=3: the last at 3 + 2 * 11 = 25
    flux.applies = {f"aks-{i:02d}": 3.0 + 2 * i for i in range(n)}

    assert trace(world) is Phase.SUCCEEDED

    assert list(host.contexts()) == ["fluxops/main/apps"], "no per-cluster status"
    states = host.contexts()["fluxops/main/apps"]
    assert states[0] == ("pending", f"applied on 0/{n} clusters")
    assert states[-1] == ("success", f"applied on {n}/{n} clusters")
    assert all(state == "pending" for state, _ in states[:-1])
    middle = [text for _, text in states[1:-1]]
    assert middle, "progress is shown while pending"
    assert len(middle) == len(set(middle)), "an edit only when the count changed"
    pending_times = [t for t, s in host.statuses if s.state.value == "pending"]
    assert all(b - a >= AGGREGATE_EVERY for a, b in pairwise(pending_times))
    # final in the first round that saw the last cluster applied (polls stay at 1 s while clusters move)
    final_at = host.statuses[-1][0]
    assert 25.0 <= final_at <= 25.0 + world.watch.first


def test_a_failure_names_the_failing_clusters() -> None:
    n = 12
    world, flux, host = fleet(n)
    flux.applies = {f"aks-{i:02d}": 2.0 for i in range(n)}
    flux.fails = {"aks-02", "aks-05", "aks-09"}

    assert trace(world) is Phase.FAILED

    state, text = host.contexts()["fluxops/main/apps"][-1]
    assert (state, text) == ("failure", "failed on 3 of 12: aks-02, aks-05, aks-09")


def test_a_timeout_is_an_error_naming_as_many_clusters_as_fit() -> None:
    n = 40
    world, flux, host = fleet(n)
    flux.applies = {f"aks-{i:02d}": 2.0 for i in range(3)}  # the others never apply

    assert trace(world) is Phase.FAILED

    state, text = host.contexts()["fluxops/main/apps"][-1]
    assert state == "error"
    assert text.startswith("timed out on 37 of 40: aks-03, aks-04, ") and text.endswith(", …")
    assert len(text) <= STATUS_DESCRIPTION_LIMIT


def test_each_configuration_ends_on_its_own() -> None:
    world, flux, host = fleet(4, configs=("apps", "infra"))  # 8 targets: aggregated
    flux.applies = {f"aks-{i:02d}": 2.0 for i in range(4)}
    slow = 30.0

    def later(cluster: ClusterRef, name: str) -> FluxConfigState:
        state = ScriptedFlux.read(flux, cluster, name)
        if name == "infra" and world.clock.now < slow:
            return replace(state, source_synced_commit=f"main@sha1:{BEFORE}", statuses=())
        return state

    flux.read = later  # type: ignore[method-assign]

    assert trace(world) is Phase.SUCCEEDED

    finals = {s.context: t for t, s in host.statuses if s.state.value != "pending"}
    assert set(finals) == {"fluxops/main/apps", "fluxops/main/infra"}
    assert finals["fluxops/main/apps"] < slow <= finals["fluxops/main/infra"]


def test_a_job_run_again_posts_nothing_twice() -> None:
    world, flux, host = fleet(PER_TARGET_UP_TO + 1)
    flux.applies = {f"aks-{i:02d}": 2.0 for i in range(PER_TARGET_UP_TO + 1)}
    trace(world)
    posted = len(host.statuses)

    assert trace(world) is Phase.SUCCEEDED  # the same job picked up again

    assert len(host.statuses) == posted


def test_the_check_run_is_edited_at_most_every_few_seconds_however_many_clusters_move() -> None:
    n = 60
    world, flux, host = fleet(n)
    flux.applies = {f"aks-{i:02d}": 2.0 + 0.5 * i for i in range(n)}  # one more every half second, to t=31.5

    assert trace(world) is Phase.SUCCEEDED

    edits = len(host.runs)
    assert edits <= 2 + (31.5 + world.watch.first) / SHOW_EVERY + 1, edits
    assert edits < n
