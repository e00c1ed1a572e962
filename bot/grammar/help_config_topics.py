"""The help topics of Flux configurations, their kustomizations and watches (bot/grammar/help_topics.py joins
them with the others, in the overview's order)."""

from __future__ import annotations

from bot.grammar.help_parts import (
    CHANNEL_FLAG,
    CLUSTER_FLAGS,
    DURATIONS,
    KUSTOMIZATION_KEYS,
    SECRETS,
    SOURCE_FLAGS,
    TUTORIAL_EXAMPLE,
    Topic,
)

CONFIG_TOPICS: dict[str, Topic] = {
    "config create": Topic(
        usage="/flux config create NAME -c CLUSTER -u URL (--branch B | --tag T | --semver R | --commit SHA) "
        "[--namespace NS] [--scope cluster|namespace] [--kind git|bucket|azblob|oci] "
        "[--kustomization name=K path=P ...]...",
        summary="create a Flux configuration: a source and its kustomizations",
        description="Creates the Flux configuration NAME on the cluster, as `az k8s-configuration flux create` "
        "does, installing the microsoft.flux extension first when the cluster has none. "
        "Each `--kustomization` adds one kustomization; its keys are "
        + KUSTOMIZATION_KEYS
        + ". "
        + DURATIONS
        + " "
        + SECRETS,
        flags=(
            ("NAME, -n, --name NAME", "the configuration's name (lowercase DNS label)"),
            *CLUSTER_FLAGS,
            *SOURCE_FLAGS,
            ("--namespace, --ns NS", "namespace of the configuration (default `default`; create-only)"),
            ("--scope cluster|namespace", "what Flux may change (default `cluster`; create-only)"),
            ("--kind git|bucket|azblob|oci", "the source kind (default `git`; an `oci://` URL means oci)"),
            ("--suspend", "create it suspended"),
            ("--deploy-key generate", "fluxops makes an SSH key and registers it as a read-only deploy key"),
            ("--local-auth-ref NAME", "a Kubernetes secret on the cluster with the source's credentials"),
            ("--provider azure|generic", "`azure`: the cluster's workload identity (Azure DevOps, or an OCI registry)"),
            ("--no-extension", "do not install microsoft.flux when it is missing"),
            ("--kustomization, --kustomizations name=K KEY=VALUE ...", "a kustomization (repeatable)"),
            ("--bucket-name B, --access-key ID, --secret-key-ref REF, --bucket-insecure", "`--kind bucket`"),
            (
                "--container-name C, --account-key-ref REF, --sas-token-ref REF, "
                "--managed-identity-client-id (--mi-client-id) GUID",
                "`--kind azblob` (one way to authenticate)",
            ),
            (
                "--sp-client-id GUID --tenant-id GUID (--sp-client-secret-ref REF | --sp-client-cert-ref REF "
                "[--sp-client-cert-password-ref REF] [--sp-client-cert-send-chain])",
                "`--kind azblob` with a service principal",
            ),
            ("--tag T | --semver R | --digest sha256:...", "`--kind oci`: the artifact to follow (exactly one)"),
            (
                "--insecure, --tls-client-cert-ref REF --tls-private-key-ref REF, --tls-ca-cert-ref REF",
                "`--kind oci`: plain HTTP, or TLS material fluxops holds",
            ),
        ),
        examples=(
            TUTORIAL_EXAMPLE,
            "/flux config create apps -c prod-weu -u git@github.com:contoso/fleet.git --branch main "
            "--deploy-key generate --kustomization name=apps path=./apps/prod prune=true",
            "/flux config create manifests -c prod-weu --kind oci -u oci://ghcr.io/contoso/manifests --tag v1.2.0",
        ),
    ),
    "config update": Topic(
        usage="/flux config update NAME -c CLUSTER [-u URL] [--branch B | --tag T | --semver R | --commit SHA] "
        "[--interval D] [--timeout D] [--https-user U --https-key-ref REF] [--kustomization name=K KEY=VALUE ...]...",
        summary="change a Flux configuration: only the fields you give change",
        description="Updates the configuration in place (a merge patch). A `--kustomization name=K ...` group "
        "changes only the keys it gives of kustomization K. The source fields are those of the configuration's "
        "kind (a bucket's `--bucket-name`, a blob's `--sas-token-ref`, an OCI `--digest`...). "
        "`--namespace`, `--scope` and `--kind` can only be "
        "set at creation; to pause syncing use `/flux suspend`. A new `-u URL` for a configuration holding a "
        "credential or deploy key needs it stated again: `--https-user U --https-key-ref REF`, or "
        "`--deploy-key generate` for an SSH URL on the same host.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration"),
            *CLUSTER_FLAGS,
            *SOURCE_FLAGS,
            (
                "--kustomization name=K KEY=VALUE ...",
                "change kustomization K (repeatable); keys as in create (`substitute` sets the variables it "
                "names, `substitute_from` replaces the list; an empty value clears either)",
            ),
        ),
        examples=(
            "/flux config update cluster-config -c flux-demo-arc --branch release-1.2",
            "/flux config update cluster-config -c flux-demo-arc --kustomization name=apps path=./apps/production",
        ),
    ),
    "config delete": Topic(
        usage="/flux config delete NAME -c CLUSTER [--force]",
        summary="delete a Flux configuration (asks for confirmation)",
        description="Deletes the configuration and, where its kustomizations prune, what they deployed. fluxops "
        "asks you to confirm and says what prune will remove. `--force` deletes even when Flux cannot clean up.",
        flags=(("NAME, -n, --name NAME", "the configuration"), *CLUSTER_FLAGS, ("--force", "force the deletion")),
        examples=("/flux config delete cluster-config -c flux-demo-arc",),
    ),
    "config show": Topic(
        usage="/flux config show NAME -c CLUSTER",
        summary="show a Flux configuration: source, kustomizations, compliance",
        description="Shows the configuration's source, kustomizations, provisioning and compliance state.",
        flags=(("NAME, -n, --name NAME", "the configuration"), *CLUSTER_FLAGS),
        examples=("/flux config show cluster-config -c flux-demo-arc -g flux-demo-rg -t connectedClusters",),
    ),
    "config list": Topic(
        usage="/flux config list -c CLUSTER",
        summary="list the Flux configurations on a cluster",
        description="Lists every Flux configuration on the cluster with its source and compliance state.",
        flags=CLUSTER_FLAGS,
        examples=("/flux config list -c flux-demo-arc",),
    ),
    "status": Topic(
        usage="/flux status [NAME] -c CLUSTER",
        summary="reconciliation status of one configuration, or of all on a cluster",
        description="Shows compliance, the last synced commit and the state of every Flux object.",
        flags=(("NAME, -n, --name NAME", "one configuration (default: all)"), *CLUSTER_FLAGS),
        examples=("/flux status -c flux-demo-arc", "/flux status cluster-config -c flux-demo-arc"),
    ),
    "suspend": Topic(
        usage="/flux suspend NAME -c CLUSTER",
        summary="stop syncing a configuration",
        description="Suspends the configuration: Flux stops fetching and applying until `/flux resume`.",
        flags=(("NAME, -n, --name NAME", "the configuration"), *CLUSTER_FLAGS),
        examples=("/flux suspend cluster-config -c flux-demo-arc",),
    ),
    "resume": Topic(
        usage="/flux resume NAME -c CLUSTER",
        summary="resume syncing a suspended configuration",
        description="Resumes a suspended configuration; Flux fetches and applies again.",
        flags=(("NAME, -n, --name NAME", "the configuration"), *CLUSTER_FLAGS),
        examples=("/flux resume cluster-config -c flux-demo-arc",),
    ),
    "watch": Topic(
        usage="/flux watch NAME -c CLUSTER [-g RG] [-t TYPE] [--channel CHANNEL] | "
        "/flux watch [NAME] --clusters KEY=VALUE,... [--channel CHANNEL]",
        summary="post a configuration's reconciliation results, the pushes traced to it and its alerts to a channel",
        description="Subscribes a Slack channel to configuration NAME on the cluster: one message per push traced "
        'to it ("applied on 7/9 clusters"), and one alert per incident when it breaks (edited while it lasts, '
        "resolved in its thread). `--clusters` watches every cluster whose tags match instead (`all`: every "
        "cluster), clusters that match later included: the alerts of every configuration on them, or only of "
        "those named NAME. A channel only hears about the clusters the person who set the watch up may see, "
        "as the policy says when the alert goes out. Without `--channel` it is the channel you type in. Changes "
        "nothing in Azure. Works in Slack; `/flux unwatch` with the same arguments undoes it and `/flux watches` "
        "lists the subscriptions.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration (optional with `--clusters`: every configuration)"),
            *CLUSTER_FLAGS,
            ("--clusters KEY=VALUE,... | all", "watch every cluster whose tags match, instead of one"),
            CHANNEL_FLAG,
        ),
        examples=(
            "/flux watch cluster-config -c flux-demo-arc",
            "/flux watch cluster-config -c flux-demo-arc --channel C0123ABC",
            "/flux watch --clusters env=prod --channel C0123ABC",
            "/flux watch cluster-config --clusters env=prod,region=weu",
        ),
    ),
    "unwatch": Topic(
        usage="/flux unwatch NAME -c CLUSTER [-g RG] [-t TYPE] [--channel CHANNEL] | "
        "/flux unwatch [NAME] --clusters KEY=VALUE,... [--channel CHANNEL]",
        summary="stop posting a configuration's results to a channel",
        description="Removes the subscription `/flux watch` made for configuration NAME on the cluster, or for "
        "the clusters `--clusters` matches (the same selector and NAME as the watch): of the channel you type "
        "in, or of `--channel`. An alert still open in that channel is closed in its thread. Works in Slack.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration (optional with `--clusters`)"),
            *CLUSTER_FLAGS,
            ("--clusters KEY=VALUE,... | all", "the selector the watch was made with"),
            CHANNEL_FLAG,
        ),
        examples=("/flux unwatch cluster-config -c flux-demo-arc", "/flux unwatch --clusters env=prod"),
    ),
    "watches": Topic(
        usage="/flux watches [-c CLUSTER] [-g RG] [-t TYPE]",
        summary="list which channels watch which configurations",
        description="Lists the subscriptions made with `/flux watch`: configuration, cluster and channel. "
        "`/flux watch list` is the same command. Works in Slack.",
        flags=(("-c, --cluster CLUSTER", "only this cluster (default: every cluster)"), *CLUSTER_FLAGS[1:]),
        examples=("/flux watches", "/flux watches -c flux-demo-arc"),
    ),
    "kustomization create": Topic(
        usage="/flux kustomization create NAME --config CONFIG -c CLUSTER [--path P] [--depends-on A,B] "
        "[--prune] [--force] [--wait] [--interval D] [--retry-interval D] [--timeout D] [--substitute k:v,...] "
        "[--substitute-from ConfigMap:NAME,...]",
        summary="add a kustomization to a Flux configuration",
        description="Adds kustomization NAME to configuration CONFIG. " + DURATIONS,
        flags=(
            ("NAME, -k, --kustomization-name, --name NAME", "the kustomization"),
            ("--config, -n CONFIG", "the Flux configuration it belongs to (required)"),
            *CLUSTER_FLAGS,
            ("--path P", "directory in the source (default: its root)"),
            ("--depends-on A,B", "kustomizations that must be ready first"),
            ("--prune [true|false]", "delete what was removed from the source (default false)"),
            ("--force [true|false]", "recreate objects that cannot be patched (default false)"),
            ("--wait [true|false]", "wait for the objects to be ready (default true)"),
            ("--interval, --sync-interval D", "how often to reconcile (default `10m`)"),
            ("--retry-interval D", "how soon to retry after a failure"),
            ("--timeout D", "how long an apply may take (default `10m`)"),
            ("--substitute k:v,...", "post-build variable substitutions"),
            (
                "--substitute-from ConfigMap:NAME,Secret:NAME[:optional]",
                "post-build variables from ConfigMaps and Secrets on the cluster (`:optional`: it may be missing)",
            ),
        ),
        examples=(
            "/flux kustomization create monitoring --config cluster-config -c flux-demo-arc "
            "--path ./monitoring --depends-on infra --prune",
        ),
    ),
    "kustomization update": Topic(
        usage="/flux kustomization update NAME --config CONFIG -c CLUSTER [--path P] [--depends-on A,B] "
        "[--prune B] [--force B] [--wait B] [--interval D] [--retry-interval D] [--timeout D] [--substitute k:v,...] "
        "[--substitute-from ConfigMap:NAME,...]",
        summary="change a kustomization: only the fields you give change",
        description="Changes kustomization NAME of configuration CONFIG. `--substitute` sets the variables it names "
        'and keeps the others; `--substitute-from` replaces the list (`--substitute-from ""` clears it).',
        flags=(
            ("NAME, -k, --kustomization-name, --name NAME", "the kustomization"),
            ("--config, -n CONFIG", "its Flux configuration (required)"),
            *CLUSTER_FLAGS,
            (
                "--path, --depends-on, --prune, --force, --wait, --interval, --retry-interval, --timeout, "
                "--substitute, --substitute-from",
                "as in create",
            ),
        ),
        examples=("/flux kustomization update apps --config cluster-config -c flux-demo-arc --path ./apps/production",),
    ),
    "kustomization delete": Topic(
        usage="/flux kustomization delete NAME --config CONFIG -c CLUSTER",
        summary="remove a kustomization from a configuration (asks for confirmation)",
        description="Removes kustomization NAME; if it prunes, what it deployed is deleted from the cluster.",
        flags=(
            ("NAME, -k, --kustomization-name, --name NAME", "the kustomization"),
            ("--config, -n CONFIG", "its Flux configuration (required)"),
            *CLUSTER_FLAGS,
        ),
        examples=("/flux kustomization delete apps --config cluster-config -c flux-demo-arc",),
    ),
    "kustomization show": Topic(
        usage="/flux kustomization show NAME --config CONFIG -c CLUSTER",
        summary="show one kustomization and its status",
        description="Shows the kustomization's settings and the state of the objects it applied.",
        flags=(
            ("NAME, -k, --kustomization-name, --name NAME", "the kustomization"),
            ("--config, -n CONFIG", "its Flux configuration (required)"),
            *CLUSTER_FLAGS,
        ),
        examples=("/flux kustomization show apps --config cluster-config -c flux-demo-arc",),
    ),
    "kustomization list": Topic(
        usage="/flux kustomization list --config CONFIG -c CLUSTER",
        summary="list the kustomizations of a configuration",
        description="Lists the kustomizations of configuration CONFIG with their status.",
        flags=(("--config, -n CONFIG", "the Flux configuration (required)"), *CLUSTER_FLAGS),
        examples=("/flux kustomization list --config cluster-config -c flux-demo-arc",),
    ),
}
