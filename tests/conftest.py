"""Shared fixtures: one sandbox per test session, served over HTTPS to the real Azure SDK."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from bot.models import ClusterRef, ClusterType
from sandbox.arm.app import EmulatorConfig
from sandbox.credential import SandboxCredential
from sandbox.runtime import Endpoints, SandboxOptions, SandboxThread
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs
from workers.azure_inventory import AzureInventory
from workers.azure_v1 import AzureV1Configs

#: compressed time: sync intervals run 100x faster, operations and agent steps take tens of ms
FAST = SandboxOptions(
    fleet=5,
    step_seconds=0.03,
    emulator=EmulatorConfig(time_scale=100, operation_seconds=0.05, extension_operation_seconds=0.1, page_size=3),
)


@pytest.fixture(scope="session")
def sandbox_thread() -> Iterator[SandboxThread]:
    world = SandboxThread(FAST)
    world.start()
    yield world
    world.stop()


@pytest.fixture(scope="session")
def endpoints(sandbox_thread: SandboxThread) -> Endpoints:
    assert sandbox_thread.sandbox is not None and sandbox_thread.sandbox.endpoints is not None
    return sandbox_thread.sandbox.endpoints


@pytest.fixture(scope="session")
def connection(endpoints: Endpoints) -> ArmConnection:
    return ArmConnection(
        endpoint=endpoints.arm_url,
        credential=SandboxCredential(),
        ca_bundle=str(endpoints.ca_file),
        poll_interval=0.02,
    )


@pytest.fixture(scope="session")
def flux(connection: ArmConnection) -> AzureFluxConfigs:
    return AzureFluxConfigs(connection=connection)


@pytest.fixture(scope="session")
def extensions(connection: ArmConnection) -> AzureExtensions:
    return AzureExtensions(connection=connection)


@pytest.fixture(scope="session")
def v1(connection: ArmConnection) -> AzureV1Configs:
    return AzureV1Configs(connection=connection)


@pytest.fixture(scope="session")
def inventory(connection: ArmConnection, endpoints: Endpoints) -> AzureInventory:
    return AzureInventory(connection=connection, subscription_ids=[endpoints.subscription_id])


_names = itertools.count()


@pytest.fixture
def unique() -> str:
    """A fresh lowercase suffix so tests sharing the session sandbox never collide."""
    return f"t{next(_names)}"


@pytest.fixture
def fresh_cluster(sandbox_thread: SandboxThread, endpoints: Endpoints, unique: str) -> ClusterRef:
    """A new empty Arc cluster in the sandbox, for tests that need one to themselves."""
    from sandbox.world import Cluster

    name = f"arc-{unique}"
    sandbox_thread.call(
        lambda sb: sb.world.add_cluster(Cluster(endpoints.subscription_id, "tests-rg", "connectedClusters", name))
    )
    return ClusterRef(endpoints.subscription_id, "tests-rg", ClusterType.CONNECTED, name)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server; yields its URL."""
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()
