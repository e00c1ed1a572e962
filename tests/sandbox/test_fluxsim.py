"""FluxSimulator: statuses and compliance as the Azure flux agent reports them, over real git repos."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from sandbox.fluxsim import FluxSimulator, build_kustomization
from sandbox.git_access import GitAccess
from sandbox.gitrepos import RepoStore
from sandbox.tutorial_repo import TUTORIAL_SLUG, TUTORIAL_URL, tutorial_files
from sandbox.world import Cluster, FluxConfigRecord, World

PRIVATE = "org/private-gitops"
TUTORIAL_KS = {
    "infra": {"path": "./infrastructure", "prune": True},
    "apps": {"path": "./apps/staging", "prune": True, "dependsOn": ["infra"]},
}
STATUS_KEYS = {
    "name",
    "namespace",
    "kind",
    "complianceState",
    "appliedBy",
    "helmReleaseProperties",
    "statusConditions",
}


@dataclass
class Env:
    world: World
    cluster: Cluster
    repos: RepoStore
    access: GitAccess
    flux: FluxSimulator
    sha: str

    def put(
        self,
        name: str = "cluster-config",
        *,
        url: str = TUTORIAL_URL,
        ref: dict[str, str] | None = None,
        kustomizations: dict[str, dict[str, Any]] | None = None,
        protected: dict[str, str] | None = None,
        **git: Any,
    ) -> FluxConfigRecord:
        """A configuration as the emulator stores it after a successful PUT, and the agent told."""
        previous = self.cluster.flux_configs.get(name)
        interval = git.pop("interval", 600)
        suspend = git.pop("suspend", False)
        ks = kustomizations if kustomizations is not None else TUTORIAL_KS
        properties = {
            "scope": "cluster",
            "namespace": "cluster-config",
            "sourceKind": git.pop("source_kind", "GitRepository"),
            "suspend": suspend,
            "gitRepository": {
                "url": url,
                "timeoutInSeconds": 600,
                "syncIntervalInSeconds": interval,
                "repositoryRef": {"branch": None, "tag": None, "semver": None, "commit": None, **(ref or {})},
                **git,
            },
            "kustomizations": {
                k: {"name": k, "dependsOn": [], "syncIntervalInSeconds": interval, "postBuild": None, **v}
                for k, v in ks.items()
            },
            "statuses": previous.properties["statuses"] if previous else [],
            "complianceState": previous.properties["complianceState"] if previous else "Pending",
            "provisioningState": "Succeeded",
            "errorMessage": "",
        }
        if not ref:
            properties["gitRepository"]["repositoryRef"]["branch"] = "main"
        record = FluxConfigRecord(
            name=name,
            properties=properties,
            protected=protected or {},
            system_data={},
            generation=previous.generation + 1 if previous else 1,
        )
        self.cluster.flux_configs[name] = record
        return record


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    world = World()
    cluster = world.add_cluster(Cluster(world.subscriptions[0], "flux-demo-rg", "connectedClusters", "flux-demo-arc"))
    repos = RepoStore(tmp_path / "repos")
    sha = repos.create_repo(TUTORIAL_SLUG, tutorial_files(), private=False)
    repos.create_repo(PRIVATE, tutorial_files(), private=True)
    access = GitAccess()
    flux = FluxSimulator(world=world, repos=repos, access=access, time_scale=1000.0, step_seconds=0.01)
    yield Env(world, cluster, repos, access, flux, sha)
    await flux.stop()


async def wait_for(check: Callable[[], bool]) -> None:
    for _ in range(500):  # up to 5 s
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


def loop_of(env: Env, name: str = "cluster-config") -> asyncio.Task[None] | None:
    """The simulator's reconcile loop of configuration ``name``, if one runs (its end is the event the
    tests wait for, where they used to sleep)."""
    return env.flux._tasks.get((env.cluster.key, name))


def count_fetches_in_flight(env: Env) -> Callable[[], int]:
    """Count the simulator's source fetches running in worker threads from now on; returns the counter."""
    inner = env.flux._fetch_git
    running = [0]
    lock = threading.Lock()

    def counted(*args: Any) -> Any:
        with lock:
            running[0] += 1
        try:
            return inner(*args)
        finally:
            with lock:
                running[0] -= 1

    env.flux._fetch_git = counted  # type: ignore[method-assign]
    return lambda: running[0]


