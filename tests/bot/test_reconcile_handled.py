"""When a reconcile request counts as handled: as ``flux reconcile`` decides it, not only on the exact value."""

from __future__ import annotations

import pytest

from bot.cluster_objects import FluxObject, ObjectRef, rfc3339_instant

REF = ObjectRef("GitRepository", "apps", "default")
OURS = "2025-06-15T15:06:40.5Z"


def handled_at(value: str | None) -> FluxObject:
    return FluxObject(REF, last_handled_reconcile_at=value)


@pytest.mark.parametrize(
    "value",
    [
        OURS,  # the value asked with: the fast path
        "2025-06-15T15:06:40.500000000Z",  # the same instant, other fraction digits
        "2025-06-15T17:06:40.5+02:00",  # the same instant, an offset
        "2025-06-15T15:06:41Z",  # someone asked again later: the controller handled theirs
        "2025-06-15T15:06:40.500000001Z",  # nanoseconds later (read at microseconds: the same)
        "2025-06-15t15:07:00z",  # lower case, as RFC 3339 allows
    ],
)
def test_a_value_at_or_after_ours_is_handled(value: str) -> None:
    assert handled_at(value).handled(OURS)


@pytest.mark.parametrize(
    "value",
    [None, "2025-06-15T15:06:40.4Z", "2025-06-15T16:06:40.5+02:00", "not-a-time", "1750000000"],
)
def test_an_earlier_value_none_or_not_a_time_is_not(value: str | None) -> None:
    assert not handled_at(value).handled(OURS)


def test_a_value_other_than_the_one_read_before_asking_is_handled_whatever_its_time() -> None:
    # someone asked with an earlier clock (or not a time) after we did: the controller has reconciled since
    assert handled_at("2025-06-15T15:00:00Z").handled(OURS, before="2025-06-15T14:00:00Z")
    assert handled_at("whenever").handled(OURS, before="")  # none before
    assert not handled_at("2025-06-15T14:00:00Z").handled(OURS, before="2025-06-15T14:00:00Z")
    assert not handled_at(None).handled(OURS, before="")


def test_rfc3339_instant_reads_zone_less_times_as_utc() -> None:
    assert rfc3339_instant("2025-06-15T15:06:40") == rfc3339_instant("2025-06-15T15:06:40Z")
    assert rfc3339_instant("nope") is None
