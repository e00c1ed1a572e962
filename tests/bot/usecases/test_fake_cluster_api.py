"""The fake cluster API compares ``since`` as times, as the Kubernetes API does, not as strings."""

from __future__ import annotations

import pytest

from bot.cluster_objects import FluxEvent, ObjectRef
from bot.models import ClusterRef, ClusterType
from tests.bot.usecases.fake_cluster_api import FakeClusterApi

CLUSTER = ClusterRef("sub", "rg", ClusterType.CONNECTED, "arc")
REF = ObjectRef("Kustomization", "apps", "flux-system")


def event(last_seen: str) -> FluxEvent:
    return FluxEvent(involved=REF, type="Warning", reason="BuildFailed", message="x", last_seen=last_seen)


def test_since_is_compared_as_a_time() -> None:
    api = FakeClusterApi(events_by_cluster={CLUSTER.arm_id.lower(): [event("2024-01-01T00:30:00Z")]})
    # 01:00+01:00 is 00:00Z: the event half an hour later is new, although its text sorts before
    assert api.events(CLUSTER, since="2024-01-01T01:00:00+01:00") == [event("2024-01-01T00:30:00Z")]
    assert api.events(CLUSTER, since="2024-01-01T00:31:00Z") == []
    with pytest.raises(ValueError, match="no zone"):
        api.events(CLUSTER, since="2024-01-01T00:00:00")
