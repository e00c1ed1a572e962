"""What the help topics share: the Topic record and the flag texts several commands repeat."""

from __future__ import annotations

from dataclasses import dataclass

TUTORIAL_EXAMPLE = (
    "/flux config create cluster-config -c flux-demo-arc -g flux-demo-rg -t connectedClusters "
    "--namespace cluster-config --scope cluster -u https://github.com/Azure/gitops-flux2-kustomize-helm-mt "
    "--branch main --kustomization name=infra path=./infrastructure prune=true "
    "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"
)


@dataclass(frozen=True)
class Topic:
    usage: str
    summary: str  # one line, for the overview
    description: str
    flags: tuple[tuple[str, str], ...] = ()
    examples: tuple[str, ...] = ()


CLUSTER_FLAGS = (
    ("-c, --cluster CLUSTER", "the cluster: an inventory alias, a cluster name or an ARM id (required)"),
    ("-g, --resource-group RG", "its resource group, when the name is not unique"),
    ("-t, --cluster-type TYPE", "`managedClusters` (AKS) or `connectedClusters` (Arc), when the name is not unique"),
)
SOURCE_FLAGS = (
    (
        "-u, --url URL",
        "the source: git `https://`, `http://`, `ssh://` or `git@host:path`; `https://` for "
        "bucket and azblob; `oci://` for oci",
    ),
    ("--branch B | --tag T | --semver R | --commit SHA", "the git ref to follow (exactly one on create)"),
    ("--interval, --sync-interval DURATION", "how often the source is fetched (default `10m`)"),
    ("--timeout DURATION", "how long a fetch may take (default `10m`)"),
    ("--https-user USER --https-key-ref REF", "HTTPS credentials: the user and a token fluxops holds"),
    ("--ssh-private-key-ref REF", "an SSH private key fluxops holds (SSH URLs only)"),
    ("--known-hosts-ref REF", "known hosts fluxops holds (SSH URLs only)"),
    ("--https-ca-cert REF", "a reference to the CA certificate (PEM) fluxops holds for the HTTPS server"),
)
KUSTOMIZATION_KEYS = (
    "`name=` (required), `path=`, `depends_on=A,B`, `prune=`, `force=`, `wait=`, `interval=`, "
    "`retry_interval=`, `timeout=`, `substitute=k:v,k2:v2`, "
    "`substitute_from=ConfigMap:NAME,Secret:NAME[:optional]`"
)
CHANNEL_FLAG = (
    "--channel CHANNEL",
    "a Slack channel id such as `C0123ABC` (see the channel's details), or a `#channel` mention when Slack "
    "passes its id; default: the channel you type in",
)
DURATIONS = "Durations look like `1h2m5s`, `10m`, `30s`. Booleans are `true`/`false` (or `yes`/`no`)."
SECRETS = (
    "Secrets are never typed into chat: `--deploy-key generate` makes a key, and the `...-ref` flags name "
    "credentials fluxops holds."
)
