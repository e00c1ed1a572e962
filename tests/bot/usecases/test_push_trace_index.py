"""The push trace over a FluxIndex (the World's in-memory one): one bulk query finds the targets, and each
watch round over many targets reads their states in one query instead of one GET each."""

from __future__ import annotations

from dataclasses import replace

from bot.gitevents import GITHUB, PushEvent, RepoRef
from bot.models import Cluster, ClusterRef, ClusterType, FluxConfigSpec, GitSource, Kustomization, RepositoryRef
from bot.usecases.context import Job
from bot.usecases.push_targets import BULK_READ_ABOVE, narrowing
from bot.usecases.push_trace import PushTrace
from bot.views import Phase
from tests.bot.usecases.fakes import World

SUB = "00000000-0000-0000-0000-0000000000f1"
SPEC = FluxConfigSpec(
    name="apps",
    source=GitSource(url="https://github.com/Acme/App.git", ref=RepositoryRef(branch="main")),
    namespace="apps",
    kustomizations=(Kustomization(name="apps", path="./apps"),),
)
EVENT = PushEvent(
    repo=RepoRef(provider=GITHUB, full_name="acme/app", url="https://github.com/acme/app"),
    branch="main",
    after="a" * 40,
    before="b" * 40,
    pusher="octocat",
)


def fleet_world(clusters: int, *, index: bool = True) -> World:
    fleet = [
        Cluster(ClusterRef(SUB, "fleet-rg", ClusterType.MANAGED, f"aks-{i:02d}"), "westeurope") for i in range(clusters)
    ]
    world = World(more_clusters=fleet)
    if not index:
        world.index = None
    for cluster in fleet:
        world.flux.seed(cluster.ref, SPEC)
    source = SPEC.source
    assert isinstance(source, GitSource)
    # the index narrows by "acme/app": these match the substring but not the repository and branch
    docs = replace(source, url="git@github.com:acme/app-docs")
    world.flux.seed(fleet[0].ref, replace(SPEC, name="docs", source=docs))
    world.flux.seed(fleet[1].ref, replace(SPEC, name="release", source=replace(source, ref=RepositoryRef("release"))))
    # tracking, but on a cluster fluxops does not manage
    world.flux.seed(ClusterRef(SUB, "elsewhere", ClusterType.MANAGED, "not-ours"), SPEC)
    return world


def trace(world: World) -> PushTrace:
    return PushTrace(Job(world.record("/flux clusters"), world.ports(), world.reporter, "push"), EVENT)


def test_the_targets_come_from_one_index_query_filtered_exactly() -> None:
    world = fleet_world(8)

    targets = trace(world).targets()

    assert world.index is not None and world.index.calls == [("configurations", "acme/app")]
    assert not [c for c in world.flux.calls if c[0] == "list"], "no cluster listed on its own"
    assert [(t.label, t.config) for t in targets] == [(f"aks-{i:02d}", "apps") for i in range(8)]


def test_without_an_index_each_cluster_is_listed() -> None:
    world = fleet_world(3, index=False)

    targets = trace(world).targets()

    assert [c for c in world.flux.calls if c[0] == "list"] == [("list", "flux-demo-arc")] + [
        ("list", f"aks-{i:02d}") for i in range(3)
    ]
    assert [(t.label, t.config) for t in targets] == [(f"aks-{i:02d}", "apps") for i in range(3)]


def test_each_round_reads_many_targets_in_one_query() -> None:
    world = fleet_world(BULK_READ_ABOVE + 3)

    phase = trace(world).run()

    # the fake's revision never names the pushed commit: every round is a full round until the watch times out
    assert phase is Phase.FAILED
    assert world.index is not None
    rounds = len(world.index.calls) - 1
    assert rounds >= 2 and set(world.index.calls) == {("configurations", "acme/app")}
    assert not [c for c in world.flux.calls if c[0] == "get"], "no target read on its own"


def test_a_handful_of_targets_are_read_one_by_one() -> None:
    world = fleet_world(2)

    trace(world).run()

    assert world.index is not None and world.index.calls == [("configurations", "acme/app")]
    assert [c for c in world.flux.calls if c[0] == "get"], "two targets: plain GETs"


def test_the_narrowing_substring_is_in_every_spelling_of_the_url() -> None:
    assert narrowing(("github.com", "acme/app")) == "acme/app"
    assert narrowing(("dev.azure.com", "org/project/repo")) == "repo"
