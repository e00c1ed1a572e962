"""GitHub pushes arriving together: their enqueues share Redis round trips, and each keeps its guarantees
(one job per delivery, however many copies arrive at once; a 5xx, never a lost delivery, when Redis fails)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handlers.app import create_app
from tests.handlers.test_github_webhook import clean_environment, encode, github_headers, push, settings_for
from tests.redis_server import free_port
from workers.redis_jobs import job_key


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


async def deliver(client: TestClient[Any, Any], body: bytes, delivery: str) -> tuple[int, dict[str, Any]]:
    response = await client.post("/webhooks/github", data=body, headers=github_headers("push", body, delivery=delivery))
    return response.status, await response.json()


async def test_concurrent_pushes_and_copies_start_one_job_each(aiohttp_client: Any, redis_server: str, tmp_path):
    import redis

    settings = settings_for(redis_server, tmp_path)
    view = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    view.flushdb()
    client = await aiohttp_client(create_app(settings))
    body = encode(push())
    deliveries = [str(uuid.uuid4()) for _ in range(12)]
    # every delivery three times at once (GitHub's redelivery racing the first copy)
    answers = await asyncio.gather(*(deliver(client, body, d) for d in deliveries for _ in range(3)))
    assert {status for status, _ in answers} == {202}
    by_delivery: dict[str, set[str]] = {}
    for (_, answer), delivery in zip(answers, [d for d in deliveries for _ in range(3)], strict=True):
        by_delivery.setdefault(delivery, set()).add(answer["job"])
    assert all(len(jobs) == 1 for jobs in by_delivery.values())
    jobs = {job for jobs in by_delivery.values() for job in jobs}
    assert len(jobs) == 12 and sum(not answer["duplicate"] for _, answer in answers) == 12
    assert view.llen("fluxops") == 12
    assert all(view.hget(job_key(job), "p:phase") == "queued" for job in jobs)
    view.flushdb()
    view.close()


async def test_without_redis_a_push_is_answered_5xx(aiohttp_client: Any, redis_server: str, tmp_path):
    settings = settings_for(redis_server, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = await aiohttp_client(create_app(settings))
    body = encode(push())
    statuses = await asyncio.gather(
        *(client.post("/webhooks/github", data=body, headers=github_headers("push", body)) for _ in range(3))
    )
    assert all(response.status >= 500 for response in statuses)  # GitHub sends each again later
