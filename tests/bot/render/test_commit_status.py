"""The description of one configuration's commit status across many clusters (bot.render.commit_status)."""

from __future__ import annotations

import pytest

from bot.git_host import STATUS_DESCRIPTION_LIMIT, StatusState
from bot.render.commit_status import configuration_status, naming, target_description
from bot.views import TraceRow, TraceState

A, F, E, P = TraceState.APPLIED, TraceState.FAILED, TraceState.ERROR, TraceState.PENDING


def rows(*spans: tuple[TraceState, int], detail: str = "") -> list[TraceRow]:
    found: list[TraceRow] = []
    for state, count in spans:
        found += [TraceRow(f"fleet-{len(found) + i:04d}", "apps", state, detail) for i in range(count)]
    return found


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        (((P, 1000),), (StatusState.PENDING, "applied on 0/1,000 clusters")),
        (((A, 412), (P, 588)), (StatusState.PENDING, "applied on 412/1,000 clusters")),
        (((A, 400), (F, 12), (P, 588)), (StatusState.PENDING, "applied on 400/1,000 clusters, 12 failed")),
        (((A, 400), (E, 2), (P, 598)), (StatusState.PENDING, "applied on 400/1,000 clusters, 2 with errors")),
        (((A, 1000),), (StatusState.SUCCESS, "applied on 1,000/1,000 clusters")),
        (((A, 997), (F, 3)), (StatusState.FAILURE, "failed on 3 of 1,000: fleet-0997, fleet-0998, fleet-0999")),
        (((F, 1), (E, 1), (A, 5)), (StatusState.FAILURE, "failed on 1 of 7 (1 more with errors): fleet-0000")),
        (((E, 2), (A, 5)), (StatusState.ERROR, "error on 2 of 7: fleet-0000, fleet-0001")),
    ],
)
def test_the_state_and_the_counts(spans: tuple[tuple[TraceState, int], ...], expected: tuple[StatusState, str]) -> None:
    assert configuration_status(rows(*spans)) == expected


def test_timeouts_say_so_and_name_as_many_clusters_as_fit() -> None:
    state, text = configuration_status(rows((E, 600), (A, 400), detail="timed out after 10 min; applying"))

    assert state is StatusState.ERROR
    assert text.startswith("timed out on 600 of 1,000: fleet-0000, fleet-0001, ")
    assert text.endswith(", …") and len(text) <= STATUS_DESCRIPTION_LIMIT


def test_naming() -> None:
    assert naming("failed on 1 of 9", ["a"]) == "failed on 1 of 9: a"
    assert naming("head", ["abc", "def", "ghi"], limit=16) == "head: abc, …"
    assert naming("head", ["a-very-long-cluster-name"], limit=16) == "head"
    assert naming("head", []) == "head"


def test_a_failed_target_describes_the_newest_warning_within_the_limit() -> None:
    why = "Kustomization apps-apps: BuildFailed: kustomize build failed: " + "accumulating resources " * 20
    row = TraceRow("aks-01", "apps", F, "Kustomization apps-apps: kustomize build failed", why=why)

    text = target_description(row)

    assert text.startswith("Kustomization apps-apps: BuildFailed: kustomize build failed: accumulating resources")
    assert len(text) == STATUS_DESCRIPTION_LIMIT and text.endswith("…")


def test_a_target_without_events_describes_what_arm_reports() -> None:
    assert target_description(TraceRow("aks-01", "apps", F, "Kustomization apps-apps: path not found")) == (
        "Kustomization apps-apps: path not found"
    )
    applied = TraceRow("aks-01", "apps", A, "applied 4f1bdad4d0a5", why="stale: not shown")
    assert target_description(applied) == "applied 4f1bdad4d0a5"
