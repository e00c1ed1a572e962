"""Pacing ARM writes: one budget per subscription in a real Redis, shared by workers that use the real Azure SDK.

The emulator throttles as ARM does: buckets of 200 that refill at 10 a second, here ten times faster. It
answers 429 with a Retry-After and reports the tokens left on every answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest

from bot import errors
from bot.models import ClusterRef, ClusterType
from sandbox.arm.app import EmulatorConfig
from sandbox.credential import SandboxCredential
from sandbox.runtime import SandboxOptions, SandboxThread
from workers.arm_pacing import LONGEST_WAIT, ArmBudget, ArmPacing
from workers.azure_connection import ArmConnection
from workers.azure_flux import AzureFluxConfigs

SCALE = 5  # the emulator's throttle refills five times faster than ARM's: 50 deletes a second
WORKERS = 8  # threads, as Celery workers would be, each with its own SDK client
DELETES = 400  # 200 from the burst, then about 4 s at the refill rate


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server)
    yield connection
    connection.close()


def test_the_budget_gives_the_burst_then_paces_and_obeys_what_arm_says(client: redis.Redis) -> None:
    budget = ArmBudget(redis=client, time_scale=0.01)  # a token every 10 s: nothing refills while the test runs
    subscription = str(uuid.uuid4())
    assert all(budget.take(subscription, "writes") == 0 for _ in range(200))
    wait = budget.take(subscription, "writes")
    assert 9 < wait <= 11  # one token at 0.1 a second (a little slower: the margin)
    assert budget.take(subscription, "deletes") == 0  # deletes have a bucket of their own

    other = str(uuid.uuid4())
    budget.observe(other, "writes", remaining="2", retry_after=None)  # others spent most of it
    assert [budget.take(other, "writes") == 0 for _ in range(3)] == [True, True, False]

    budget.observe(other, "writes", remaining=None, retry_after="3")  # a 429: every worker waits it out
    assert 2.5 < budget.take(other, "writes") <= 3.0
    budget.observe(other, "writes", remaining=None, retry_after="1")  # a shorter one does not shorten it
    assert 2.5 < budget.take(other, "writes") <= 3.0
    budget.observe(other, "writes", remaining=None, retry_after="86000")  # nor is a day believed
    assert 290 < budget.take(other, "writes") <= 300

    shut = str(uuid.uuid4())
    budget.observe(shut, "writes", remaining="not a number", retry_after="-5")  # nonsense is ignored
    assert budget.take(shut, "writes") == 0


@pytest.fixture(scope="module")
def throttled_arm() -> Iterator[SandboxThread]:
    """A sandbox of its own whose ARM throttles ten times faster than Azure (and is not shared with other tests)."""
    world = SandboxThread(SandboxOptions(fleet=1, emulator=EmulatorConfig(time_scale=SCALE, throttling=True)))
    world.start()
    yield world
    world.stop()


def delete_storm(world: SandboxThread, budget: ArmBudget | None) -> tuple[int, int]:
    """``DELETES`` deletes (of configurations that do not exist: ARM still charges them) from ``WORKERS``
    threads at once; returns (how many ARM throttled, how many failed)."""
    sandbox = world.sandbox
    assert sandbox is not None and sandbox.endpoints is not None
    endpoints = sandbox.endpoints
    name = f"arc-{uuid.uuid4().hex[:6]}"
    world.call(lambda sb: sb.world.add_cluster(_cluster(endpoints.subscription_id, name)))
    cluster = ClusterRef(endpoints.subscription_id, "pacing-rg", ClusterType.CONNECTED, name)
    connection = ArmConnection(
        endpoint=endpoints.arm_url,
        credential=SandboxCredential(),
        ca_bundle=str(endpoints.ca_file),
        poll_interval=0.02,
        budget=budget,
    )
    before = world.call(lambda sb: sb.arm.throttle.throttled)
    world.call(lambda sb: sb.arm.throttle.drain(endpoints.subscription_id, "deletes"))
    world.call(lambda sb: setattr(sb.arm.throttle, "_buckets", {}))  # start full, as ARM does for a new principal

    def delete(index: int) -> bool:
        flux = AzureFluxConfigs(connection=connection)
        try:
            flux.begin_delete(cluster, f"gone-{index}").result(60)
        except Exception:
            return False
        return True

    with ThreadPoolExecutor(WORKERS) as pool:
        done = list(pool.map(delete, range(DELETES)))
    throttled = world.call(lambda sb: sb.arm.throttle.throttled) - before
    return throttled, done.count(False)


def _cluster(subscription: str, name: str) -> object:
    from sandbox.world import Cluster

    return Cluster(subscription, "pacing-rg", "connectedClusters", name)


def test_workers_sharing_the_budget_are_hardly_ever_throttled(throttled_arm: SandboxThread, redis_server: str) -> None:
    """Without pacing, the SDK's own retries meet ARM's 429s over and over; with the shared budget at most 1 %
    of the writes are throttled, and none fails."""
    unpaced, unpaced_failed = delete_storm(throttled_arm, None)
    budget = ArmBudget(redis=redis.Redis.from_url(redis_server), time_scale=SCALE)
    paced, paced_failed = delete_storm(throttled_arm, budget)

    # (seen on a quiet machine: dozens throttled without pacing, none with it; a loaded machine sends the
    # unpaced storm slower, so ARM's refill keeps up better: the control only has to be throttled more)
    assert unpaced > paced, f"the storm was hardly throttled without pacing ({unpaced} 429s, paced {paced})"
    assert paced <= DELETES // 100, f"{paced} of {DELETES} deletes were throttled despite the pacing"
    assert paced_failed == 0 and unpaced_failed == 0


class _SpentBudget(ArmBudget):
    """A budget that always asks for a long wait (a subscription someone else keeps throttled)."""

    def __init__(self) -> None:
        pass

    def take(self, subscription: str, kind: str) -> float:
        return LONGEST_WAIT / 3


def test_a_worker_gives_its_slot_back_instead_of_waiting_long() -> None:
    """Past LONGEST_WAIT in-process the write raises Throttled (retryable): the job layer retries it later."""
    slept: list[float] = []
    policy = ArmPacing(_SpentBudget(), sleep=slept.append)
    request = PipelineRequest(HttpRequest("PUT", "https://arm/subscriptions/s-1/x"), PipelineContext(None))
    with pytest.raises(errors.Throttled) as raised:
        policy.send(request)
    assert raised.value.retryable and sum(slept) <= LONGEST_WAIT and slept


class _Answer:
    """The next policy: answers every request (what reached it is recorded)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, request: PipelineRequest[HttpRequest]) -> object:
        self.sent.append(request.http_request.url)
        return object()


@pytest.mark.parametrize(
    "url",
    [
        "https://arm/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01",
        # a subscription named in the query string is not the request's subscription
        "https://arm/providers/microsoft.resourcegraph/resources?api-version=2021-03-01&x=/subscriptions/s-1",
    ],
)
def test_a_resource_graph_query_is_a_post_that_spends_no_write_budget(url: str) -> None:
    """RG queries are POSTs with no subscription in their path: reads against RG's own quota, never paced as
    a subscription's writes (a spent budget would make them wait or fail)."""
    policy = ArmPacing(_SpentBudget(), sleep=lambda seconds: pytest.fail("an RG query waited for the write budget"))
    answer = _Answer()
    policy.next = answer  # type: ignore[assignment]

    policy.send(PipelineRequest(HttpRequest("POST", url), PipelineContext(None)))

    assert answer.sent == [url]
