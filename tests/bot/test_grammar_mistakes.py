"""The mistakes people make, with the exact reply each gets: mistyped flags and commands, and commands shaped
like the Flux CLI's, kubectl's, helm's and az's (Flux v2 and the retired v1).

A reply must point the right way: a flag suggested for a typo is one of the same family (never another auth
method), a command from another tool gets the fluxops command that does its job, a word where the cluster
belongs is shown after ``-c``, a flag az spells differently or takes as a literal secret gets the fluxops flag.
"""

from __future__ import annotations

import pytest

from bot.commands import Reply
from bot.grammar import parse

USAGE_CONFIG_CREATE = (
    "Usage: `/flux config create NAME -c CLUSTER -u URL (--branch B | --tag T | --semver R | --commit SHA) "
    "[--namespace NS] [--scope cluster|namespace] [--kind git|bucket|azblob|oci] "
    "[--kustomization name=K path=P ...]... [--no-wait]`"
)
USAGE_STATUS = "Usage: `/flux status [NAME] -c CLUSTER`"
USAGE_CONFIG_LIST = "Usage: `/flux config list -c CLUSTER`"
USAGE_RESUME = "Usage: `/flux resume NAME -c CLUSTER`"
USAGE_SUSPEND = "Usage: `/flux suspend NAME -c CLUSTER`"
USAGE_RECONCILE = "Usage: `/flux reconcile NAME -c CLUSTER [-g RG] [-t TYPE] [--with-source] [--kustomization K]`"
USAGE_EVENTS = "Usage: `/flux events NAME -c CLUSTER [--kind KIND] [--since 1h]`"
USAGE_KEY_ROTATE = (
    "Usage: `/flux key rotate (NAME -c CLUSTER [-g RG] [-t TYPE] | --repo URL | --key ID | --https-key-ref REF)`"
)
USAGE_EXTENSION_CREATE = (
    "Usage: `/flux extension create -c CLUSTER [--name flux] [--version V --auto-upgrade false] "
    "[--release-train stable|preview] [--scope cluster --release-namespace NS] [--config KEY=VALUE ...]... "
    "[--no-wait]`"
)
USAGE_FLEET_APPLY = (
    "Usage: `/flux fleet apply NAME --clusters KEY=VALUE,... [--waves 1,10%,100%] [--max-parallel N] "
    "<config create / config update flags>`"
)
USAGE_KUSTOMIZATION_LIST = "Usage: `/flux kustomization list --config CONFIG -c CLUSTER`"
USAGE_KUSTOMIZATION_CREATE = (
    "Usage: `/flux kustomization create NAME --config CONFIG -c CLUSTER [--path P] [--depends-on A,B] [--prune] "
    "[--force] [--wait] [--interval D] [--retry-interval D] [--timeout D] [--substitute k:v,...] "
    "[--substitute-from ConfigMap:NAME,...] [--no-wait]`"
)
USAGE_WATCH = (
    "Usage: `/flux watch NAME -c CLUSTER [-g RG] [-t TYPE] [--channel CHANNEL] | "
    "/flux watch [NAME] --clusters KEY=VALUE,... [--channel CHANNEL]`"
)
USAGE_CLUSTERS = "Usage: `/flux clusters [--selector KEY=VALUE,...]`"
USAGE_EXTENSION_LIST = "Usage: `/flux extension list -c CLUSTER`"
USAGE_DEPLOYED_OBJECT_SHOW = (
    "Usage: `/flux deployed-object show NAME -c CLUSTER --object-name OBJECT --object-kind KIND "
    "[--object-namespace NAMESPACE]`"
)
USAGE_CONFIG_DELETE = "Usage: `/flux config delete NAME -c CLUSTER [--force] [--no-wait]`"
#: an Azure Blob configuration up to its credentials
BLOB = (
    "/flux config create apps -c prod -u https://acct.blob.core.windows.net/c --kind azblob --container-name manifests"
)
SP = "--sp-client-id 00000000-0000-0000-0000-000000000000 --tenant-id 11111111-1111-1111-1111-111111111111"
GIT = "/flux config create apps -c prod -u https://github.com/org/repo --branch main"
OCI = "/flux config create apps -c prod -u oci://ghcr.io/org/manifests --kind oci --tag v1"

