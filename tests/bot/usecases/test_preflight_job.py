"""The pull-request preflight job over the in-memory fakes: what it reads (only the kustomizations' scope,
within caps), what it says on a pull request from a fork (counts only), one job per pull request at a time,
a result dropped when the head moved, and a final status whatever happens."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot import errors
from bot.git_host import CheckRun, CommitStatus, PullRequestInfo
from bot.gitevents import GITHUB, PullRequestEvent, RepoRef
from bot.jobs import JobRecord
from bot.models import Cluster, ClusterRef, ClusterType, FluxConfigSpec, GitSource, Kustomization, RepositoryRef
from bot.preflight import reading
from bot.preflight.chart_versions import ChartIndex
from bot.usecases import preflight as job
from bot.usecases.preflight import MAX_INDEXES, run_preflight
from bot.views import Phase
from tests.bot.preflight.test_depends_on import kustomization
from tests.bot.usecases.fakes import CLUSTER, FakeGitHost, World

URL = "https://github.com/acme/app"
REPO = RepoRef(GITHUB, "acme/app", URL)
BASE_SHA, HEAD, NEWER = "a" * 40, "b" * 40, "c" * 40
NUMBER = 5
RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: r{i}
spec:
  chart:
    spec:
      chart: podinfo
      version: "6.5.{i}"
      sourceRef:
        kind: HelmRepository
        name: charts{i}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts{i}
spec:
  url: https://charts{i}.example.com
"""
BASE_FILES = {"sync/a.yaml": kustomization("a"), "sync/b.yaml": kustomization("b"), "docs/x.yaml": "a: 1\n"}
#: a cycle the pull request adds
CYCLE = {"sync/a.yaml": kustomization("a", "b"), "sync/b.yaml": kustomization("b", "a")}


class Host(FakeGitHost):
    """GitHub with commit statuses, noting every status and every path read."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[tuple[str, CommitStatus]] = []
        self.read: list[tuple[str, str]] = []
        self.heads: list[str] = []  # successive answers for the PR's head (the last one stays)

    def set_commit_status(self, repo: RepoRef, sha: str, status: CommitStatus) -> None:
        self.statuses.append((sha, status))

    def read_files(self, repo: RepoRef, ref: str, path: str) -> dict[str, str]:
        self.read.append((ref, path))
        return super().read_files(repo, ref, path)

    def pull_request(self, repo: RepoRef, number: int) -> PullRequestInfo:
        found = super().pull_request(repo, number)
        if self.heads:
            found = replace(found, head_sha=self.heads.pop(0) if len(self.heads) > 1 else self.heads[0])
        return found

    def publish_check_run(self, repo: RepoRef, sha: str, run: CheckRun, run_id: str | None = None) -> str | None:
        return None


class Charts:
    """bot.ports.ChartIndexes noting the URLs asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def read(self, url: str) -> ChartIndex:
        self.asked.append(url)
        return ChartIndex(url, {"podinfo": ("6.5.0",)})


def world(clusters: int = 1, **pull: Any) -> tuple[World, Host]:
    host = Host()
    more = [
        Cluster(ClusterRef(CLUSTER.ref.subscription_id, "fleet-rg", ClusterType.MANAGED, f"aks-{i}"), "westeurope")
        for i in range(clusters - 1)
    ]
    w = World(git=host, more_clusters=more)
    spec = FluxConfigSpec(
        name="apps",
        source=GitSource(url=URL, ref=RepositoryRef(branch="main")),
        namespace="cluster-config",
        kustomizations=(Kustomization(name="sync", path="./sync"),),
    )
    for cluster in [CLUSTER, *more]:
        w.flux.seed(cluster.ref, spec)
    host.files = {"main": dict(BASE_FILES), HEAD: {**BASE_FILES, **CYCLE}}
    host.pulls[NUMBER] = PullRequestInfo(NUMBER, "open", HEAD, "feature", "main", "alice", False)
    host.pulls[NUMBER] = replace(host.pulls[NUMBER], **pull)
    return w, host


def run(w: World, charts: Charts | None = None) -> Phase:
    event = PullRequestEvent(REPO, NUMBER, "synchronize", HEAD, "feature", "main", "alice")
    record = JobRecord("j-1", "", GITHUB, "alice", channel="acme/app#5", kind="preflight", event=event.to_json())
    ports = w.ports()
    ports.git.charts = charts  # type: ignore[assignment]
    return run_preflight(record, ports)


