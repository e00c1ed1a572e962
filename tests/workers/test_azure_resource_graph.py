"""Resource Graph through the real azure-mgmt-resourcegraph client over HTTPS to the ARM emulator."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
import requests
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest

from bot import errors
from bot.commands import ClusterTarget
from bot.gitevents import GITHUB, PushEvent, RepoRef
from bot.models import Cluster as DomainCluster
from bot.models import ClusterRef, ClusterType
from bot.usecases.context import FleetPorts, Job, ResolvedCluster
from bot.usecases.push_trace import PushTrace
from bot.views import ClusterRow
from sandbox.arm import flux_configs as flux_rules
from sandbox.runtime import Endpoints, Sandbox, SandboxThread
from sandbox.world import Cluster, ExtensionRecord, FluxConfigRecord
from tests.bot.usecases.fakes import World
from workers.azure_connection import ArmConnection
from workers.azure_flux import AzureFluxConfigs
from workers.azure_resource_graph import ResourceGraphIndex, configurations_query

RG_PATH = "/providers/Microsoft.ResourceGraph/resources"
_subs = itertools.count(1)


def new_subscription() -> str:
    """A subscription of its own per test: nothing another test seeds is in its scope."""
    return f"00000000-0000-4000-8000-{0x4E5000000000 + next(_subs):012x}"


def flux_record(name: str, url: str, branch: str = "main") -> FluxConfigRecord:
    """A configuration as the emulator stores it after a PUT that succeeded (server defaults applied)."""
    spec = flux_rules.normalise_spec(
        {"gitRepository": {"url": url, "repositoryRef": {"branch": branch}}, "kustomizations": {"apps": {}}}, {}
    )
    return FluxConfigRecord(name, {**spec, **flux_rules.initial_status("Succeeded")}, {}, {})


def seed(
    sandbox: SandboxThread, subscription: str, clusters: int, per_cluster: int, url: str, *, prefix: str = "rg"
) -> list[Cluster]:
    def add(sb: Sandbox) -> list[Cluster]:
        made = []
        for i in range(clusters):
            ctype = "managedClusters" if i % 2 else "connectedClusters"
            cluster = sb.world.add_cluster(
                Cluster(subscription, "graph-rg", ctype, f"{prefix}-{i:03d}", tags={"env": f"e{i % 3}", "n": str(i)})
            )
            for j in range(per_cluster):
                cluster.flux_configs[f"cfg-{j:02d}"] = flux_record(f"cfg-{j:02d}", url)
            made.append(cluster)
        return made

    return sandbox.call(add)


def graph_requests(sandbox: SandboxThread) -> list[tuple[int, dict[str, str]]]:
    return sandbox.call(
        lambda sb: [(r.status, r.headers) for r in sb.arm.requests if r.path.lower() == RG_PATH.lower()]
    )


def served(sandbox: SandboxThread) -> int:
    return sandbox.call(lambda sb: sb.arm.resource_graph.served)


@pytest.fixture
def subscription() -> str:
    return new_subscription()


@pytest.mark.parametrize(("page", "queries"), [(40, 7), (1000, 1)])
def test_250_configurations_page_through_skip_tokens(
    sandbox_thread: SandboxThread, connection: ArmConnection, subscription: str, page: int, queries: int
) -> None:
    url = f"https://github.com/graph/paging-{page}"
    seed(sandbox_thread, subscription, clusters=25, per_cluster=10, url=url)
    index = ResourceGraphIndex(connection=connection, subscription_ids=[subscription], page_size=page)
    before = served(sandbox_thread)

    states = index.configurations(repository="graph/paging")

    assert served(sandbox_thread) - before == queries
    assert len(states) == 250
    assert len({(s.cluster.arm_id, s.name) for s in states}) == 250, "every row once, none repeated across pages"
    first = states[0]
    assert first.spec is not None and first.spec.source.url == url  # type: ignore[union-attr]
    assert first.provisioning_state == "Succeeded" and first.compliance_state == "Pending"
    assert [k.name for k in first.spec.kustomizations] == ["apps"]


def test_configurations_on_named_clusters_only_page_too(
    sandbox_thread: SandboxThread, connection: ArmConnection, subscription: str
) -> None:
    made = seed(sandbox_thread, subscription, clusters=25, per_cluster=3, url="https://github.com/graph/named")
    index = ResourceGraphIndex(connection=connection, subscription_ids=[subscription], page_size=4)
    chosen = [made[i] for i in (1, 2, 7, 20)]
    refs = [ClusterRef(c.subscription_id, c.resource_group, ClusterType(c.cluster_type), c.name) for c in chosen]
    # a name's case differs from the stored id's: the filter is case-insensitive, as the join is
    refs[0] = replace(refs[0], name=refs[0].name.upper())

    states = index.configurations(name="cfg-01", clusters=refs)

    assert sorted(s.cluster.arm_id.lower() for s in states) == sorted(r.arm_id.lower() for r in refs)
    assert {s.name for s in states} == {"cfg-01"}
    assert len(index.configurations(clusters=refs[:2])) == 6


def test_index_rows_are_what_arm_get_returns(
    sandbox_thread: SandboxThread, connection: ArmConnection, flux: AzureFluxConfigs, subscription: str
) -> None:
    made = seed(sandbox_thread, subscription, clusters=2, per_cluster=2, url="https://github.com/graph/same")
    index = ResourceGraphIndex(connection=connection, subscription_ids=[subscription])

    by_index = {(s.cluster.arm_id.lower(), s.name): s for s in index.configurations(name="CFG-01")}

    assert len(by_index) == 2, "the name matches case-insensitively, and only that name"
    for cluster in made:
        ref = next(s.cluster for s in by_index.values() if s.cluster.name == cluster.name)
        assert by_index[(ref.arm_id.lower(), "cfg-01")] == flux.get(ref, "cfg-01")


def test_the_joined_query_carries_the_cluster_tags(
    sandbox_thread: SandboxThread, connection: ArmConnection, subscription: str
) -> None:
    made = seed(sandbox_thread, subscription, clusters=3, per_cluster=1, url="https://github.com/graph/tags")
    client = ResourceGraphClient(connection.credential, **connection.client_kwargs())

    answer = client.resources(
        QueryRequest(subscriptions=[subscription], query=configurations_query(repository="graph/tags"))
    )

    rows: list[dict[str, Any]] = answer.data
    assert answer.total_records == answer.count == 3 and answer.result_truncated == "false"
    assert {r["type"] for r in rows} == {"microsoft.kubernetesconfiguration/fluxconfigurations"}
    assert {r["clusterId"]: r["clusterTags"] for r in rows} == {c.id.lower(): c.tags for c in made}


def test_extensions_of_a_type_on_every_cluster(
    sandbox_thread: SandboxThread, connection: ArmConnection, subscription: str
) -> None:
    made = seed(sandbox_thread, subscription, clusters=3, per_cluster=0, url="https://github.com/graph/none")

    def install(sb: Sandbox) -> None:
        for cluster in made[:2]:
            props = {"extensionType": "microsoft.flux", "provisioningState": "Succeeded", "version": "1.17.3"}
            cluster.extensions["flux"] = ExtensionRecord("flux", props, {}, {})
        made[2].extensions["other"] = ExtensionRecord("other", {"extensionType": "microsoft.dapr"}, {}, {})

    sandbox_thread.call(install)
    index = ResourceGraphIndex(connection=connection, subscription_ids=[subscription])

    found = index.extensions()

    assert sorted(x.cluster.name for x in found) == [made[0].name, made[1].name]
    assert {(x.name, x.extension_type, x.version) for x in found} == {("flux", "microsoft.flux", "1.17.3")}


def test_an_unsupported_query_is_an_invalid_query(connection: ArmConnection, subscription: str) -> None:
    index = ResourceGraphIndex(connection=connection, subscription_ids=[subscription])

    with pytest.raises(errors.InvalidRequest) as caught:
        index.rows("resources | summarize count() by type", "counting resources")

    assert caught.value.code == "InvalidQuery"
    assert "summarize" in caught.value.message and caught.value.message.startswith("counting resources: ")
    assert not caught.value.retryable


def test_a_tampered_skip_token_is_refused(endpoints: Endpoints, subscription: str) -> None:
    url = f"{endpoints.arm_url}{RG_PATH}?api-version=2021-03-01"
    body: dict[str, Any] = {"subscriptions": [endpoints.subscription_id], "query": "resources | project id, name"}
    headers = {"Authorization": "Bearer tamper-test"}
    first = requests.post(url, json={**body, "options": {"$top": 1}}, headers=headers, verify=str(endpoints.ca_file))
    token = first.json()["$skipToken"]
    assert first.status_code == 200 and first.json()["count"] == 1

    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    second = requests.post(
        url, json={**body, "options": {"$skipToken": forged}}, headers=headers, verify=str(endpoints.ca_file)
    )

    assert second.status_code == 400
    error = second.json()["error"]
    assert error["code"] == "BadRequest" and error["details"][0]["code"] == "InvalidRequestOptions"
    assert {"x-ms-user-quota-remaining", "x-ms-user-quota-resets-after"} <= {k.lower() for k in first.headers}


def test_the_quota_answers_429_then_the_query_succeeds(
    sandbox_thread: SandboxThread, connection: ArmConnection, subscription: str
) -> None:
    seed(sandbox_thread, subscription, clusters=1, per_cluster=1, url="https://github.com/graph/quota")
    index = ResourceGraphIndex(connection=connection, subscription_ids=[subscription])
    seen = len(graph_requests(sandbox_thread))
    sandbox_thread.call(lambda sb: sb.arm.resource_graph.quota.exhaust())

    states = index.configurations(repository="graph/quota")

    assert len(states) == 1
    answers = graph_requests(sandbox_thread)[seen:]
    assert [status for status, _ in answers] == [429, 200], "azure-core waited for the quota reset, then retried"
    throttled = answers[0][1]
    assert throttled["x-ms-user-quota-remaining"] == "0"
    assert throttled["x-ms-user-quota-resets-after"].startswith("00:00:0")


def test_a_429_that_outlasts_the_retries_is_retryable_with_the_reset_time(
    sandbox_thread: SandboxThread, connection: ArmConnection, subscription: str
) -> None:
    index = ResourceGraphIndex(connection=connection, subscription_ids=[subscription], retry_total=0)
    sandbox_thread.call(lambda sb: sb.arm.resource_graph.quota.exhaust())

    with pytest.raises(errors.Throttled) as caught:
        index.configurations()

    assert caught.value.retryable
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 5


class Inventory:
    """The clusters fluxops manages (bot.usecases.context.ClusterDirectory), as the push trace reads them."""

    def __init__(self, clusters: list[Cluster]) -> None:
        self.clusters = [
            ResolvedCluster(
                DomainCluster(
                    ClusterRef(c.subscription_id, c.resource_group, ClusterType.parse(c.cluster_type), c.name),
                    c.location,
                )
            )
            for c in clusters
        ]

    def resolve(self, target: ClusterTarget) -> ResolvedCluster:
        raise NotImplementedError

    def rows(self, selector: Sequence[tuple[str, str]]) -> list[ClusterRow]:
        return []

    def all(self) -> list[ResolvedCluster]:
        return self.clusters


def test_a_push_finds_its_configurations_on_60_clusters_in_one_query(
    sandbox_thread: SandboxThread, connection: ArmConnection, flux: AzureFluxConfigs, subscription: str
) -> None:
    made = seed(sandbox_thread, subscription, clusters=60, per_cluster=1, url="https://github.com/graph/pushed")
    seed(sandbox_thread, subscription, clusters=2, per_cluster=1, url="https://github.com/graph/other", prefix="x")
    world = World()
    ports = replace(
        world.ports(),
        flux=flux,
        clusters=Inventory(made),
        fleet=FleetPorts(index=ResourceGraphIndex(connection=connection, subscription_ids=[subscription])),
    )
    event = PushEvent(
        repo=RepoRef(provider=GITHUB, full_name="graph/pushed", url="https://github.com/graph/pushed"),
        branch="main",
        after="a" * 40,
        before="b" * 40,
        pusher="octocat",
    )
    seen = sandbox_thread.call(lambda sb: len(sb.arm.requests))

    targets = PushTrace(Job(world.record("/flux clusters"), ports, world.reporter, "push"), event).targets()

    # a 429 (a window of the quota another test spent) and its retry are still one query
    answered = sandbox_thread.call(lambda sb: [r for r in list(sb.arm.requests)[seen:] if r.status != 429])
    paths = [r.path.lower() for r in answered]
    assert paths == [RG_PATH.lower()], "one Resource Graph query, no list of any cluster's configurations"
    assert sorted(t.label for t in targets) == sorted(c.name for c in made)
    assert {t.config for t in targets} == {"cfg-00"}
