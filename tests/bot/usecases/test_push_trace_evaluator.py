"""How far a configuration got with a pushed commit, decided from what ARM reports (no I/O)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.gitevents import PushEvent, RepoRef
from bot.models import ClusterRef, ClusterType, Condition, FluxConfigState, ObjectStatus
from bot.usecases.push_trace import Evaluator, Target, synced_sha, tracks
from bot.views import TraceState
from tests.bot.usecases.fakes import TUTORIAL_SPEC

OLD = "a" * 40
NEW = "b" * 40
LATER = "c" * 40
REPO = RepoRef(
    "github", "Azure/gitops-flux2-kustomize-helm-mt", "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
)
EVENT = PushEvent(repo=REPO, branch="main", after=NEW, before=OLD, pusher="alice")
REF = ClusterRef("sub", "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc")
TARGET = Target(REF.arm_id, "demo-arc", "cluster-config")


class Host:
    """Only is_ancestor is asked for; NEW is an ancestor of LATER."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def is_ancestor(self, repo: RepoRef, ancestor: str, descendant: str) -> bool:
        self.asked.append((ancestor, descendant))
        return ancestor == NEW and descendant == LATER


def obj(kind: str, name: str, status: str, message: str, since: str = "2026-11-21T10:00:05Z") -> ObjectStatus:
    compliance = {"True": "Compliant", "False": "Non-Compliant"}.get(status, "Pending")
    return ObjectStatus(
        name=name,
        namespace="cluster-config",
        kind=kind,
        compliance_state=compliance,
        conditions=(Condition("Ready", status, "r", message, since),),
    )


def state(
    sha: str,
    *,
    infra: tuple[str, str] = ("True", ""),
    apps: tuple[str, str] = ("True", ""),
    source: tuple[str, str] = ("True", ""),
    compliance: str = "Compliant",
    provisioning: str = "Succeeded",
    updated: str = "2026-11-21T10:00:00Z",
) -> FluxConfigState:
    applied = f"Applied revision: main/{sha}"
    return FluxConfigState(
        cluster=REF,
        spec=TUTORIAL_SPEC,
        source_kind="GitRepository",
        provisioning_state=provisioning,
        compliance_state=compliance,
        source_synced_commit=f"main/{sha}",
        source_updated_at=updated,
        statuses=(
            obj("GitRepository", "cluster-config", source[0], source[1] or f"Fetched revision: main/{sha}"),
            obj("Kustomization", "cluster-config-infra", infra[0], infra[1] or applied),
            obj("Kustomization", "cluster-config-apps", apps[0], apps[1] or applied),
        ),
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def evaluate(s: FluxConfigState, clock: Clock | None = None, host: Host | None = None) -> tuple[TraceState, str]:
    evaluator = Evaluator(EVENT, host or Host(), settle=6.0, clock=clock or Clock())
    row = evaluator.row(TARGET, s)
    return row.state, row.detail


def test_the_old_commit_is_still_synced() -> None:
    assert evaluate(state(OLD)) == (TraceState.PENDING, f"at {OLD[:12]}; waiting for {NEW[:12]}")


def test_synced_but_kustomizations_still_show_the_old_revision() -> None:
    old_applied = f"Applied revision: main/{OLD}"
    s = state(NEW, infra=("True", old_applied), apps=("True", old_applied))
    assert evaluate(s) == (TraceState.PENDING, f"synced {NEW[:12]}; applying")


def test_every_kustomization_applied_the_pushed_commit() -> None:
    assert evaluate(state(NEW)) == (TraceState.APPLIED, f"applied {NEW[:12]}")


def test_a_later_commit_counts_when_it_contains_the_pushed_one() -> None:
    host = Host()
    assert evaluate(state(LATER), host=host) == (TraceState.APPLIED, f"applied {LATER[:12]} (a later commit)")
    assert host.asked == [(NEW, LATER)]


def test_a_kustomization_failing_since_the_commit_arrived_fails_it() -> None:
    s = state(NEW, apps=("False", "kustomization path not found: ./apps/nope"), compliance="Non-Compliant")
    assert evaluate(s) == (
        TraceState.FAILED,
        "Kustomization cluster-config-apps: kustomization path not found: ./apps/nope",
    )


def test_an_older_failure_waits_for_the_settle_time(clock: Clock) -> None:
    s = state(NEW, apps=("False", "older failure"), compliance="Non-Compliant")
    s = replace(s, source_updated_at="2026-11-21T10:00:10Z")  # arrived after the failure began
    evaluator = Evaluator(EVENT, Host(), settle=6.0, clock=clock)
    assert evaluator.row(TARGET, s).state is TraceState.PENDING
    clock.now = 6.5
    assert evaluator.row(TARGET, s).state is TraceState.FAILED


def test_a_source_that_cannot_fetch_fails_before_the_commit_arrives() -> None:
    s = state(OLD, source=("False", "failed to checkout and determine revision: auth"), compliance="Non-Compliant")
    state_, detail = evaluate(s)
    assert state_ is TraceState.FAILED
    assert detail.startswith("GitRepository cluster-config: failed to checkout")


def test_failed_provisioning_is_an_error() -> None:
    s = replace(state(OLD), provisioning_state="Failed", error_message="extension is broken")
    assert evaluate(s) == (TraceState.ERROR, "Azure reports provisioning Failed: extension is broken")


def test_synced_sha_reads_both_revision_spellings() -> None:
    assert synced_sha(replace(state(NEW), source_synced_commit=f"main@sha1:{NEW}")) == NEW
    assert synced_sha(replace(state(NEW), source_synced_commit=None)) is None


@pytest.mark.parametrize(
    ("url", "branch", "expected"),
    [
        ("https://github.com/Azure/gitops-flux2-kustomize-helm-mt", "main", True),
        ("git@github.com:azure/gitops-flux2-kustomize-helm-mt.git", "main", True),
        ("ssh://git@github.com/Azure/gitops-flux2-kustomize-helm-mt", "main", True),
        ("https://github.com/Azure/gitops-flux2-kustomize-helm-mt", "dev", False),
        ("https://github.com/Azure/other", "main", False),
    ],
)
def test_which_configurations_track_the_push(url: str, branch: str, expected: bool) -> None:
    source = replace(TUTORIAL_SPEC.source, url=url)  # type: ignore[type-var]
    spec = replace(TUTORIAL_SPEC, source=source)
    s = replace(state(NEW), spec=spec)
    key = ("github.com", "azure/gitops-flux2-kustomize-helm-mt")
    assert tracks(s, key, branch) is expected
