"""Which configurations a push reaches, and how they are read while it is traced (bot/usecases/push_trace.py).

With a ``FluxIndex`` (Azure Resource Graph) both take one query, however many clusters there are: the targets
are the configurations whose source URL contains the repository's name, filtered exactly by ``tracks``, on
clusters of the inventory fluxops manages; each round of the watch reads every target's state in one query too.
Without an index, every cluster of the inventory is listed and every target read on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot import errors
from bot.cluster_ids import parse_cluster_id
from bot.gitevents import PushEvent
from bot.models import ClusterRef, FluxConfigState, GitSource
from bot.ports import FluxIndex
from bot.repo_urls import canonical_repo
from bot.usecases.context import JobPorts, ResolvedCluster

log = logging.getLogger(__name__)

#: more targets than this are read in one index query per round rather than one GET each
BULK_READ_ABOVE = 5


@dataclass(frozen=True)
class Target:
    """One (cluster, configuration) that tracks the pushed branch."""

    cluster_id: str
    label: str
    config: str

    @property
    def ref(self) -> ClusterRef:
        return parse_cluster_id(self.cluster_id)

    @property
    def context(self) -> str:
        return f"fluxops/{self.label}/{self.config}"


def tracks(state: FluxConfigState, repo_key: tuple[str, str] | None, branch: str) -> bool:
    """True when the configuration's Git source is this repository and branch."""
    spec = state.spec
    if spec is None or not isinstance(spec.source, GitSource) or repo_key is None:
        return False
    return canonical_repo(spec.source.url) == repo_key and spec.source.ref.branch == branch


def narrowing(repo_key: tuple[str, str]) -> str:
    """A substring every spelling of the repository's URL contains: ``owner/repo`` where every form has it
    (GitHub-like hosts, https and scp-like ssh), else the repository's own name (Azure DevOps spells
    ``org/project/_git/repo`` over https and ``v3/org/project/repo`` over ssh)."""
    path = repo_key[1].strip("/")
    segments = path.split("/")
    return path if len(segments) == 2 else segments[-1]


def find_targets(ports: JobPorts, event: PushEvent) -> list[Target]:
    """Every (cluster, configuration) of the inventory tracking the pushed repository and branch, sorted."""
    found = [
        Target(where.cluster.ref.arm_id, where.label, state.name)
        for where, state in tracking(ports, event.repo.url, event.branch)
    ]
    found.sort(key=lambda t: (t.label.lower(), t.config))
    return found


def tracking(ports: JobPorts, url: str, branch: str) -> list[tuple[ResolvedCluster, FluxConfigState]]:
    """Every configuration of the inventory's clusters whose Git source is ``url`` at ``branch``, with its
    cluster (what a push to that branch reaches, and what a pull request into it may break)."""
    key = canonical_repo(url)
    index = ports.fleet.index
    if index is not None and key is not None:
        return _from_index(ports, index, key, branch)
    return _cluster_by_cluster(ports, key, branch)


def _from_index(
    ports: JobPorts, index: FluxIndex, key: tuple[str, str], branch: str
) -> list[tuple[ResolvedCluster, FluxConfigState]]:
    managed = {where.cluster.ref.arm_id.lower(): where for where in ports.clusters.all()}
    found = []
    for state in index.configurations(repository=narrowing(key)):
        where = managed.get(state.cluster.arm_id.lower())
        if where is not None and state.spec is not None and tracks(state, key, branch):
            found.append((where, state))
    return found


def _cluster_by_cluster(
    ports: JobPorts, key: tuple[str, str] | None, branch: str
) -> list[tuple[ResolvedCluster, FluxConfigState]]:
    found = []
    for where in ports.clusters.all():
        try:
            configs = ports.flux.list(where.cluster.ref)
        except errors.FluxopsError as error:
            if error.retryable:
                raise
            log.warning("push trace: cannot list configurations of %s: %s", where.label, error.message)
            continue
        for state in configs:
            if tracks(state, key, branch) and state.spec is not None:
                found.append((where, state))
    return found


def bulk_states(ports: JobPorts, event: PushEvent, targets: Sequence[Target]) -> dict[Target, FluxConfigState]:
    """This round's states of ``targets`` from one index query, when there is an index and more than a handful.

    A row is used only for the configuration its target names (same cluster id, same name); a target with no
    row (Resource Graph has not caught up, or the configuration is gone) is left out, to be read on its own.
    """
    index = ports.fleet.index
    key = canonical_repo(event.repo.url)
    if index is None or key is None or len(targets) <= BULK_READ_ABOVE:
        return {}
    wanted = {(t.cluster_id.lower(), t.config): t for t in targets}
    states: dict[Target, FluxConfigState] = {}
    for state in index.configurations(repository=narrowing(key)):
        target = wanted.get((state.cluster.arm_id.lower(), state.name))
        if target is not None:
            states[target] = state
    return states