#: (what was typed, the lines of the reply)
MISTAKES: list[tuple[str, ...]] = [
    (
        "/flux get kustomizations -A",
        (
            "`get kustomizations` is not a /flux command. To list a configuration's kustomizations: `/flux "
            "kustomization list --config CONFIG -c CLUSTER`; `/flux status -c CLUSTER` shows every configuration "
            "on the cluster."
        ),
        "See `/flux help kustomization list`.",
    ),
    (
        "/flux deploy apps to prod",
        (
            "`deploy` is not a /flux command. fluxops deploys from Git: `/flux config create NAME -c CLUSTER -u "
            "URL --branch main --kustomization name=apps path=./apps` makes a cluster follow a repository, "
            "`/flux reconcile NAME -c CLUSTER` applies its newest commit now, and `/flux fleet apply NAME "
            "--clusters SELECTOR ...` rolls a configuration out over many clusters."
        ),
        "See `/flux help`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --https-ca-cert-file ca.pem",
        "`--https-ca-cert-file` is not an option of `config create`. Did you mean `--https-ca-cert`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --https-ca-crt ca-ref",
        "`--https-ca-crt` is not an option of `config create`. Did you mean `--https-ca-cert`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        f"{BLOB} {SP} --sp-client-secret s3cr3t",
        (
            "`--sp-client-secret` would put a secret into chat, and secrets are never typed into chat. Use "
            "`--sp-client-id GUID --tenant-id GUID` with `--sp-client-secret-ref REF` or `--sp-client-cert-ref REF` "
            "(a service principal secret or certificate fluxops holds), or `--managed-identity-client-id GUID` "
            "instead; if you already sent a real secret, rotate it."
        ),
        "See `/flux help`.",
    ),
    (
        (
            "/flux config create apps -c prod -u https://github.com/org/repo --branch main --kustomization "
            "name=apps path=./apps prune"
        ),
        "`--kustomization` takes `KEY=VALUE` words, not `prune`. Write `prune=true`.",
        "See `/flux help config create`.",
    ),
    (
        "/flux resume cluster-config demo-arc",
        "Unexpected word `demo-arc`. Put the cluster after `-c`: `/flux resume cluster-config -c demo-arc`.",
        USAGE_RESUME,
        "See `/flux help resume`.",
    ),
    (
        "az k8s-configuration list -c demo-arc",
        (
            "`az k8s-configuration list` is the retired Flux v1 command. `/flux v1 list -c CLUSTER` lists the "
            "Flux v1 configurations left on a cluster; `/flux config list -c CLUSTER` lists the Flux v2 ones."
        ),
        "See `/flux help v1`.",
    ),
    (
        "az k8s-configuration create -n cluster-config -c demo-arc",
        (
            "`az k8s-configuration create` is the retired Flux v1 command. `/flux config create NAME -c CLUSTER "
            "-u URL --branch main` creates a Flux v2 configuration (as `az k8s-configuration flux create` does); "
            "`/flux v1 migrate NAME -c CLUSTER` moves a v1 one to v2."
        ),
        "See `/flux help v1`.",
    ),
    (
        "az k8s-configuration delete -n cluster-config -c demo-arc",
        (
            "`az k8s-configuration delete` is the retired Flux v1 command. `/flux v1 migrate NAME -c CLUSTER` "
            "replaces a Flux v1 configuration with Flux v2 (the v1 one is deleted); `/flux config delete NAME -c "
            "CLUSTER` deletes a Flux v2 one."
        ),
        "See `/flux help v1`.",
    ),
    (
        "flux deployed-object list",
        "`flux` is not a /flux command. Leave it out: `/flux deployed-object list`.",
        "See `/flux help`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --brnach main",
        "`--brnach` is not an option of `config create`. Did you mean `--branch`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --namespce apps",
        "`--namespce` is not an option of `config create`. Did you mean `--namespace`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --kustomisation name=apps",
        "`--kustomisation` is not an option of `config create`. Did you mean `--kustomization`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --path ./apps",
        (
            "`--path` is not an option of `config create`. Kustomization fields go inside `--kustomization`: "
            "write `--kustomization name=NAME path=./apps`."
        ),
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --prune",
        (
            "`--prune` is not an option of `config create`. Kustomization fields go inside `--kustomization`: "
            "write `--kustomization name=NAME prune=true`."
        ),
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --depends-on infra",
        (
            "`--depends-on` is not an option of `config create`. Kustomization fields go inside "
            "`--kustomization`: write `--kustomization name=NAME depends_on=infra`."
        ),
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --git-branch main",
        "`--git-branch` is not an option of `config create`. Did you mean `--branch`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod --repository-url https://github.com/org/repo --branch main",
        "`--repository-url` is not an option of `config create`. Did you mean `--url`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --https-usr bot",
        "`--https-usr` is not an option of `config create`. Did you mean `--https-user`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --https-key-rf pat",
        "`--https-key-rf` is not an option of `config create`. Did you mean `--https-key-ref`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u ssh://git@github.com/org/repo --branch main --ssh-key-ref key",
        "`--ssh-key-ref` is not an option of `config create`. Did you mean `--ssh-private-key-ref`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        (
            "/flux config create apps -c prod -u https://acct.blob.core.windows.net/c --kind azblob "
            "--mi-clientid 00000000-0000-0000-0000-000000000000"
        ),
        "`--mi-clientid` is not an option of `config create`. Did you mean `--mi-client-id`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://acct.blob.core.windows.net/c --kind azblob --sas-tokn-ref sas",
        "`--sas-tokn-ref` is not an option of `config create`. Did you mean `--sas-token-ref`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://acct.blob.core.windows.net/c --kind azblob --acount-key-ref key",
        "`--acount-key-ref` is not an option of `config create`. Did you mean `--account-key-ref`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://s3.amazonaws.com --kind bucket --bucket-nme b --access-key AKIA",
        "`--bucket-nme` is not an option of `config create`. Did you mean `--bucket-name`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u oci://ghcr.io/org/manifests --kind oci --tag v1 --digset sha256:abc",
        "`--digset` is not an option of `config create`. Did you mean `--digest`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --resource-grup rg",
        "`--resource-grup` is not an option of `config create`. Did you mean `--resource-group`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --intervall 5m",
        "`--intervall` is not an option of `config create`. Did you mean `--interval`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        (
            "/flux config create apps -c prod -u https://github.com/org/repo --branch main --kustomization "
            "name=apps path=./apps wait"
        ),
        "`--kustomization` takes `KEY=VALUE` words, not `wait`. Write `wait=true`.",
        "See `/flux help config create`.",
    ),
    (
        (
            "/flux config create apps -c prod -u https://github.com/org/repo --branch main --kustomization "
            "name=apps pth=./apps"
        ),
        "`pth` is not a kustomization key. Did you mean `path`?",
        "See `/flux help config create`.",
    ),
    (
        "/flux config update apps -c prod --kustomization name=apps force",
        "`--kustomization` takes `KEY=VALUE` words, not `force`. Write `force=true`.",
        "See `/flux help config update`.",
    ),
    (
        "/flux config create apps -c prod -u https://github.com/org/repo --branch main --context prod",
        (
            "`--context` is not an option of `config create`. Name the cluster with `-c CLUSTER` (an inventory "
            "alias, a cluster name or an ARM id)."
        ),
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux status -c prod -A",
        "`-A` is not an option of `status`. fluxops reads every namespace already; leave it out.",
        USAGE_STATUS,
        "See `/flux help status`.",
    ),
    (
        "/flux config list -c prod -o table",
        "`-o` is not an option of `config list`. fluxops formats its replies itself; leave it out.",
        USAGE_CONFIG_LIST,
        "See `/flux help config list`.",
    ),
    (
        "/flux status -c prod --subscription 0000",
        (
            "`--subscription` is not an option of `status`. Give the cluster's ARM id with `-c` to name a "
            "cluster in another subscription."
        ),
        USAGE_STATUS,
        "See `/flux help status`.",
    ),
    (
        "/flux get kustomizations",
        (
            "`get kustomizations` is not a /flux command. To list a configuration's kustomizations: `/flux "
            "kustomization list --config CONFIG -c CLUSTER`; `/flux status -c CLUSTER` shows every configuration "
            "on the cluster."
        ),
        "See `/flux help kustomization list`.",
    ),
    (
        "/flux get helmreleases -n flux-system",
        (
            "`get helmreleases` is not a /flux command. `/flux status NAME -c CLUSTER` shows the state of every "
            "Flux object of configuration NAME, its HelmReleases among them."
        ),
        "See `/flux help status`.",
    ),
    (
        "/flux get sources git",
        (
            "`get sources` is not a /flux command. `/flux config list -c CLUSTER` lists the Flux configurations "
            "with their sources."
        ),
        "See `/flux help config list`.",
    ),
    (
        "/flux get all -A",
        (
            "`get all` is not a /flux command. `/flux status -c CLUSTER` shows every Flux configuration on a "
            "cluster and its state; `/flux config list -c CLUSTER` lists them."
        ),
        "See `/flux help status`.",
    ),
    (
        "/flux flux get ks",
        (
            "`flux get ks` is not a /flux command. To list a configuration's kustomizations: `/flux "
            "kustomization list --config CONFIG -c CLUSTER`; `/flux status -c CLUSTER` shows every configuration "
            "on the cluster."
        ),
        "See `/flux help kustomization list`.",
    ),
    (
        "/flux kubectl get kustomizations -A",
        (
            "`kubectl get kustomizations` is not a /flux command. To list a configuration's kustomizations: "
            "`/flux kustomization list --config CONFIG -c CLUSTER`; `/flux status -c CLUSTER` shows every "
            "configuration on the cluster."
        ),
        "See `/flux help kustomization list`.",
    ),
    (
        "/flux describe kustomization apps",
        (
            "`describe` is not a /flux command. `/flux status NAME -c CLUSTER` shows the state of every Flux "
            "object of configuration NAME; `/flux events NAME -c CLUSTER` says why one failed."
        ),
        "See `/flux help status`.",
    ),
    (
        "/flux logs --kind=Kustomization",
        (
            "`logs` is not a /flux command. fluxops does not read controller logs; `/flux events NAME -c "
            "CLUSTER` shows what Flux reported about configuration NAME's objects."
        ),
        "See `/flux help events`.",
    ),
    (
        "/flux sync apps -c prod",
        (
            "`sync` is not a /flux command. `/flux reconcile NAME -c CLUSTER` makes Flux fetch and apply "
            "configuration NAME now."
        ),
        "See `/flux help reconcile`.",
    ),
    (
        "/flux reconcile kustomization apps -c prod --with-source",
        (
            "`reconcile kustomization` is not a /flux command. `/flux reconcile NAME -c CLUSTER --kustomization "
            "K` reconciles kustomization K of configuration NAME."
        ),
        "See `/flux help reconcile`.",
    ),
    (
        "/flux reconcile source git apps",
        (
            "`reconcile source` is not a /flux command. `/flux reconcile NAME -c CLUSTER --with-source` fetches "
            "configuration NAME's source first."
        ),
        "See `/flux help reconcile`.",
    ),
    (
        "/flux suspend kustomization apps",
        (
            "`suspend kustomization` is not a /flux command. fluxops suspends a whole configuration: `/flux "
            "suspend NAME -c CLUSTER`."
        ),
        "See `/flux help suspend`.",
    ),
    (
        "/flux resume kustomization apps -c prod",
        (
            "`resume kustomization` is not a /flux command. fluxops resumes a whole configuration: `/flux resume "
            "NAME -c CLUSTER`."
        ),
        "See `/flux help resume`.",
    ),
    (
        "/flux install",
        (
            "`install` is not a /flux command. `/flux extension create -c CLUSTER` installs Flux (the "
            "microsoft.flux extension); `/flux config create` then points it at a repository."
        ),
        "See `/flux help extension create`.",
    ),
    (
        "/flux bootstrap github --owner=org",
        (
            "`bootstrap` is not a /flux command. `/flux extension create -c CLUSTER` installs Flux (the "
            "microsoft.flux extension); `/flux config create` then points it at a repository."
        ),
        "See `/flux help extension create`.",
    ),
    (
        "/flux uninstall",
        (
            "`uninstall` is not a /flux command. `/flux extension delete -c CLUSTER` removes Flux (the "
            "microsoft.flux extension)."
        ),
        "See `/flux help extension delete`.",
    ),
    (
        "/flux check --pre",
        (
            "`check` is not a /flux command. `/flux doctor -c CLUSTER` checks a cluster's Flux: providers, the "
            "extension and its version, Flux v1 leftovers."
        ),
        "See `/flux help doctor`.",
    ),
    (
        "/flux rollout restart deploy/app",
        (
            "`rollout` is not a /flux command. `/flux fleet apply NAME --clusters SELECTOR ...` rolls a "
            "configuration out over many clusters in waves; `/flux reconcile NAME -c CLUSTER` applies the newest "
            "commit on one cluster now."
        ),
        "See `/flux help fleet apply`.",
    ),
    (
        "/flux apply -f kustomization.yaml",
        (
            "`apply -f` is not a /flux command. fluxops applies from Git, not from files: `/flux config create "
            "NAME -c CLUSTER -u URL --branch main` makes a cluster follow a repository; `/flux apply` works in "
            "pull-request comments on a fleet repository."
        ),
        "See `/flux help config create`.",
    ),
    (
        "/flux create kustomization apps --source=GitRepository/apps --path=./apps",
        (
            "`create kustomization` is not a /flux command. `/flux kustomization create NAME --config CONFIG -c "
            "CLUSTER --path ./apps` adds a kustomization to a configuration."
        ),
        "See `/flux help kustomization create`.",
    ),
    (
        "/flux create source git apps --url=https://github.com/org/repo --branch=main",
        (
            "`create source` is not a /flux command. `/flux config create NAME -c CLUSTER -u URL --branch main` "
            "creates a configuration with its source."
        ),
        "See `/flux help config create`.",
    ),
    (
        "/flux delete kustomization apps",
        (
            "`delete kustomization` is not a /flux command. `/flux kustomization delete NAME --config CONFIG -c "
            "CLUSTER` removes a kustomization."
        ),
        "See `/flux help kustomization delete`.",
    ),
    (
        "/flux helm list -A",
        (
            "`helm` is not a /flux command. fluxops installs Helm charts through Flux: a configuration's "
            "kustomizations apply HelmReleases, and `/flux status NAME -c CLUSTER` shows the state of every Flux "
            "object of configuration NAME."
        ),
        "See `/flux help status`.",
    ),
    (
        "/flux flux status -c prod",
        "`flux` is not a /flux command. Leave it out: `/flux status -c prod`.",
        "See `/flux help`.",
    ),
    ("/flux statsu -c prod", "`statsu` is not a /flux command. Did you mean `status`?", "See `/flux help`."),
    (
        "/flux reconcle apps -c prod",
        "`reconcle` is not a /flux command. Did you mean `reconcile`?",
        "See `/flux help`.",
    ),
    ("/flux confg list -c prod", "`confg` is not a /flux command. Did you mean `config`?", "See `/flux help`."),
    (
        "/flux kustomizaton list --config apps -c prod",
        "`kustomizaton` is not a /flux command. Did you mean `kustomization`?",
        "See `/flux help`.",
    ),
    (
        "/flux extention show -c prod",
        "`extention` is not a /flux command. Did you mean `extension`?",
        "See `/flux help`.",
    ),
    (
        "/flux config crate apps",
        "`crate` is not a subcommand of `config`. Did you mean `config create`?",
        "See `/flux help config`.",
    ),
    (
        "/flux extension upgrade -c prod --version 1.13.1",
        "`upgrade` is not a subcommand of `extension`. Did you mean `extension update`?",
        "See `/flux help extension`.",
    ),
    (
        "/flux extension install -c prod",
        "`install` is not a subcommand of `extension`. Did you mean `extension create`?",
        "See `/flux help extension`.",
    ),
    (
        "/flux kustomization destroy infra --config apps -c prod",
        "`destroy` is not a subcommand of `kustomization`. Did you mean `kustomization delete`?",
        "See `/flux help kustomization`.",
    ),
    (
        "/flux status apps prod",
        "Unexpected word `prod`. Put the cluster after `-c`: `/flux status apps -c prod`.",
        USAGE_STATUS,
        "See `/flux help status`.",
    ),
    (
        "/flux reconcile apps demo-arc",
        "Unexpected word `demo-arc`. Put the cluster after `-c`: `/flux reconcile apps -c demo-arc`.",
        USAGE_RECONCILE,
        "See `/flux help reconcile`.",
    ),
    (
        "/flux suspend apps demo-arc --with-source",
        "`--with-source` is not an option of `suspend`.",
        USAGE_SUSPEND,
        "See `/flux help suspend`.",
    ),
    (
        "/flux events apps demo-arc",
        "Unexpected word `demo-arc`. Put the cluster after `-c`: `/flux events apps -c demo-arc`.",
        USAGE_EVENTS,
        "See `/flux help events`.",
    ),
    (
        "/flux key rotate apps demo-arc",
        "Unexpected word `demo-arc`. Put the cluster after `-c`: `/flux key rotate apps -c demo-arc`.",
        USAGE_KEY_ROTATE,
        "See `/flux help key rotate`.",
    ),
    (
        "/flux help get",
        (
            "There is no help on `get`. `/flux status -c CLUSTER` shows every Flux configuration on a cluster "
            "and its state; `/flux config list -c CLUSTER` lists them."
        ),
        "See `/flux help`.",
    ),
    (
        "/flux help deploy",
        (
            "There is no help on `deploy`. fluxops deploys from Git: `/flux config create NAME -c CLUSTER -u URL "
            "--branch main --kustomization name=apps path=./apps` makes a cluster follow a repository, `/flux "
            "reconcile NAME -c CLUSTER` applies its newest commit now, and `/flux fleet apply NAME --clusters "
            "SELECTOR ...` rolls a configuration out over many clusters."
        ),
        "See `/flux help`.",
    ),
    (
        "/flux help kustomizaton",
        "There is no help on `kustomizaton`. Did you mean `kustomization`?",
        "See `/flux help`.",
    ),
    (
        "az k8s-configuration flux create -n apps -c prod -u https://github.com/org/repo --brnach main",
        (
            "`az k8s-configuration flux create` reads as `/flux config create`. `--brnach` is not an option of "
            "`config create`. Did you mean `--branch`?"
        ),
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "az k8s-configuration flux create -n apps -u https://github.com/org/repo --branch main",
        (
            "`az k8s-configuration flux create` reads as `/flux config create`. Which cluster? `-c CLUSTER` is "
            "required. Give an inventory alias, a cluster name or an ARM id; `/flux clusters` lists them."
        ),
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "az k8s-configuration flux deployed-object show -n apps -c prod -g rg -t connectedClusters --object-name nginx",
        (
            "`az k8s-configuration flux deployed-object show` reads as `/flux deployed-object show`. Which object? "
            "`--object-kind` is missing. `/flux deployed-object list apps -c prod` lists the objects with their kinds "
            "and namespaces."
        ),
        USAGE_DEPLOYED_OBJECT_SHOW,
        "See `/flux help deployed-object show`.",
    ),
    (
        "az k8s-configuration show -n cluster-config -c demo-arc",
        (
            "`az k8s-configuration show` is the retired Flux v1 command. `/flux v1 list -c CLUSTER` shows the "
            "Flux v1 configurations left on a cluster; `/flux config show NAME -c CLUSTER` shows a Flux v2 one."
        ),
        "See `/flux help v1`.",
    ),
    (
        "az k8s-extension list -g rg -t managedClusters",
        (
            "`az k8s-extension list` reads as `/flux extension list`. Which cluster? `-c CLUSTER` is required. Give "
            "an inventory alias, a cluster name or an ARM id; `/flux clusters` lists them."
        ),
        USAGE_EXTENSION_LIST,
        "See `/flux help extension list`.",
    ),
    (
        "az aks list",
        (
            "`az aks` is not a /flux command. fluxops does not manage the clusters themselves; `/flux clusters` "
            "lists the ones it knows."
        ),
        "See `/flux help`.",
    ),
    (
        "/flux extension create -c prod --auto-upgrade-minor-versions false",
        "`--auto-upgrade-minor-versions` is not an option of `extension create`. Did you mean `--auto-upgrade`?",
        USAGE_EXTENSION_CREATE,
        "See `/flux help extension create`.",
    ),
    (
        "/flux fleet apply apps --clusters env=prod --branch main --wave 1,100%",
        "`--wave` is not an option of `fleet apply`. Did you mean `--waves`?",
        USAGE_FLEET_APPLY,
        "See `/flux help fleet apply`.",
    ),
    (
        "/flux -c prod status",
        "`-c` is not a /flux command. Start with a command, e.g. `/flux status -c CLUSTER`; `/flux help` lists them.",
        "See `/flux help`.",
    ),
    (
        "/flux clusters prod",
        "Unexpected word `prod`. Quote values that contain spaces.",
        USAGE_CLUSTERS,
        "See `/flux help clusters`.",
    ),
    (
        f"{BLOB} --managed-identity-clientid 00000000-0000-0000-0000-000000000000",
        "`--managed-identity-clientid` is not an option of `config create`. Did you mean "
        "`--managed-identity-client-id`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    # a service principal's flag, never the managed identity's `--mi-client-id` two letters away
    (
        (
            "/flux config create apps -c prod -u https://acct.blob.core.windows.net/c --kind azblob "
            "--sp-clientid 00000000-0000-0000-0000-000000000000"
        ),
        "`--sp-clientid` is not an option of `config create`. Did you mean `--sp-client-id`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux fleet apply apps --clusters env=prod --branch main --kustomization name=apps path=./apps prune",
        "`--kustomization` takes `KEY=VALUE` words, not `prune`. Write `prune=true`.",
        "See `/flux help fleet apply`.",
    ),
    (
        "/flux kustomization list --config apps -c prod --all-namespaces",
        (
            "`--all-namespaces` is not an option of `kustomization list`. fluxops reads every namespace already; "
            "leave it out."
        ),
        USAGE_KUSTOMIZATION_LIST,
        "See `/flux help kustomization list`.",
    ),
    (
        "/flux get fluxconfigs -c prod",
        (
            "`get fluxconfigs` is not a /flux command. `/flux config show NAME -c CLUSTER` shows one Flux "
            "configuration; `/flux config list -c CLUSTER` lists them."
        ),
        "See `/flux help config show`.",
    ),
    (
        "/flux kustomization create infra --config apps -c prod --path ./infra prune",
        (
            "Unexpected word `prune`. It needs a value: `prune=true` inside `--kustomization`, or `--prune` on "
            "`kustomization create|update`."
        ),
        USAGE_KUSTOMIZATION_CREATE,
        "See `/flux help kustomization create`.",
    ),
    (
        "/flux get kustomizations --help",
        (
            "`get kustomizations` is not a /flux command. To list a configuration's kustomizations: `/flux "
            "kustomization list --config CONFIG -c CLUSTER`; `/flux status -c CLUSTER` shows every configuration "
            "on the cluster."
        ),
        "See `/flux help kustomization list`.",
    ),
    (
        "/flux watch apps demo-arc",
        "Unexpected word `demo-arc`. Put the cluster after `-c`: `/flux watch apps -c demo-arc`.",
        USAGE_WATCH,
        "See `/flux help watch`.",
    ),
    (
        "/flux config create apps https://github.com/org/repo --branch main -c prod",
        "Unexpected word `https://github.com/org/repo`. Put the URL after `-u`: `-u https://github.com/org/repo`.",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        "/flux status apps 'two words'",
        "Unexpected word `two words`. Quote values that contain spaces.",
        USAGE_STATUS,
        "See `/flux help status`.",
    ),
    # the source flags of Azure Blob, OCI and HTTPS, mistyped or spelled as az spells them
    (
        f"{BLOB} --sp-client-id 00000000-0000-0000-0000-000000000000 --tennant-id 11111111-1111-1111-1111-111111111111",
        "`--tennant-id` is not an option of `config create`. Did you mean `--tenant-id`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        f"{BLOB} {SP} --sp-client-secert-ref sp-secret",
        "`--sp-client-secert-ref` is not an option of `config create`. Did you mean `--sp-client-secret-ref`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        f"{BLOB} {SP} --sp-client-cert-rf sp-cert",
        "`--sp-client-cert-rf` is not an option of `config create`. Did you mean `--sp-client-cert-ref`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        f"{BLOB} {SP} --sp-client-cert-ref sp-cert --sp-client-cert-password s3cr3t",
        (
            "`--sp-client-cert-password` would put a secret into chat, and secrets are never typed into chat. Use "
            "`--sp-client-cert-ref REF --sp-client-cert-password-ref REF` (a service principal certificate and its "
            "password, held by fluxops) instead; if you already sent a real secret, rotate it."
        ),
        "See `/flux help`.",
    ),
    (
        f"{BLOB} --service-principal-client-id 00000000-0000-0000-0000-000000000000",
        "`--service-principal-client-id` is not an option of `config create`. Did you mean `--sp-client-id`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        f"{BLOB} --client-id 00000000-0000-0000-0000-000000000000",
        (
            "`--client-id` is not an option of `config create`. Did you mean `--sp-client-id` (a service principal) "
            "or `--managed-identity-client-id` (a managed identity)?"
        ),
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        f"{BLOB} --account-key s3cr3t",
        (
            "`--account-key` would put a secret into chat, and secrets are never typed into chat. Use "
            "`--account-key-ref REF` (the storage account key, held by fluxops) instead; if you already sent a real "
            "secret, rotate it."
        ),
        "See `/flux help`.",
    ),
    (
        f"{OCI} --tls-client-cert-rf client-cert --tls-private-key-ref client-key",
        "`--tls-client-cert-rf` is not an option of `config create`. Did you mean `--tls-client-cert-ref`?",
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        f"{OCI} --tls-client-cert-ref client-cert --tls-private-key s3cr3t",
        (
            "`--tls-private-key` would put a secret into chat, and secrets are never typed into chat. Use "
            "`--tls-client-cert-ref REF --tls-private-key-ref REF` (a client certificate and key fluxops holds) "
            "instead; if you already sent a real secret, rotate it."
        ),
        "See `/flux help`.",
    ),
    (
        f"{GIT} --substitute-from ConfigMap:vars",
        (
            "`--substitute-from` is not an option of `config create`. Kustomization fields go inside "
            "`--kustomization`: write `--kustomization name=NAME substitute_from=ConfigMap:NAME`."
        ),
        USAGE_CONFIG_CREATE,
        "See `/flux help config create`.",
    ),
    (
        (
            "/flux config create apps -c prod -u https://github.com/org/repo --branch main --kustomization "
            "name=apps path=./apps substitute_from=ConfigMap/vars"
        ),
        (
            "`substitute_from` of kustomization `apps` takes `ConfigMap:NAME` or `Secret:NAME` items (`:optional` "
            "after a name that may be missing), separated by commas, not `ConfigMap/vars`. For example "
            "`substitute_from=ConfigMap:cluster-vars,Secret:cluster-secrets:optional`."
        ),
        "See `/flux help config create`.",
    ),
    # --no-wait, extension list and scope, deployed objects
    (
        "/flux config delete apps -c prod --no-wiat",
        "`--no-wiat` is not an option of `config delete`. Did you mean `--no-wait`?",
        USAGE_CONFIG_DELETE,
        "See `/flux help config delete`.",
    ),
    (
        "/flux status apps -c prod --no-wait",
        (
            "`--no-wait` is not an option of `status`. Only the commands az has it on take it: config, kustomization "
            "and extension create, update and delete."
        ),
        USAGE_STATUS,
        "See `/flux help status`.",
    ),
    (
        "/flux extension create -c prod --release-namspace flux-system",
        "`--release-namspace` is not an option of `extension create`. Did you mean `--release-namespace`?",
        USAGE_EXTENSION_CREATE,
        "See `/flux help extension create`.",
    ),
    (
        "az k8s-extension create -c prod --extension-type microsoft.flux --scope namespace --release-namespace flux",
        (
            "`az k8s-extension create` reads as `/flux extension create`. `--release-namespace` does not go with "
            "`--scope namespace`. A namespace-scoped extension takes `--target-namespace`."
        ),
        USAGE_EXTENSION_CREATE,
        "See `/flux help extension create`.",
    ),
    (
        "/flux get extensions -c prod",
        (
            "`get extensions` is not a /flux command. `/flux extension list -c CLUSTER` lists a cluster's "
            "extensions; `/flux extension show -c CLUSTER` shows microsoft.flux."
        ),
        "See `/flux help extension list`.",
    ),
    (
        "/flux extension lst -c prod",
        "`lst` is not a subcommand of `extension`. Did you mean `extension list`?",
        "See `/flux help extension`.",
    ),
    (
        "/flux get deployed-objects -c prod",
        (
            "`get deployed-objects` is not a /flux command. `/flux deployed-object list NAME -c CLUSTER` lists the "
            "Flux objects configuration NAME deployed; `/flux deployed-object show` shows one of them."
        ),
        "See `/flux help deployed-object list`.",
    ),
    (
        "/flux deployed-object lst apps -c prod",
        "`lst` is not a subcommand of `deployed-object`. Did you mean `deployed-object list`?",
        "See `/flux help deployed-object`.",
    ),
    (
        "/flux deployed-object show apps -c prod --object-nme nginx --object-kind HelmRelease",
        "`--object-nme` is not an option of `deployed-object show`. Did you mean `--object-name`?",
        USAGE_DEPLOYED_OBJECT_SHOW,
        "See `/flux help deployed-object show`.",
    ),
    (
        "az k8s-configuration flux deployed-object show -n apps -c prod --object-name nginx --object-kind HelmReleas",
        (
            "`az k8s-configuration flux deployed-object show` reads as `/flux deployed-object show`. "
            "`--object-kind` takes a Flux kind, not `HelmReleas`. Did you mean `HelmRelease`?"
        ),
        "See `/flux help deployed-object show`.",
    ),
    (
        "/flux help deployed",
        "There is no help on `deployed`. Did you mean `deployed-object`?",
        "See `/flux help`.",
    ),
]


@pytest.mark.parametrize("row", MISTAKES, ids=[row[0][:60] for row in MISTAKES])
def test_the_reply_to_a_mistake(row: tuple[str, ...]) -> None:
    typed, *lines = row
    result = parse(typed)
    assert isinstance(result, Reply), f"{typed!r} parsed: {result}"
    assert result.error
    assert result.text == "\n".join(lines)


def test_the_table_is_large_and_has_no_twins() -> None:
    assert len(MISTAKES) >= 60
    assert len({row[0] for row in MISTAKES}) == len(MISTAKES)


def test_help_on_every_command_the_issue_named() -> None:
    result = parse("/flux help doctor")
    assert isinstance(result, Reply) and not result.error
    assert result.text.startswith("*`/flux doctor`* — preflight")