def statuses(record: FluxConfigRecord) -> dict[str, dict[str, Any]]:
    return {f"{s['kind']}/{s['name']}": s for s in record.properties["statuses"]}


def ready(entry: dict[str, Any]) -> tuple[str, str, str]:
    cond = entry["statusConditions"][0]
    return cond["status"], cond["reason"], cond["message"]


def make_key() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_tutorial_config_becomes_compliant(env: Env) -> None:
    record = env.put()
    env.flux.config_changed(env.cluster, "cluster-config")
    props = record.properties
    assert props["complianceState"] == "Pending"
    assert {ready(s)[:2] for s in props["statuses"]} == {("Unknown", "Progressing")}

    await wait_for(lambda: props["complianceState"] == "Compliant")
    found = statuses(record)
    assert set(found) == {
        "GitRepository/cluster-config",
        "Kustomization/cluster-config-infra",
        "Kustomization/cluster-config-apps",
        "HelmRelease/nginx",
        "HelmRelease/redis",
        "HelmRelease/podinfo",
    }
    assert all(set(s) == STATUS_KEYS and s["namespace"] == "cluster-config" for s in found.values())
    assert ready(found["GitRepository/cluster-config"]) == (
        "True",
        "GitOperationSucceed",
        f"Fetched revision: main/{env.sha}",
    )
    assert ready(found["Kustomization/cluster-config-apps"]) == (
        "True",
        "ReconciliationSucceeded",
        f"Applied revision: main/{env.sha}",
    )
    podinfo = found["HelmRelease/podinfo"]
    assert ready(podinfo) == ("True", "InstallSucceeded", "Release reconciliation succeeded")
    assert podinfo["appliedBy"] == {"name": "cluster-config-apps", "namespace": "cluster-config"}
    assert podinfo["helmReleaseProperties"] == {
        "lastRevisionApplied": 1,
        "helmChartRef": {"name": "cluster-config-podinfo", "namespace": "cluster-config"},
        "failureCount": 0,
        "installFailureCount": 0,
        "upgradeFailureCount": 0,
    }
    assert found["HelmRelease/nginx"]["appliedBy"]["name"] == "cluster-config-infra"
    assert props["sourceSyncedCommitId"] == f"main/{env.sha}"
    assert props["errorMessage"] == ""
    assert props["statusUpdatedAt"].endswith("Z")
    assert props["sourceUpdatedAt"].endswith("Z")
    json.dumps(props)  # what ARM serves must be plain JSON
    assert [(a.ok, a.auth_method, a.revision) for a in env.flux.fetch_log] == [(True, "anonymous", f"main/{env.sha}")]


async def test_missing_path_fails_and_blocks_dependents(env: Env) -> None:
    record = env.put(
        kustomizations={
            "infra": {"path": "./infra-typo"},
            "apps": {"path": "./apps/staging", "dependsOn": ["infra"]},
        }
    )
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    found = statuses(record)
    status, reason, message = ready(found["Kustomization/cluster-config-infra"])
    assert (status, reason) == ("False", "ArtifactFailed")
    assert message.startswith("kustomization path not found: stat /tmp/kustomization-")
    assert message.endswith("/infra-typo: no such file or directory")
    assert ready(found["Kustomization/cluster-config-apps"]) == (
        "False",
        "DependencyNotReady",
        "dependency 'cluster-config/cluster-config-infra' is not ready",
    )
    assert record.properties["complianceState"] == "Non-Compliant"
    assert "infra-typo" in record.properties["errorMessage"]
    assert found["GitRepository/cluster-config"]["complianceState"] == "Compliant"


