"""Every webhook example GitHub publishes, signed, through the real app into a real redis-server: all get 2xx.

GitHub marks a delivery failed when the receiver answers anything else, and a GitHub App installed on an
organization receives events with no repository at all (``projects_v2_item``, ``organization``,
``installation``, ``sponsorship``...). An event fluxops does not act on is acknowledged and ignored, whatever
its shape, and starts nothing; the events it does act on either start jobs or say why they start none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from handlers.github import EVENTS as ACTED_ON
from tests import github_examples as published
from tests.handlers.test_github_webhook import Hooks, clean_environment, encode, github_headers, start_hooks

#: event name -> [(host folder, payload)]: github.com's examples and every GitHub Enterprise Server release's
EXAMPLES: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
for _host, _event, _payload in published.every_example():
    EXAMPLES[_event].append((_host, _payload))


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture
async def hooks(aiohttp_client: Any, redis_server: str, tmp_path: Path) -> AsyncIterator[Hooks]:
    async for started in start_hooks(aiohttp_client, redis_server, tmp_path):
        yield started


def test_the_examples_include_organization_level_events():
    """What the test below must cover to mean anything: events delivered to an organization's App."""
    without_repository = {event for event, found in EXAMPLES.items() if any("repository" not in p for _, p in found)}
    assert {"projects_v2_item", "organization", "installation", "membership", "sponsorship"} <= without_repository
    assert {"push", "pull_request", "issue_comment", "pull_request_review"} <= set(EXAMPLES)
    assert sum(len(found) for found in EXAMPLES.values()) >= 700 and len(EXAMPLES) >= 60


@pytest.mark.parametrize("event", sorted(EXAMPLES))
async def test_every_published_example_is_answered_2xx(hooks: Hooks, event: str):
    for host, payload in EXAMPLES[event]:
        jobs_before = hooks.job_ids()
        response = await hooks.github(event, payload)
        text = await response.text()
        where = f"{host} {event} {payload.get('action', '')}".strip()
        assert 200 <= response.status < 300, f"{where}: {response.status} {text}"
        answer = await response.json()
        if event == "ping":
            assert answer["pong"] is True
        elif event not in ACTED_ON:
            assert answer == {"ignored": f"fluxops does not act on {event} events"}, where
        if "ignored" in answer or event == "ping":
            assert hooks.job_ids() == jobs_before, f"{where} was ignored but left a job"
        else:
            assert answer["job"] in hooks.job_ids(), where
    if event not in ACTED_ON:
        hooks.assert_nothing_enqueued()


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b"[1, 2]", b'{"projects_v2_item": {"id": "x"}}', b""],
    ids=["text", "array", "obj", "empty"],
)
async def test_an_event_fluxops_does_not_act_on_is_ignored_whatever_its_body(hooks: Hooks, body: bytes):
    headers = {**github_headers("projects_v2_item", body), "Content-Type": "text/plain"}
    response = await hooks.client.post("/webhooks/github", data=body, headers=headers)
    assert response.status == 202
    assert await response.json() == {"ignored": "fluxops does not act on projects_v2_item events"}
    hooks.assert_nothing_enqueued()


async def test_an_ignored_event_is_still_verified_first(hooks: Hooks):
    payload = published.example("projects_v2_item")
    body = encode(payload)
    forged = {**github_headers("projects_v2_item", body), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    response = await hooks.client.post("/webhooks/github", data=body, headers=forged)
    assert response.status == 401
    assert "does not match" in (await response.json())["error"]
    hooks.assert_nothing_enqueued()
