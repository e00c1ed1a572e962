"""The doctor's pure checks: stuck configurations by sync intervals, the N-2 window, operator parameters."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot import doctor_checks
from bot.cluster_objects import Workload
from bot.commands import Run
from bot.doctor_checks import STUCK_INTERVALS, configurations
from bot.extension_versions import installable, is_prerelease, is_supported, newest_first, supported, version_key
from bot.grammar import parse
from bot.models import (
    ClusterRef,
    ClusterType,
    Condition,
    ExtensionState,
    FluxConfigState,
    GitSource,
    ObjectStatus,
    OciSource,
    RepositoryRef,
    V1Config,
    arm_time,
)
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
    [found] = configurations([state], "arc", NOW)
    assert found.severity is Severity.ERROR
    # when Azure last heard from the agent is not when the failure started: said as what it is
    assert found.text == (
        "configuration 'cluster-config': Azure last heard from the agent 60 min ago, still Non-Compliant, more than "
        "3 sync intervals of 10 min: retrying will not fix it"
    )


def test_a_zone_less_azure_time_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        zone_less = replace(non_compliant(0), statuses=(), status_updated_at=_iso(60).removesuffix("Z"))
        [found] = configurations([zone_less], "arc", NOW)  # read as local time it would be 5 h off
        assert "last heard from the agent 60 min ago" in found.text
        assert arm_time("2026-12-03T12:00:00") == datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    finally:
        monkeypatch.undo()  # the zone the process had, before tzset reads it again
        time.tzset()


LABEL = "arc"
AZURE_SOURCE = replace(
    TUTORIAL_SPEC,
    source=GitSource(url="https://dev.azure.com/org/p/_git/r", ref=RepositoryRef(branch="main"), provider="Azure"),
)


def flux_extension(*settings: tuple[str, str], version: str = "1.17.3", train: str = "Stable") -> ExtensionState:
    return ExtensionState(REF, "flux", "microsoft.flux", "Succeeded", None, version, False, train, settings)


def every_fix() -> list[str]:
    """The fix of every finding the checks can make with a fix, from inputs that reach each of them."""
    failed = replace(flux_extension(), provisioning_state="Failed", error="boom")
    v1 = V1Config(REF, "old", "git@github.com:org/repo", "flux", "cluster", "Compliant")
    azure = replace(non_compliant(0), spec=AZURE_SOURCE)
    findings = [
        *doctor_checks.providers({p: "NotRegistered" for p in doctor_checks.PROVIDERS}, "sub"),
        *doctor_checks.extension(None, ["1.17.3"], [], LABEL),
        *doctor_checks.extension(None, ["1.17.3"], [v1], LABEL),
        *doctor_checks.extension(failed, ["1.17.3", "1.18.0-preview"], [], LABEL),
        *doctor_checks.extension(replace(failed, current_version="1.10.0"), [], [], LABEL),
        *doctor_checks.version(flux_extension(version="1.10.0"), ["1.17.3", "1.16.0", "1.15.0"], LABEL),
        *doctor_checks.version(flux_extension(version="1.16.0"), ["1.17.3", "1.16.0", "1.15.0"], LABEL),
        *doctor_checks.version(replace(flux_extension(), current_version=None), ["1.17.3"], LABEL),
        *doctor_checks.v1_leftovers([v1], LABEL),
        *configurations(
            [
                non_compliant(100),
                replace(non_compliant(0), provisioning_state="Failed"),
                replace(non_compliant(0), compliance_state="Suspended"),
            ],
            LABEL,
            NOW,
        ),
        *doctor_checks.identity(flux_extension(("workloadIdentity.enable", "true")), [azure], REF, LABEL),
        *doctor_checks.identity(flux_extension(), [azure], REF, LABEL),
        *doctor_checks.identity(flux_extension(), [azure], replace(REF, cluster_type=ClusterType.MANAGED), LABEL),
        *doctor_checks.controllers([], flux_extension(), LABEL),
        *doctor_checks.crds([], flux_extension(), LABEL),
        *doctor_checks.v1_operators(
            [Workload("flux", "flux", 1, 1, "docker.io/fluxcd/flux:1.25.4", (("instanceName", "flux"),))], [], LABEL
        ),
    ]
    return [f.fix for f in findings if f.fix]


def test_every_fix_the_doctor_shows_parses_as_shown() -> None:
    fixes = every_fix()
    assert any("workloadIdentity.azureClientId=00000000-0000-0000-0000-000000000000" in f for f in fixes)
    commands = [f for f in fixes if f.startswith("/flux ")]
    assert len(commands) >= 12
    for fix in commands:
        assert isinstance(parse(fix), Run), (fix, parse(fix))
    # the others are az or kubectl commands, never a /flux command written without its prefix
    assert all(f.startswith(("az ", "kubectl ")) for f in fixes if f not in commands), fixes


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


def test_a_pre_release_sorts_below_its_release() -> None:
    versions = ["1.17.0", "1.17.0-preview", "1.16.2", "1.17.0-rc.1", "1.17.0-rc.10", "1.17.0-rc.2", "1.17.1+build.5"]
    assert newest_first(versions) == [
        "1.17.1+build.5",
        "1.17.0",
        "1.17.0-rc.10",  # numeric identifiers compare as numbers
        "1.17.0-rc.2",
        "1.17.0-rc.1",
        "1.17.0-preview",
        "1.16.2",
    ]
    assert is_prerelease("1.18.0-preview") and not is_prerelease("1.17.1+build-5")


def test_pre_releases_count_only_on_the_preview_train() -> None:
    released = ["1.18.0-preview", "1.17.3", "1.16.2", "1.15.1", "1.14.0"]
    assert installable(released, "Stable") == ["1.17.3", "1.16.2", "1.15.1", "1.14.0"]
    assert supported(installable(released, "stable")) == ["1.17.3", "1.16.2", "1.15.1"]
    assert installable(released, "Preview")[0] == "1.18.0-preview"
    assert installable(["1.18.0-preview"], "Stable") == ["1.18.0-preview"]  # all there is


def test_the_doctor_never_offers_a_pre_release_on_the_stable_train() -> None:
    released = ["1.18.0-preview", "1.17.3", "1.16.2", "1.15.1"]
    found = doctor_checks.version(flux_extension(version="1.17.3"), released, LABEL)
    assert found[0].text == "microsoft.flux 1.17.3 is the newest on the Stable train"
    old = doctor_checks.version(flux_extension(version="1.15.0"), released, LABEL)
    assert old[0].text == "microsoft.flux 1.15.0 is supported (N-2: 1.17.3, 1.16.2, 1.15.1); the newest is 1.17.3"


def test_an_oci_source_with_the_clusters_workload_identity_needs_it_set_up() -> None:
    oci = OciSource(url="oci://contoso.azurecr.io/manifests", tag="v1")
    plain = replace(non_compliant(0), spec=replace(TUTORIAL_SPEC, source=oci))
    assert doctor_checks.identity(flux_extension(), [plain], REF, LABEL) == []
    azure = replace(plain, spec=replace(TUTORIAL_SPEC, source=replace(oci, use_workload_identity=True)))
    (finding,) = doctor_checks.identity(flux_extension(), [azure], REF, LABEL)
    assert finding.severity is not Severity.OK and "cluster-config" in finding.text
