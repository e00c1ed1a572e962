"""The doctor's pure checks: stuck configurations by sync intervals, the N-2 window, operator parameters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.doctor_checks import STUCK_INTERVALS, configurations
from bot.extension_versions import is_supported, newest_first, supported, version_key
from bot.models import ClusterRef, ClusterType, Condition, FluxConfigState, ObjectStatus
from bot.views import Severity
from tests.bot.usecases.fakes import TUTORIAL_SPEC

REF = ClusterRef("sub", "rg", ClusterType.CONNECTED, "arc")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()


def _iso(minutes_ago: float) -> str:
    return datetime.fromtimestamp(NOW - minutes_ago * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def non_compliant(minutes_ago: float) -> FluxConfigState:
    failing = ObjectStatus(
        "cluster-config-apps",
        "cluster-config",
        "Kustomization",
        "Non-Compliant",
        (Condition("Ready", "False", "BuildFailed", "kustomization path not found", _iso(minutes_ago)),),
    )
    return FluxConfigState(REF, TUTORIAL_SPEC, "GitRepository", "Succeeded", "Non-Compliant", statuses=(failing,))


def test_non_compliant_for_longer_than_three_sync_intervals_is_stuck() -> None:
    interval_minutes = TUTORIAL_SPEC.source.sync_interval_seconds // 60
    stuck = configurations([non_compliant(STUCK_INTERVALS * interval_minutes + 5)], "arc", NOW)
    assert [f.severity for f in stuck] == [Severity.ERROR]
    assert stuck[0].text == (
        "configuration 'cluster-config' has been Non-Compliant for 35 min (Kustomization cluster-config-apps), "
        "more than 3 sync intervals of 10 min: retrying will not fix it"
    )
    assert stuck[0].fix == "/flux config show cluster-config -c arc"

    recent = configurations([non_compliant(5)], "arc", NOW)
    assert [f.severity for f in recent] == [Severity.WARNING]
    assert "Flux retries" in recent[0].text


def test_without_transition_times_azures_last_report_counts() -> None:
    state = replace(non_compliant(0), statuses=(), status_updated_at=_iso(60))
    assert [f.severity for f in configurations([state], "arc", NOW)] == [Severity.ERROR]


def test_failed_suspended_and_fine_configurations() -> None:
    failed = replace(non_compliant(0), provisioning_state="Failed", error_message="GitRepository is invalid")
    suspended = replace(non_compliant(0), compliance_state="Suspended", spec=replace(TUTORIAL_SPEC, name="paused"))
    fine = replace(non_compliant(0), compliance_state="Compliant", spec=replace(TUTORIAL_SPEC, name="apps"))
    found = configurations([failed, suspended, fine], "arc", NOW)
    assert [(f.severity, f.fix) for f in found] == [
        (Severity.ERROR, "/flux config show cluster-config -c arc"),
        (Severity.INFO, "/flux resume paused -c arc"),
        (Severity.OK, ""),
    ]
    assert "Failed: GitRepository is invalid" in found[0].text


@pytest.mark.parametrize(
    ("released", "window"),
    [
        (["1.13.4", "1.14.3", "1.15.1", "1.16.2", "1.17.3"], ["1.17.3", "1.16.2", "1.15.1"]),
        (["1.9.0", "1.10.1", "1.10.0", "1.11.2", "1.8.5"], ["1.11.2", "1.10.1", "1.9.0"]),
        (["1.17.3"], ["1.17.3"]),
    ],
)
def test_the_supported_window_is_the_newest_and_two_minors_before(released: list[str], window: list[str]) -> None:
    assert supported(released) == window
    assert newest_first(released)[0] == window[0]


def test_versions_compare_as_numbers() -> None:
    assert version_key("1.10.0") > version_key("1.9.10")
    assert is_supported("1.15.0", ["1.17.3", "1.16.2", "1.15.1", "1.14.3"])  # an older patch of a supported minor
    assert not is_supported("1.14.3", ["1.17.3", "1.16.2", "1.15.1", "1.14.3"])
    assert not is_supported("nightly", ["1.17.3"])
