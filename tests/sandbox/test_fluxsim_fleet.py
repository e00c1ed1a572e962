"""A fleet through the simulated Flux: every configuration reconciles on its own loop, the work is shared.

Not timed: what is checked is that 200 configurations on one repository and branch make one checkout and one
build of each kustomization per commit, while each still fetches and reports for itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox.fluxsim import FluxSimulator
from sandbox.git_access import GitAccess
from sandbox.gitrepos import RepoStore
from sandbox.tutorial_repo import TUTORIAL_SLUG, TUTORIAL_URL, tutorial_files
from sandbox.world import Cluster, FluxConfigRecord, World

FLEET = 200
KUSTOMIZATIONS = {
    "nginx": {"path": "./infrastructure/nginx", "dependsOn": []},
    "redis": {"path": "./infrastructure/redis", "dependsOn": []},
    "apps": {"path": "./apps/staging", "dependsOn": ["nginx", "redis"]},
}


def properties() -> dict[str, Any]:
    """A configuration as the emulator stores it after a PUT (ten-minute intervals)."""
    return {
        "scope": "cluster",
        "namespace": "cluster-config",
        "sourceKind": "GitRepository",
        "suspend": False,
        "gitRepository": {
            "url": TUTORIAL_URL,
            "syncIntervalInSeconds": 600,
            "repositoryRef": {"branch": "main", "tag": None, "semver": None, "commit": None},
        },
        "kustomizations": {
            name: {"name": name, "syncIntervalInSeconds": 600, "postBuild": None, **spec}
            for name, spec in KUSTOMIZATIONS.items()
        },
        "statuses": [],
        "complianceState": "Pending",
        "provisioningState": "Succeeded",
    }


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[tuple[FluxSimulator, RepoStore, list[Cluster]]]:
    world = World()
    clusters = world.add_fleet(FLEET)
    repos = RepoStore(tmp_path / "repos")
    repos.create_repo(TUTORIAL_SLUG, tutorial_files(), private=False)
    # Intervals of a minute of real time: within the test only creation and the push make anyone fetch.
    flux = FluxSimulator(world=world, repos=repos, access=GitAccess(), time_scale=10.0, step_seconds=0.01)
    yield flux, repos, clusters
    await flux.stop()


async def settle(clusters: list[Cluster], done: Callable[[dict[str, Any]], bool]) -> None:
    for _ in range(3000):  # up to 60 s on a busy machine
        if all(done(c.flux_configs["cluster-config"].properties) for c in clusters):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the fleet did not settle")


def applied_at(sha: str) -> Callable[[dict[str, Any]], bool]:
    def check(props: dict[str, Any]) -> bool:
        kustomizations = [s for s in props["statuses"] if s["kind"] == "Kustomization"]
        return (
            props["complianceState"] == "Compliant"
            and len(kustomizations) == len(KUSTOMIZATIONS)
            and all(s["statusConditions"][0]["message"] == f"Applied revision: main/{sha}" for s in kustomizations)
        )

    return check


async def test_a_fleet_on_one_branch_checks_out_and_builds_each_commit_once(
    fleet: tuple[FluxSimulator, RepoStore, list[Cluster]],
) -> None:
    flux, repos, clusters = fleet
    first = repos.head(repos.resolve_url(TUTORIAL_URL), "main")  # type: ignore[arg-type]
    assert first is not None
    for cluster in clusters:
        cluster.flux_configs["cluster-config"] = FluxConfigRecord("cluster-config", properties(), {}, {})
        flux.config_changed(cluster, "cluster-config")
    await settle(clusters, applied_at(first))
    created = flux.stats()
    assert created["configurations"] == FLEET
    assert created["fetches"] == FLEET  # each configuration fetched for itself ...
    assert created["checkouts"] == 1  # ... from one checkout of the commit
    assert created["builds"] == len(KUSTOMIZATIONS)  # one build per kustomization, not per configuration
    assert created["build_hits"] == FLEET * len(KUSTOMIZATIONS) - len(KUSTOMIZATIONS)

    values = tutorial_files()["apps/staging/podinfo-values.yaml"] + "# pushed\n"
    second = repos.commit(TUTORIAL_SLUG, {"apps/staging/podinfo-values.yaml": values}, "podinfo: values")
    assert flux.repository_pushed(TUTORIAL_URL, "main") == FLEET  # a Receiver nudges every one of them
    await settle(clusters, applied_at(second))
    pushed = flux.stats()
    assert pushed["fetches"] == 2 * FLEET
    assert pushed["checkouts"] == 2
    assert pushed["builds"] == 2 * len(KUSTOMIZATIONS)
    assert pushed["ref_reads"] <= 4  # refs are read again when they move, not on every fetch

    # Every configuration still reports its own objects, with its own cluster's fetches in the log.
    for cluster in clusters:
        attempts = flux.fetch_attempts(cluster_name=cluster.name, config="cluster-config")
        assert [a.revision for a in attempts] == [f"main/{first}", f"main/{second}"]
    statuses = [c.flux_configs["cluster-config"].properties["statuses"] for c in clusters]
    assert all(json.loads(json.dumps(s)) == s for s in statuses)  # plain JSON, as ARM returns it
    assert {len(s) for s in statuses} == {1 + len(KUSTOMIZATIONS) + 3}  # source, kustomizations, nginx redis podinfo