async def test_unparsable_manifest_is_a_build_failure_naming_the_file(env: Env) -> None:
    env.repos.commit(TUTORIAL_SLUG, {"apps/staging/broken.yaml": "kind: ConfigMap\nmetadata:\n  name: [x\n"}, "oops")
    env.repos.commit(
        TUTORIAL_SLUG,
        {"apps/staging/kustomization.yaml": "resources:\n  - ../base/podinfo\n  - broken.yaml\n"},
        "use it",
    )
    record = env.put()
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    status, reason, message = ready(statuses(record)["Kustomization/cluster-config-apps"])
    assert (status, reason) == ("False", "BuildFailed")
    assert message.startswith("kustomize build failed: apps/staging/broken.yaml: yaml: line ")
    assert statuses(record)["Kustomization/cluster-config-infra"]["complianceState"] == "Compliant"
    assert record.properties["complianceState"] == "Non-Compliant"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"a/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"},
            "a/x.yaml: ConfigMap in document 1",
        ),
        (
            {"a/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nfoo: bar\n"},
            "a/x.yaml: document 2: missing apiVersion or kind",
        ),
        (
            {"a/kustomization.yaml": "resources: [missing.yaml]\n"},
            "accumulating resources from 'missing.yaml'",
        ),
        ({"a/kustomization.yaml": "resources: [sub]\n", "a/sub/x.yaml": "x: 1\n"}, "unable to find one of"),
        ({"a/kustomization.yaml": "resources: [https://example.com/x.yaml]\n"}, "not served by the sandbox"),
        (
            {"a/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" * 2},
            "already registered id: ConfigMap.v1./c.[noNs]",
        ),
    ],
)
def test_build_failures(files: dict[str, str], expected: str) -> None:
    tree = {k: v.encode() for k, v in files.items()}
    build = build_kustomization(tree, "./a", {}, "ns", "/tmp/k-1")
    assert build.reason == "BuildFailed"
    assert expected in build.error


def test_build_generated_and_substituted() -> None:
    tree = {
        "clusters/prod/release.yaml": (
            b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
            b"metadata: {name: 'app-${env}', namespace: '${ns:=apps}'}\nspec: {interval: 1m}\n"
        ),
        "clusters/prod/notes.txt": b"not yaml: [",
        "clusters/prod/sub/kustomization.yaml": b"namespace: team\nresources: [hr.yaml]\n",
        "clusters/prod/sub/hr.yaml": (
            b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: x}\n"
        ),
    }
    build = build_kustomization(tree, "clusters/prod", {"env": "prod"}, "cluster-config", "/tmp/k-1")
    assert build.error == ""
    assert [(r.namespace, r.name) for r in build.releases] == [("apps", "app-prod"), ("team", "x")]


async def test_ssh_source_needs_a_registered_deploy_key(env: Env) -> None:
    private, public = make_key()
    url = f"ssh://git@github.com/{PRIVATE}"
    record = env.put(url=url, protected={"sshPrivateKey": b64(private)})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    status, reason, message = ready(statuses(record)["GitRepository/cluster-config"])
    assert (status, reason) == ("False", "GitOperationFailed")
    assert message == (
        f"failed to checkout and determine revision: unable to clone '{url}': ssh: handshake failed: "
        "ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain"
    )
    assert record.properties["complianceState"] == "Non-Compliant"
    assert ready(statuses(record)["Kustomization/cluster-config-infra"])[1] == "ArtifactFailed"
    assert ready(statuses(record)["Kustomization/cluster-config-infra"])[2] == (
        "Source artifact not found, retrying in 10m0s"
    )

    env.access.add_deploy_key("github.com", PRIVATE, public, title="flux-demo-arc")
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert record.properties["complianceState"] == "Compliant"
    first, second = env.flux.fetch_log
    assert (first.ok, second.ok) == (False, True)
    assert first.fingerprint == second.fingerprint
    assert second.fingerprint is not None
    assert second.fingerprint.startswith("SHA256:")
    assert second.auth_method == "ssh-key"


