"""Azure DevOps service-hook events fluxops does not act on: 202 "ignored", whatever else they carry, nothing enqueued.

The event types are those of Microsoft's "Service hooks events" page (see ado_samples/README.md). Its sample
payloads, like the 2022 ones in ado_samples/, have no ``subscriptionId`` nor ``notificationId``; a
subscription's "Test" button sends such samples too. Each notification here has the envelope of the page's
samples (id, eventType, publisherId, message, resource, resourceContainers, createdDate) and nothing more.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.handlers.test_github_webhook import Hooks, clean_environment, start_hooks

#: (event type, publisher) of each documented event fluxops does not act on
DOCUMENTED = [
    ("build.complete", "tfs"),
    ("ms.vss-release.release-created-event", "rm"),
    ("ms.vss-release.release-abandoned-event", "rm"),
    ("ms.vss-release.deployment-approval-completed-event", "rm"),
    ("ms.vss-release.deployment-approval-pending-event", "rm"),
    ("ms.vss-release.deployment-completed-event", "rm"),
    ("ms.vss-release.deployment-started-event", "rm"),
    ("ms.vss-pipelines.run-state-changed-event", "pipelines"),
    ("ms.vss-pipelinechecks-events.check-updated-event", "pipelines"),
    ("tfvc.checkin", "tfs"),
    ("workitem.commented", "tfs"),
    ("workitem.created", "tfs"),
    ("workitem.deleted", "tfs"),
    ("workitem.restored", "tfs"),
    ("workitem.updated", "tfs"),
]


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture
async def hooks(aiohttp_client: Any, redis_server: str, tmp_path: Path) -> AsyncIterator[Hooks]:
    async for started in start_hooks(aiohttp_client, redis_server, tmp_path):
        yield started


def notification(event_type: str, publisher: str) -> dict[str, Any]:
    """A notification with the documented samples' envelope: no subscriptionId, no notificationId."""
    return {
        "id": str(uuid.uuid4()),
        "eventType": event_type,
        "publisherId": publisher,
        "scope": "all",
        "message": {"text": f"{event_type} happened", "html": "", "markdown": ""},
        "resource": {"id": 2, "url": "https://dev.azure.com/fabrikam-fiber-inc/DefaultCollection/_apis/x/2"},
        "resourceVersion": "1.0",
        "resourceContainers": {"collection": {"id": str(uuid.uuid4())}, "account": {"id": str(uuid.uuid4())}},
        "createdDate": "2016-09-19T13:03:26.4285528Z",
    }


@pytest.mark.parametrize(("event_type", "publisher"), DOCUMENTED, ids=[e for e, _ in DOCUMENTED])
async def test_a_documented_event_fluxops_does_not_act_on_is_acknowledged(
    hooks: Hooks, event_type: str, publisher: str
):
    response = await hooks.ado(notification(event_type, publisher))
    assert response.status == 202, await response.text()
    assert await response.json() == {"ignored": f"fluxops does not act on {event_type} events"}
    hooks.assert_nothing_enqueued()


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"resource": None}, "workitem.created"),
        ({"resource": "not an object", "notificationId": "7"}, "workitem.created"),
        ({"eventType": "custom.event\nX-Injected: 1"}, "custom.event?X-Injected??1"),
    ],
    ids=["no-resource", "odd-fields", "odd-name"],
)
async def test_ignored_whatever_its_shape(hooks: Hooks, change: dict[str, Any], shown: str):
    payload = {**notification("workitem.created", "tfs"), **change}
    response = await hooks.ado(payload)
    assert response.status == 202
    assert await response.json() == {"ignored": f"fluxops does not act on {shown} events"}
    hooks.assert_nothing_enqueued()


async def test_an_event_it_acts_on_still_needs_its_delivery_ids(hooks: Hooks):
    payload = notification("git.push", "tfs")
    response = await hooks.ado(payload)
    assert response.status == 400
    assert "subscriptionId is missing" in (await response.json())["error"]
    hooks.assert_nothing_enqueued()
