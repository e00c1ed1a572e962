"""What every Azure adapter shares: one SDK client per subscription, and a cluster's ARM coordinates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from bot.models import ClusterRef
from workers.azure_connection import ArmConnection

C = TypeVar("C")


class ClientCache(Generic[C]):
    """Management clients are bound to a subscription; build each once and reuse its connection pool."""

    def __init__(self, connection: ArmConnection, factory: Callable[[ArmConnection, str], C]) -> None:
        self._connection = connection
        self._factory = factory
        self._clients: dict[str, C] = {}

    def __call__(self, subscription_id: str) -> C:
        client = self._clients.get(subscription_id)
        if client is None:
            client = self._factory(self._connection, subscription_id)
            self._clients[subscription_id] = client
        return client


def cluster_args(cluster: ClusterRef) -> tuple[str, str, str, str]:
    """(resource group, cluster RP, cluster resource type, cluster name): how every operation names a cluster."""
    return (cluster.resource_group, cluster.cluster_type.resource_provider, cluster.cluster_type.value, cluster.name)
