"""Where the workers' metrics come from: the Slack client (against the fake Slack Web API), the ARM path's
resource type, and the gauges read from a real Redis (queue, active jobs, deploy key records)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
import redis
from cryptography.fernet import Fernet
from prometheus_client import REGISTRY
from slack_sdk.errors import SlackApiError

from bot.config_file import DeployKeyPolicy
from bot.key_records import DeployKeyRecord, KeyUser
from bot.models import Secret
from sandbox.slack import FakeSlack
from workers.arm_metering import resource_type
from workers.key_sealing import Sealer
from workers.redis_gauges import RedisGauges
from workers.redis_jobs import ACTIVE_JOBS_KEY, PHASE_FIELD, job_key
from workers.redis_key_registry import RedisKeyRegistry
from workers.slack_reporter import slack_client

TOKEN = "xoxb-metrics-token"
CHANNEL = "C0METRICS"
DAY = 86400.0


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token=TOKEN, signing_secret="s", users={"U0ME": "me"})
    await slack.start()
    yield slack
    await slack.stop()


async def test_slack_calls_and_rate_limits_are_counted(fake: FakeSlack):
    client = slack_client(token=TOKEN, base_url=fake.api_url)
    calls = ("fluxops_slack_api_calls_total", {"method": "chat.postMessage"})
    ok, error = sample(calls[0], **calls[1], outcome="ok"), sample(calls[0], **calls[1], outcome="error")
    limited = sample("fluxops_slack_rate_limited_total", method="chat.postMessage")
    fake.limiter.enabled = True
    fake.limiter.drain("chat.postMessage", CHANNEL)  # the next post waits its Retry-After, then goes through

    await asyncio.to_thread(client.chat_postMessage, channel=CHANNEL, text="after the wait")
    assert [(c.method, c.status) for c in fake.state.calls] == [("chat.postMessage", 429), ("chat.postMessage", 200)]
    assert sample("fluxops_slack_rate_limited_total", method="chat.postMessage") == limited + 1
    assert sample(calls[0], **calls[1], outcome="ok") == ok + 1, "one call, however many attempts"

    bad = slack_client(token="xoxb-not-the-token", base_url=fake.api_url)
    with pytest.raises(SlackApiError):
        await asyncio.to_thread(bad.chat_postMessage, channel=CHANNEL, text="refused")
    assert sample(calls[0], **calls[1], outcome="error") == error + 1


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/prod-weu/providers/"
            "Microsoft.KubernetesConfiguration/fluxConfigurations/apps",
            "fluxconfigurations",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/providers/"
            "Microsoft.KubernetesConfiguration/fluxConfigurations/apps/operations/0f1e",
            "fluxconfigurations/operations",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/arc/providers/"
            "Microsoft.KubernetesConfiguration/extensions",
            "extensions",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/arc/"
            "listClusterUserCredential",
            "connectedclusters/listclusterusercredential",
        ),
        ("/subscriptions/s/providers/Microsoft.KubernetesConfiguration", "providers"),
        ("/subscriptions/s/providers/Microsoft.KubernetesConfiguration/register", "register"),
        ("/subscriptions/s/resources", "resources"),
        ("/providers/Microsoft.ResourceGraph/resources", "resourcegraph"),
        # a name in a type's place never becomes a label value
        ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/customer-prod-site", "other"),
        ("/", "other"),
    ],
)
def test_arm_resource_types_are_bounded(path: str, expected: str):
    assert resource_type(path) == expected


def gauges(client: redis.Redis, registry: RedisKeyRegistry | None, policy: DeployKeyPolicy) -> dict[str, float]:
    collector = RedisGauges(
        redis=client,
        queue="fluxops",
        queue_key="fluxops",
        keys=registry.all if registry is not None else None,
        key_policy=policy,
    )
    return {s.name: s.value for family in collector.collect() for s in family.samples}


def key(key_id: str, age_days: float, *, users: int = 1) -> DeployKeyRecord:
    return DeployKeyRecord(
        key_id=key_id,
        repository="ssh://git@github.com/contoso/fleet",
        host="github.com",
        full_name="contoso/fleet",
        fingerprint=f"SHA256:{key_id}",
        public_key="ssh-ed25519 AAAA",
        created_at=time.time() - age_days * DAY,
        users=tuple(KeyUser(f"/subscriptions/s/c{i}", "apps") for i in range(users)),
    )


def test_queue_gauges_read_redis(redis_server: str):
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    assert gauges(client, None, DeployKeyPolicy())["fluxops_queue_depth"] == 0
    seconds, micros = client.time()
    now = seconds + micros / 1e6
    # a running job (recent heartbeat), a job queued 40 s ago, one queued 10 s ago, one waiting for a retry
    client.zadd(ACTIVE_JOBS_KEY, {"j-running": now - 90, "j-old": now - 40, "j-new": now - 10, "j-retry": now + 60})
    for job_id, phase in (("j-running", "running"), ("j-old", "queued"), ("j-new", "queued"), ("j-retry", "running")):
        client.hset(job_key(job_id), PHASE_FIELD, phase)
    client.lpush("fluxops", json.dumps({"headers": {"id": "j-new"}}), json.dumps({"headers": {"id": "j-old"}}))

    values = gauges(client, None, DeployKeyPolicy())
    assert values["fluxops_queue_depth"] == 2
    assert values["fluxops_jobs_active"] == 4
    assert 40 <= values["fluxops_queue_oldest_job_age_seconds"] < 40 + 30, "the queued job, not the running one"
    assert values["fluxops_redis_up"] == 1


def test_deploy_key_gauges_against_the_policy(redis_server: str):
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    registry = RedisKeyRegistry(redis=client, sealer=Sealer(Secret(Fernet.generate_key().decode())))
    for record in (key("k-old", 100), key("k-mid", 60, users=2), key("k-new", 5), key("k-unused", 400, users=0)):
        registry.save(record)

    values = gauges(client, registry, DeployKeyPolicy(max_age="90d"))
    assert values["fluxops_deploy_keys"] == 3, "a key no configuration uses is not counted"
    assert 100 * DAY - 60 <= values["fluxops_deploy_key_oldest_age_seconds"] <= 100 * DAY + 60
    assert values["fluxops_deploy_keys_over_max_age"] == 1
    assert values["fluxops_deploy_key_max_age_seconds"] == 90 * DAY

    unlimited = gauges(client, registry, DeployKeyPolicy())
    assert unlimited["fluxops_deploy_keys_over_max_age"] == 0
    assert "fluxops_deploy_key_max_age_seconds" not in unlimited


def test_a_redis_that_does_not_answer_shows_as_down():
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    assert gauges(client, None, DeployKeyPolicy()) == {"fluxops_redis_up": 0}