async def test_ssh_known_hosts_is_checked_before_the_key(env: Env) -> None:
    private, public = make_key()
    env.access.add_deploy_key("github.com", PRIVATE, public, title="flux-demo-arc")
    url = f"ssh://git@github.com/{PRIVATE}"
    _, stranger = make_key()
    record = env.put(url=url, sshKnownHosts=b64(f"github.com {stranger}\n"), protected={"sshPrivateKey": b64(private)})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    status, reason, message = ready(statuses(record)["GitRepository/cluster-config"])
    assert (status, reason) == ("False", "GitOperationFailed")
    assert message == (
        f"failed to checkout and determine revision: unable to clone '{url}': "
        "ssh: handshake failed: knownhosts: key mismatch"
    )
    assert record.properties["complianceState"] == "Non-Compliant"
    refused = env.flux.fetch_log[-1]
    assert (refused.ok, refused.auth_method, refused.fingerprint, refused.message) == (
        False,
        "ssh-key",
        None,  # no key was offered: the handshake failed first
        message,
    )

    record = env.put(url=url, sshKnownHosts=b64("gitlab.com " + stranger), protected={"sshPrivateKey": b64(private)})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2].endswith(
        "ssh: handshake failed: knownhosts: key is unknown"
    )

    known_hosts = "".join(f"github.com {key}\n" for key in env.access.host_keys("github.com"))
    record = env.put(url=url, sshKnownHosts=b64(known_hosts), protected={"sshPrivateKey": b64(private)})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert record.properties["complianceState"] == "Compliant"
    assert [a.ok for a in env.flux.fetch_log] == [False, False, True]

    # An scp-like URL names the same SSH server.
    record = env.put(
        url=f"git@github.com:{PRIVATE}.git",
        sshKnownHosts=b64(f"github.com {stranger}"),
        protected={"sshPrivateKey": b64(private)},
    )
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2].endswith("knownhosts: key mismatch")

    # The right known_hosts does not stand in for a deploy key.
    other_private, _ = make_key()
    record = env.put(
        url=f"git@github.com:{PRIVATE}.git",
        sshKnownHosts=b64(known_hosts),
        protected={"sshPrivateKey": b64(other_private)},
    )
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert "[none publickey]" in ready(statuses(record)["GitRepository/cluster-config"])[2]


async def test_ssh_known_hosts_for_unknown_repositories_and_bad_text(env: Env) -> None:
    private, _ = make_key()
    known_hosts = "".join(f"github.com {key}\n" for key in env.access.host_keys("github.com"))
    # An unknown repository still shows the host key failure first: it happens before any auth.
    # A [github.com]:2222 entry does not name github.com on port 22.
    record = env.put(
        url="ssh://git@github.com/org/missing",
        sshKnownHosts=b64(known_hosts.replace("github.com", "[github.com]:2222")),
        protected={"sshPrivateKey": b64(private)},
    )
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2] == (
        "failed to checkout and determine revision: unable to clone 'ssh://git@github.com/org/missing': "
        "ssh: handshake failed: knownhosts: key is unknown"
    )
    record = env.put(
        url="ssh://git@github.com/org/missing", sshKnownHosts="not base64!", protected={"sshPrivateKey": b64(private)}
    )
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2].endswith(
        "'ssh://git@github.com/org/missing': invalid known_hosts: not base64"
    )
    record = env.put(
        url="ssh://git@github.com/org/missing",
        sshKnownHosts=b64(known_hosts),
        protected={"sshPrivateKey": b64(private)},
    )
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert "[none publickey]" in ready(statuses(record)["GitRepository/cluster-config"])[2]


async def test_ssh_known_hosts_applies_with_a_local_auth_ref(env: Env) -> None:
    private, public = make_key()
    env.access.add_deploy_key("github.com", PRIVATE, public, title="flux")
    env.cluster.secrets["cluster-config/git-auth"] = {"identity": private}
    _, stranger = make_key()
    url = f"git@github.com:{PRIVATE}.git"
    record = env.put(url=url, localAuthRef="git-auth", sshKnownHosts=b64(f"github.com {stranger}"))
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2].endswith("knownhosts: key mismatch")
    right = "".join(f"github.com {key}\n" for key in env.access.host_keys("github.com"))
    record = env.put(url=url, localAuthRef="git-auth", sshKnownHosts=b64(right))
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert record.properties["complianceState"] == "Compliant"


