"""From a Flux v1 configuration to the Flux v2 configuration that does the same (pure).

The seed Flux v1 tutorial's operator parameters decide it: ``--git-branch`` (default ``master``), ``--git-path``
(default the repository root), ``--git-poll-interval`` (default 5m) and ``--sync-garbage-collection`` (prune).
The operator namespace becomes the v2 configuration's namespace, its scope the v2 scope, and the repository one
GitRepository with one Kustomization. ``git://`` URLs (the tutorial shows one) are read over HTTPS: Flux v2 does not
speak the git protocol. An SSH repository gets a new deploy key: the v1 operator generated its key on the cluster
and its private half cannot be read, so it cannot be carried.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import asdict, dataclass

from bot.models import ClusterRef, ClusterType, FluxConfigSpec, GitSource, Kustomization, RepositoryRef, V1Config
from bot.repo_urls import is_ssh_url
from bot.usage import UsageError
from bot.values import seconds

#: the v1 operator's defaults (the Flux v1 tutorial's option table)
DEFAULT_BRANCH = "master"
DEFAULT_POLL_SECONDS = 300
KUSTOMIZATION_NAME = "sync"


@dataclass(frozen=True)
class Migration:
    """The v2 configuration to create, whether it needs a new deploy key, and what does not carry over."""

    spec: FluxConfigSpec
    deploy_key: bool
    notes: tuple[str, ...]


def operator_params(text: str | None) -> dict[str, str]:
    """``--git-readonly --git-branch=main --git-path releases`` as {"git-readonly": "", "git-branch": "main", ...}."""
    try:
        words = shlex.split(text or "")
    except ValueError:
        words = (text or "").split()
    found: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("--"):
            continue
        key, sep, value = word[2:].partition("=")
        if not sep and index < len(words) and not words[index].startswith("--"):
            value = words[index]
            index += 1
        found[key] = value
    return found


def _poll_seconds(text: str | None) -> int:
    """``--git-poll-interval`` (``5m``, ``1h``) in seconds; the v1 default when absent or unreadable."""
    if not text:
        return DEFAULT_POLL_SECONDS
    try:
        return seconds(text, "--git-poll-interval")
    except UsageError:
        return DEFAULT_POLL_SECONDS


_SCP_LIKE = re.compile(r"^(?P<user>[^@/\s]+)@(?P<host>[^:/\s]+):(?P<path>[^\s]+)$")


def v2_url(url: str) -> str:
    """The URL Flux v2 reads: ``git://host/path`` over HTTPS, scp-like ``git@host:org/repo`` as ``ssh://`` (Flux v2
    takes SSH URLs only in that form); everything else as it is."""
    if url.startswith("git://"):
        return "https://" + url.removeprefix("git://")
    scp = _SCP_LIKE.match(url)
    if scp and "://" not in url:
        return f"ssh://{scp['user']}@{scp['host']}/{scp['path'].lstrip('/')}"
    return url


def migration(v1: V1Config) -> Migration:
    """The Flux v2 equivalent of ``v1``."""
    params = operator_params(v1.operator_params)
    branch = params.get("git-branch") or DEFAULT_BRANCH
    path = params.get("git-path") or ""
    poll = params.get("git-poll-interval")
    interval = _poll_seconds(poll)
    prune = "sync-garbage-collection" in params and params["sync-garbage-collection"].lower() != "false"
    url = v2_url(v1.repository_url)
    ssh = is_ssh_url(url)
    spec = FluxConfigSpec(
        name=v1.name,
        source=GitSource(url=url, ref=RepositoryRef(branch=branch), sync_interval_seconds=interval),
        namespace=v1.operator_namespace or "default",
        scope=v1.operator_scope or "cluster",
        kustomizations=(
            Kustomization(name=KUSTOMIZATION_NAME, path=path, prune=prune, sync_interval_seconds=interval),
        ),
    )
    notes: list[str] = []
    if url != v1.repository_url and v1.repository_url.startswith("git://"):
        notes.append(f"the v1 URL {v1.repository_url} is read over HTTPS: Flux v2 does not speak git://")
    elif url != v1.repository_url:
        notes.append(f"the v1 URL {v1.repository_url} is written {url}, the form Flux v2 takes")
    if ssh:
        notes.append(
            "a new deploy key is generated and registered on the repository: the v1 operator's key stays on the "
            "cluster and cannot be read"
        )
    if v1.ssh_known_hosts:
        notes.append("the v1 SSH known_hosts are not carried: fluxops pins the Git host's published host keys")
    if v1.enable_helm_operator:
        notes.append(
            "the Helm operator is replaced by Flux v2's helm-controller: HelmReleases of helm.fluxcd.io/v1 must be "
            "rewritten as helm.toolkit.fluxcd.io/v2 in the repository"
        )
    if "manifest-generation" in params:
        notes.append("--manifest-generation (.flux.yaml) has no v2 equivalent: the kustomization builds the path")
    if "git-readonly" not in params and ("git-user" in params or "git-email" in params):
        notes.append("v1 wrote to the repository; Flux v2 only reads it (image automation is a separate feature)")
    return Migration(spec=spec, deploy_key=ssh, notes=tuple(notes))


def v2_command(migration: Migration, label: str) -> str:
    """The `/flux config create` that makes the same configuration by hand."""
    spec = migration.spec
    source = spec.source
    assert isinstance(source, GitSource)
    k = spec.kustomizations[0]
    words = [
        f"/flux config create {spec.name} -c {label}",
        f"-u {source.url}",
        f"--branch {source.ref.branch}",
        f"--namespace {spec.namespace}",
        f"--scope {spec.scope}",
        f"--interval {source.sync_interval_seconds // 60 or 1}m",
    ]
    if migration.deploy_key:
        words.append("--deploy-key generate")
    kustomization = f"--kustomization name={k.name} path={k.path or './'} prune={'true' if k.prune else 'false'}"
    return " ".join([*words, kustomization])


def az_v1_create(v1: V1Config, cluster: ClusterRef) -> str:
    """The `az k8s-configuration create` of the v1 tutorial that makes ``v1`` again (if Azure still takes it)."""
    words = [
        "az k8s-configuration create",
        f"-g {cluster.resource_group} -c {cluster.name} -t {cluster.cluster_type.value}",
        f"-n {v1.name}",
        f"--repository-url {v1.repository_url}",
        f"--operator-instance-name {v1.operator_instance_name or v1.name}",
        f"--operator-namespace {v1.operator_namespace or 'default'}",
        f"--scope {v1.operator_scope or 'cluster'}",
    ]
    if v1.operator_params:
        words.append(f"--operator-params='{v1.operator_params}'")
    if v1.enable_helm_operator:
        words.append("--enable-helm-operator")
        if v1.helm_chart_version:
            words.append(f"--helm-operator-chart-version='{v1.helm_chart_version}'")
        if v1.helm_chart_values:
            words.append(f"--helm-operator-params='{v1.helm_chart_values}'")
    return " ".join(words)


def v1_to_json(v1: V1Config) -> str:
    """``v1`` as the job keeps it (it is gone from Azure once deleted; recovery needs its fields)."""
    data = asdict(v1)
    data["cluster"] = {**data["cluster"], "cluster_type": v1.cluster.cluster_type.value}
    return json.dumps(data, sort_keys=True)


def v1_from_json(text: str) -> V1Config:
    data = json.loads(text)
    cluster = data.pop("cluster")
    ref = ClusterRef(
        cluster["subscription_id"],
        cluster["resource_group"],
        ClusterType(cluster["cluster_type"]),
        cluster["name"],
    )
    return V1Config(cluster=ref, **data)
