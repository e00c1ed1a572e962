"""Reading what Flux reports during a rotation: did the source fetch after a switch (``fetched_since``), and
does it still fetch a while after a revoke (``still_fetching``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.models import Condition, FluxConfigState, GitSource, ObjectStatus, RepositoryRef
from bot.usecases.key_switching import FETCHED, NOT_YET, Fetch, fetched_since, still_fetching
from tests.bot.usecases.fakes import CLUSTER, TUTORIAL_SPEC

SINCE = "2025-06-15T15:00:00Z"
BEFORE, EQUAL, AFTER = "2025-06-15T14:59:59Z", "2025-06-15T15:00:00+00:00", "2025-06-15T15:00:01Z"
SPEC = replace(
    TUTORIAL_SPEC,
    name="apps",
    source=GitSource(url="ssh://git@github.com/org/repo", ref=RepositoryRef(branch="main"), sync_interval_seconds=60),
)


def source(status: str, changed: str | None, message: str = "", *, name: str = "apps") -> ObjectStatus:
    return ObjectStatus(
        name=name,
        namespace="default",
        kind="GitRepository",
        compliance_state=None,
        conditions=(Condition("Ready", status, "Reason", message, changed),),
    )


def state(
    *objects: ObjectStatus, provisioning: str | None = "Succeeded", reported: str | None = None, error: str = ""
) -> FluxConfigState:
    return FluxConfigState(
        cluster=CLUSTER.ref,
        spec=SPEC,
        source_kind="GitRepository",
        provisioning_state=provisioning,
        compliance_state=None,
        status_updated_at=reported,
        error_message=error or None,
        statuses=objects,
    )


def verdict(expected: bool | str | None) -> Fetch:
    """The table's shorthand: True fetched, a str the failure Flux reports, None or False nothing yet."""
    if isinstance(expected, str):
        return Fetch(failure=expected)
    return FETCHED if expected else NOT_YET


@pytest.mark.parametrize(
    ("given", "since", "expected"),
    [
        pytest.param(state(), SINCE, None, id="no-source-status-yet"),
        pytest.param(
            state(ObjectStatus("apps", "default", "GitRepository", None)), SINCE, None, id="no-ready-condition"
        ),
        pytest.param(state(source("True", AFTER)), SINCE, True, id="ready-after"),
        pytest.param(state(source("True", EQUAL)), SINCE, None, id="ready-at-the-same-second"),
        pytest.param(state(source("True", BEFORE)), SINCE, None, id="ready-before"),
        pytest.param(state(source("True", None)), SINCE, None, id="ready-without-a-time"),
        pytest.param(state(source("Unknown", AFTER)), SINCE, None, id="still-progressing"),
        pytest.param(
            state(source("False", AFTER, "ssh: handshake failed")), SINCE, "ssh: handshake failed", id="failed"
        ),
        pytest.param(state(source("False", BEFORE, "ssh: handshake failed")), SINCE, None, id="failed-before"),
        pytest.param(state(source("True", BEFORE)), "", True, id="nothing-reported-before-the-switch"),
        pytest.param(state(source("True", AFTER)), "not a time", True, id="unreadable-since"),
        pytest.param(state(source("True", AFTER), provisioning="Updating"), SINCE, None, id="provisioning"),
        pytest.param(
            state(source("True", AFTER), provisioning="Failed", error="agent unreachable"),
            SINCE,
            "Azure reports provisioning Failed: agent unreachable",
            id="provisioning-failed",
        ),
        pytest.param(
            state(provisioning="Canceled"), SINCE, "Azure reports provisioning Canceled: no message", id="canceled"
        ),
        pytest.param(
            state(source("False", AFTER, name="other"), source("True", AFTER)), SINCE, True, id="its-own-source-first"
        ),
        pytest.param(state(source("True", AFTER, name="other")), SINCE, True, id="any-git-source-otherwise"),
    ],
)
def test_fetched_since(given: FluxConfigState, since: str, expected: bool | str | None) -> None:
    assert fetched_since(given, since) == verdict(expected)


def test_a_failed_fetch_without_a_message_says_which_object_failed() -> None:
    given = state(source("False", AFTER, ""))

    failure = fetched_since(given, SINCE).failure
    assert failure.startswith("GitRepository apps")


#: a recheck waits 1.5 sync intervals (60 s here) of reports after ``SINCE``
AT_90 = "2025-06-15T15:01:30Z"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(state(reported=AT_90), False, id="no-source-status"),
        pytest.param(state(source("True", BEFORE), reported=AT_90), True, id="ready-for-an-interval-and-a-half"),
        pytest.param(state(source("True", BEFORE), reported="2025-06-15T15:01:29Z"), False, id="interval-not-elapsed"),
        pytest.param(state(source("True", BEFORE), reported=None), False, id="no-report-time"),
        pytest.param(state(source("Unknown", AFTER), reported=AT_90), False, id="progressing"),
        pytest.param(state(source("False", AFTER, "ssh: no key"), reported=AT_90), "ssh: no key", id="failed-after"),
        pytest.param(state(source("False", EQUAL, "ssh: no key"), reported=AT_90), False, id="failed-at-the-revoke"),
        pytest.param(state(source("False", AFTER, ""), reported=AT_90), "the source is not ready", id="no-message"),
    ],
)
def test_still_fetching(given: FluxConfigState, expected: bool | str) -> None:
    assert still_fetching(given, SINCE, 1.5) == verdict(expected)


def test_still_fetching_without_a_start_time_keeps_waiting() -> None:
    assert still_fetching(state(source("True", BEFORE), reported=AT_90), "", 1.5) == NOT_YET


def test_still_fetching_reads_the_interval_of_the_source() -> None:
    given = state(source("True", BEFORE), reported=AT_90)
    slow = replace(given, spec=replace(SPEC, source=replace(SPEC.source, sync_interval_seconds=600)))

    assert still_fetching(slow, SINCE, 1.5) == NOT_YET
    assert still_fetching(replace(slow, status_updated_at="2025-06-15T15:15:00Z"), SINCE, 1.5) == FETCHED