async def test_broken_deploy_key_fails_the_fetch_until_cleared(env: Env) -> None:
    private, public = make_key()
    env.access.break_next_keys("github.com", PRIVATE)
    env.access.add_deploy_key("github.com", PRIVATE, public, title="flux-demo-arc")
    record = env.put(url=f"ssh://git@github.com/{PRIVATE}", protected={"sshPrivateKey": b64(private)})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert "[none publickey]" in ready(statuses(record)["GitRepository/cluster-config"])[2]
    env.access.clear_key_faults()
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert record.properties["complianceState"] == "Compliant"


async def test_fetch_attempts_filters_a_copy_of_the_log(env: Env) -> None:
    other = env.world.add_cluster(
        Cluster(env.world.subscriptions[0], "flux-demo-rg", "managedClusters", "Flux-Demo-AKS")
    )
    apps = env.put("apps")
    env.put("infra", url=f"https://github.com/{PRIVATE}")
    other.flux_configs["apps"] = FluxConfigRecord("apps", json.loads(json.dumps(apps.properties)), {}, {})
    await env.flux.reconcile_now(env.cluster, "apps")
    await env.flux.reconcile_now(env.cluster, "infra")
    await env.flux.reconcile_now(other, "apps")
    middle = env.flux.fetch_log[1].wall
    await env.flux.reconcile_now(env.cluster, "apps")

    everything = env.flux.fetch_attempts()
    assert everything == env.flux.fetch_log
    assert everything is not env.flux.fetch_log
    everything.clear()
    assert len(env.flux.fetch_log) == 4

    arc = env.flux.fetch_attempts(cluster_name="FLUX-DEMO-ARC")
    assert [(a.config, a.ok) for a in arc] == [("apps", True), ("infra", False), ("apps", True)]
    assert [a.cluster_id for a in env.flux.fetch_attempts(cluster_name="flux-demo-aks")] == [other.id]
    assert len(env.flux.fetch_attempts(config="APPS")) == 3
    assert [a.config for a in env.flux.fetch_attempts(cluster_name="flux-demo-arc", config="Apps")] == ["apps", "apps"]
    assert env.flux.fetch_attempts(since_wall=middle) == env.flux.fetch_log[1:]
    assert env.flux.fetch_attempts(cluster_name="flux-demo-arc", config="apps", since_wall=middle) == [
        env.flux.fetch_log[3]
    ]
    assert env.flux.fetch_attempts(cluster_name="flux-demo") == []
    assert env.flux.fetch_attempts(since_wall=time.time() + 60) == []


async def test_https_private_repo_needs_a_token(env: Env) -> None:
    url = f"https://github.com/{PRIVATE}"
    record = env.put(url=url)
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2].endswith(f"'{url}': authentication required")

    env.access.add_token("github.com", PRIVATE, "flux", "pat-1")
    record = env.put(url=url, httpsUser="flux", protected={"httpsKey": b64("pat-1")})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert record.properties["complianceState"] == "Compliant"
    assert env.flux.fetch_log[-1].auth_method == "https-token"


async def test_local_auth_ref_reads_the_cluster_secret(env: Env) -> None:
    private, public = make_key()
    env.access.add_deploy_key("github.com", PRIVATE, public, title="flux")
    record = env.put(url=f"git@github.com:{PRIVATE}.git", localAuthRef="git-auth")
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2] == (
        "failed to get secret 'cluster-config/git-auth': secrets \"git-auth\" not found"
    )
    env.cluster.secrets["cluster-config/git-auth"] = {"identity": private}
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert record.properties["complianceState"] == "Compliant"


