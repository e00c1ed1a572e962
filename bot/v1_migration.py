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
from bot.repo_urls import is_ssh_url, parse_repo_url
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


def _words(text: str | None) -> list[str]:
    try:
        return shlex.split(text or "")
    except ValueError:
        return (text or "").split()


def _flags(text: str | None) -> list[tuple[str, str]]:
    """Every ``--flag`` of the operator's arguments with its value, in order, repeats kept: ``--flag=value``,
    ``--flag value`` (a next word not starting with ``--``) or a bare ``--flag`` ("")."""
    words = _words(text)
    found: list[tuple[str, str]] = []
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
        found.append((key, value))
    return found


def operator_params(text: str | None) -> dict[str, str]:
    """``--git-readonly --git-branch=main --git-path releases`` as {"git-readonly": "", "git-branch": "main", ...}
    (a flag given twice: its last value, as the operator's flag parser keeps it)."""
    return dict(_flags(text))


def git_paths(text: str | None) -> tuple[str, ...]:
    """Every path ``--git-path`` names: the operator takes the flag repeated and each value comma-separated
    (``--git-path=a,b --git-path c`` syncs a, b and c); () for the repository root."""
    paths = [p.strip() for key, value in _flags(text) if key == "git-path" for p in value.split(",")]
    return tuple(dict.fromkeys(p for p in paths if p))


def _flag_on(params: dict[str, str], key: str) -> bool:
    """A boolean flag of the operator: bare ``--key`` or ``--key=true`` is on; absent or ``=false`` is off."""
    return key in params and params[key].strip().lower() not in ("false", "0", "f")


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


def kustomization_names(count: int) -> tuple[str, ...]:
    """``sync``, ``sync-2``, ``sync-3``... one per v1 path."""
    return tuple(KUSTOMIZATION_NAME if i == 0 else f"{KUSTOMIZATION_NAME}-{i + 1}" for i in range(count))


def migration(v1: V1Config) -> Migration:
    """The Flux v2 equivalent of ``v1``."""
    params = operator_params(v1.operator_params)
    branch = params.get("git-branch") or DEFAULT_BRANCH
    paths = git_paths(v1.operator_params) or ("",)
    poll = params.get("git-poll-interval")
    interval = _poll_seconds(poll)
    prune = _flag_on(params, "sync-garbage-collection")
    url = v2_url(v1.repository_url)
    ssh = is_ssh_url(url)
    spec = FluxConfigSpec(
        name=v1.name,
        source=GitSource(url=url, ref=RepositoryRef(branch=branch), sync_interval_seconds=interval),
        namespace=v1.operator_namespace or "default",
        scope=v1.operator_scope or "cluster",
        kustomizations=tuple(
            Kustomization(name=name, path=path, prune=prune, sync_interval_seconds=interval)
            for name, path in zip(kustomization_names(len(paths)), paths, strict=True)
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
    if len(paths) > 1:
        notes.append(
            f"v1 synced {len(paths)} paths as one; each becomes its own kustomization "
            f"({', '.join(k.name + ' ' + (k.path or './') for k in spec.kustomizations)}), none depending on another"
        )
    if not ssh and url.startswith(("https://", "http://")):
        notes.append(
            "HTTPS credentials v1 may hold (its protected settings) cannot be read back from Azure, so v2 reads the "
            "repository without any; for a private repository create v2 yourself with `--https-user USER "
            "--https-key-ref REF` instead"
        )
    if not _flag_on(params, "git-readonly") and ("git-user" in params or "git-email" in params):
        notes.append("v1 wrote to the repository; Flux v2 only reads it (image automation is a separate feature)")
    return Migration(spec=spec, deploy_key=ssh, notes=tuple(notes))


def v2_command(migration: Migration, label: str, *, https_user: str | None = None) -> str:
    """The `/flux config create` that makes the same configuration by hand, quoted so it parses as typed.
    ``https_user``: with ``--https-user USER --https-key-ref REF`` (an HTTPS URL) instead of a deploy key."""
    spec = migration.spec
    source = spec.source
    assert isinstance(source, GitSource)
    q = shlex.quote
    words = [
        f"/flux config create {q(spec.name)} -c {q(label)}",
        f"-u {q(source.url)}",
        f"--branch {q(source.ref.branch or DEFAULT_BRANCH)}",
        f"--namespace {q(spec.namespace)}",
        f"--scope {q(spec.scope)}",
        f"--interval {source.sync_interval_seconds // 60 or 1}m",
    ]
    if https_user is not None:
        words.append(f"--https-user {q(https_user)} --https-key-ref REF")
    elif migration.deploy_key:
        words.append("--deploy-key generate")
    for k in spec.kustomizations:
        prune = "true" if k.prune else "false"
        words.append(f"--kustomization name={q(k.name)} {q('path=' + (k.path or './'))} prune={prune}")
    return " ".join(words)


def https_url(url: str) -> str | None:
    """The HTTPS address of the repository an SSH URL names (``ssh.dev.azure.com/v3/o/p/r`` ->
    ``dev.azure.com/o/p/_git/r``); None when ``url`` names none."""
    parsed = parse_repo_url(url)
    if parsed is None:
        return None
    _, host, _ = parsed
    path = url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url.split(":", 1)[-1]
    segments = [s for s in path.split("/") if s]
    if host == "dev.azure.com":
        if len(segments) != 4:
            return None
        org, project, repo = segments[1:]
        return f"https://dev.azure.com/{org}/{project}/_git/{repo.removesuffix('.git')}"
    return f"https://{host.split(':')[0]}/{'/'.join(segments)}"


def az_v1_delete(cluster: ClusterRef, name: str) -> str:
    """The `az k8s-configuration delete` that deletes Flux v1 configuration ``name`` by hand."""
    return (
        f"az k8s-configuration delete -g {cluster.resource_group} -c {cluster.name} "
        f"-t {cluster.cluster_type.value} -n {name} --yes"
    )


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