def contexts(host: Host) -> list[tuple[str, str, str]]:
    return [(sha[:1], s.context, s.state.value) for sha, s in host.statuses]


def test_a_pull_request_gets_its_findings_and_only_the_scope_is_read() -> None:
    w, host = world()
    assert run(w) is Phase.SUCCEEDED
    assert contexts(host) == [
        ("b", "fluxops/preflight", "pending"),
        ("b", "fluxops/preflight/apps", "failure"),
        ("b", "fluxops/preflight", "failure"),
    ]
    [comment] = host.said(NUMBER)
    assert "flux-demo-arc" in comment and "dependsOn cycle" in comment
    assert host.read == [(HEAD, "sync"), ("main", "sync")], "the whole repository is not read"


def test_a_fork_gets_counts_only_and_no_chart_index_is_read() -> None:
    w, host = world(from_fork=True)
    host.files[HEAD]["sync/release.yaml"] = RELEASE.format(i=1)
    charts = Charts()
    assert run(w, charts) is Phase.SUCCEEDED
    assert host.said(NUMBER) == [], "a comment would name the clusters and configurations"
    assert charts.asked == [], "the fork chooses the URLs"
    assert [s.context for _, s in host.statuses] == ["fluxops/preflight", "fluxops/preflight"]
    final = host.statuses[-1][1]
    assert (final.state.value, final.description) == (
        "failure",
        "1 problem found for 1 cluster (details are not shown on pull requests from forks)",
    )


def test_a_head_that_moved_during_the_check_drops_the_result() -> None:
    w, host = world()
    host.heads = [HEAD, NEWER]  # the PR is pushed again while the job reads its files
    assert run(w) is Phase.SUCCEEDED
    assert host.said(NUMBER) == []
    assert [(sha[:1], s.state.value) for sha, s in host.statuses] == [("b", "pending"), ("b", "error")]
    assert host.statuses[-1][1].description == f"not checked: the pull request moved on to {NEWER[:7]}"
    assert w.jobs.get("preflight-github-acme/app#5", "checked") is None


def test_one_preflight_of_a_pull_request_at_a_time() -> None:
    w, host = world()
    w.locks.take("preflight/preflight-github-acme/app#5", "j-0")
    with pytest.raises(errors.Busy):
        run(w)
    assert host.statuses == []


def test_a_tree_past_a_cap_is_an_error_status_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    w, host = world()
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 1024)
    host.files[HEAD]["sync/big.yaml"] = "a: " + "x" * 2000 + "\n"
    assert run(w) is Phase.SUCCEEDED
    assert contexts(host) == [("b", "fluxops/preflight", "pending"), ("b", "fluxops/preflight", "error")]
    assert host.statuses[-1][1].description == "not checked: sync/big.yaml is larger than 1 KiB"


def test_a_host_failing_mid_check_leaves_no_pending_status(monkeypatch: pytest.MonkeyPatch) -> None:
    w, host = world()

    def down(repo: RepoRef, ref: str, path: str) -> dict[str, str]:
        raise errors.ServiceUnavailable("reading sync at main in acme/app: GitHub answered 503")

    monkeypatch.setattr(host, "read_files", down)
    with pytest.raises(errors.ServiceUnavailable):
        run(w)
    assert contexts(host)[-1] == ("b", "fluxops/preflight", "error")


def test_clusters_with_the_same_subject_are_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    w, _ = world(clusters=4)
    calls: list[object] = []
    real = job.preflight

    def counting(*args: Any) -> Any:
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(job, "preflight", counting)
    assert run(w) is Phase.SUCCEEDED
    assert len(calls) == 1


def test_at_most_a_few_chart_indexes_are_read_a_note_for_the_rest() -> None:
    w, host = world()
    releases = [RELEASE.format(i=i) for i in range(MAX_INDEXES + 2)]
    host.files[HEAD]["sync/releases.yaml"] = "---\n".join(releases)
    charts = Charts()
    assert run(w, charts) is Phase.SUCCEEDED
    assert len(charts.asked) == MAX_INDEXES
    [comment] = host.said(NUMBER)
    assert comment.count(f"a preflight reads at most {MAX_INDEXES} Helm repository indexes") == 2