async def test_pushed_commit_is_picked_up_on_the_next_interval(env: Env) -> None:
    record = env.put(interval=200)  # 200 s at time scale 1000: every 0.2 s
    env.flux.config_changed(env.cluster, "cluster-config")
    await wait_for(lambda: record.properties["complianceState"] == "Compliant")
    first_updated = record.properties["sourceUpdatedAt"]
    new = env.repos.commit(
        TUTORIAL_SLUG,
        {"apps/base/podinfo/release.yaml": tutorial_files()["apps/base/podinfo/release.yaml"] + "# x\n"},
        "bump",
    )
    await wait_for(lambda: record.properties["sourceSyncedCommitId"] == f"main/{new}")
    await wait_for(lambda: ready(statuses(record)["Kustomization/cluster-config-apps"])[2].endswith(new))
    assert record.properties["complianceState"] == "Compliant"
    assert record.properties["sourceUpdatedAt"] >= first_updated


async def test_changed_release_is_an_upgrade(env: Env) -> None:
    record = env.put()
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    release = tutorial_files()["apps/base/podinfo/release.yaml"].replace("replicaCount: 1", "replicaCount: 3")
    env.repos.commit(TUTORIAL_SLUG, {"apps/base/podinfo/release.yaml": release}, "scale")
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    podinfo = statuses(record)["HelmRelease/podinfo"]
    assert podinfo["helmReleaseProperties"]["lastRevisionApplied"] == 2
    assert ready(podinfo)[1] == "UpgradeSucceeded"
    assert statuses(record)["HelmRelease/nginx"]["helmReleaseProperties"]["lastRevisionApplied"] == 1


async def test_suspended_config_is_not_reconciled(env: Env) -> None:
    record = env.put()
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    record = env.put(suspend=True)
    env.flux.config_changed(env.cluster, "cluster-config")
    assert record.properties["complianceState"] == "Suspended"
    assert len(record.properties["statuses"]) == 6  # the last report stays
    assert loop_of(env) is None  # no reconcile loop was started that could fetch later
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert record.properties["complianceState"] == "Suspended"
    assert len(env.flux.fetch_log) == 1

    record = env.put(suspend=False)
    env.flux.config_changed(env.cluster, "cluster-config")
    await wait_for(lambda: record.properties["complianceState"] == "Compliant")


async def test_semver_ref(env: Env) -> None:
    for tag in ("v1.0.0", "v1.4.2", "v2.0.0"):
        env.repos.tag(TUTORIAL_SLUG, tag, env.repos.commit(TUTORIAL_SLUG, {"VERSION": tag}, tag))
    record = env.put(ref={"semver": ">=1.0.0 <2.0.0"})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    sha = env.repos.rev_parse(env.repos.resolve_url(TUTORIAL_URL), "tag", "v1.4.2")  # type: ignore[arg-type]
    assert record.properties["sourceSyncedCommitId"] == f"v1.4.2/{sha}"
    assert record.properties["complianceState"] == "Compliant"

    record = env.put(ref={"semver": ">=3.0.0"})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2] == (
        "failed to checkout and determine revision: no match found for semver: >=3.0.0"
    )


async def test_commit_and_missing_branch_refs(env: Env) -> None:
    record = env.put(ref={"commit": env.sha})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert record.properties["sourceSyncedCommitId"] == env.sha
    record = env.put(ref={"branch": "nope"})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2].endswith(
        'couldn\'t find remote ref "refs/heads/nope"'
    )
    # The artifact fetched before survives, so the kustomizations stay applied at the old revision.
    assert record.properties["sourceSyncedCommitId"] == env.sha
    assert ready(statuses(record)["Kustomization/cluster-config-apps"])[0] == "True"


async def test_unknown_host_and_sources_without_their_servers(env: Env) -> None:
    record = env.put(url="https://githb.com/Azure/gitops-flux2-kustomize-helm-mt")
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert ready(statuses(record)["GitRepository/cluster-config"])[2].endswith(
        "dial tcp: lookup githb.com: no such host"
    )
    record = env.put(source_kind="AzureBlob")
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    source = statuses(record)["Bucket/cluster-config"]
    assert ready(source)[0] == "False"
    # this sandbox was started without its source servers: the source says so (tests/sandbox/test_source_servers.py
    # fetches them from real ones)
    assert ready(source)[2] == (
        "AzureBlob sources cannot be fetched in this sandbox: the sandbox was started without its source servers"
    )


async def test_stale_reconcile_never_overwrites_a_newer_config(env: Env) -> None:
    env.flux.step_seconds = 0.2
    env.put()
    env.flux.config_changed(env.cluster, "cluster-config")
    # the old reconcile has fetched and is between steps when the newer config is written
    await wait_for(lambda: any(a.config == "cluster-config" for a in env.flux.fetch_log))
    old = loop_of(env)
    assert old is not None
    newer = env.put(url=f"https://github.com/{PRIVATE}")  # written, agent not told yet
    newer.properties["statuses"] = []
    await asyncio.wait_for(old, 5)  # the old reconcile ends when it notices it is stale
    assert newer.properties["statuses"] == []
    assert newer.properties["complianceState"] == "Pending"


async def test_deleted_config_stops_reconciling(env: Env) -> None:
    in_flight = count_fetches_in_flight(env)
    env.put(interval=100)
    env.flux.config_changed(env.cluster, "cluster-config")
    await wait_for(lambda: len(env.flux.fetch_log) >= 2)
    running = loop_of(env)
    assert running is not None
    del env.cluster.flux_configs["cluster-config"]
    env.flux.config_deleted(env.cluster, "cluster-config")
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(running, 5)
    assert running.cancelled() and loop_of(env) is None  # nothing left that could fetch it again
    await wait_for(lambda: in_flight() == 0)  # a fetch already running in a thread may still land
    assert loop_of(env) is None and in_flight() == 0  # no loop and no fetch left: the log is final


async def test_fetch_log_and_statuses_never_hold_secrets(env: Env) -> None:
    private, public = make_key()
    env.access.add_token("github.com", PRIVATE, "flux", "pat-secret-value")
    env.put(url=f"ssh://git@github.com/{PRIVATE}", protected={"sshPrivateKey": b64(private)})
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    env.access.add_deploy_key("github.com", PRIVATE, public, title="flux")
    await env.flux.reconcile_now(env.cluster, "cluster-config")
    for token in ("pat-secret-value", "wrong-secret-value"):
        env.put(
            url=f"https://flux:{token}@github.com/{PRIVATE}",
            httpsUser="flux",
            protected={"httpsKey": b64(token)},
        )
        await env.flux.reconcile_now(env.cluster, "cluster-config")
    assert [a.ok for a in env.flux.fetch_log] == [False, True, True, False]
    # The spec's own URL is the user's input; what the agent reports must not add any secret.
    props = env.cluster.flux_configs["cluster-config"].properties
    text = repr(env.flux.fetch_log) + json.dumps([props["statuses"], props["errorMessage"]])
    body = "".join(private.splitlines()[1:-1])
    for secret in (body[:40], body[-40:], b64(private)[:40], "pat-secret-value", "wrong-secret-value"):
        assert secret not in text


async def test_fleet_of_clusters_shares_one_checkout(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    archives: list[str] = []
    real = env.repos._archive

    def counting(path: Path, sha: str) -> Mapping[str, bytes]:
        archives.append(sha)
        return real(path, sha)

    monkeypatch.setattr(env.repos, "_archive", counting)
    clusters = env.world.add_fleet(200)
    properties = env.put().properties
    for cluster in clusters:
        cluster.flux_configs["cluster-config"] = FluxConfigRecord(
            "cluster-config", json.loads(json.dumps(properties)), {}, {}
        )
    started = time.monotonic()
    await asyncio.gather(*(env.flux.reconcile_now(c, "cluster-config") for c in clusters))
    assert time.monotonic() - started < 30
    assert {c.flux_configs["cluster-config"].properties["complianceState"] for c in clusters} == {"Compliant"}
    assert archives == [env.sha]
