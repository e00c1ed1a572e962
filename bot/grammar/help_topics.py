"""The help topics: per command its usage, what it does, its flags and examples (bot.grammar.help shows them).

Plain text with Slack mrkdwn / Markdown backticks, so the same text reads well in Slack and in a PR comment.
Every example here is a command the grammar accepts (the tests parse them all).
"""

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


_CLUSTER = (
    ("-c, --cluster CLUSTER", "the cluster: an inventory alias, a cluster name or an ARM id (required)"),
    ("-g, --resource-group RG", "its resource group, when the name is not unique"),
    ("-t, --cluster-type TYPE", "`managedClusters` (AKS) or `connectedClusters` (Arc), when the name is not unique"),
)
_SOURCE_FLAGS = (
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
)
_KUSTOMIZATION_KEYS = (
    "`name=` (required), `path=`, `depends_on=A,B`, `prune=`, `force=`, `wait=`, `interval=`, "
    "`retry_interval=`, `timeout=`, `substitute=k:v,k2:v2`"
)
_CHANNEL = (
    "--channel CHANNEL",
    "a Slack channel id such as `C0123ABC` (see the channel's details), or a `#channel` mention when Slack "
    "passes its id; default: the channel you type in",
)
_DURATIONS = "Durations look like `1h2m5s`, `10m`, `30s`. Booleans are `true`/`false` (or `yes`/`no`)."
SECRETS = (
    "Secrets are never typed into chat: `--deploy-key generate` makes a key, and the `...-ref` flags name "
    "credentials fluxops holds."
)

TOPICS: dict[str, Topic] = {
    "help": Topic(
        usage="/flux help [COMMAND]",
        summary="this overview, or the flags and examples of one command",
        description="Shows what a command does, its flags and examples. `/flux COMMAND --help` does the same.",
        examples=("/flux help config create", "/flux help extension settings"),
    ),
    "clusters": Topic(
        usage="/flux clusters [--selector KEY=VALUE,...]",
        summary="list the clusters fluxops knows, with their aliases and Flux versions",
        description="Lists the AKS and Arc clusters in the inventory. `--selector` keeps those whose tags match "
        "every `KEY=VALUE`.",
        flags=(("--selector KEY=VALUE,...", "tags the clusters must have"),),
        examples=("/flux clusters", "/flux clusters --selector env=prod,region=weu"),
    ),
    "config create": Topic(
        usage="/flux config create NAME -c CLUSTER -u URL (--branch B | --tag T | --semver R | --commit SHA) "
        "[--namespace NS] [--scope cluster|namespace] [--kind git|bucket|azblob|oci] "
        "[--kustomization name=K path=P ...]...",
        summary="create a Flux configuration: a source and its kustomizations",
        description="Creates the Flux configuration NAME on the cluster, as `az k8s-configuration flux create` "
        "does, installing the microsoft.flux extension first when the cluster has none. "
        "Each `--kustomization` adds one kustomization; its keys are "
        + _KUSTOMIZATION_KEYS
        + ". "
        + _DURATIONS
        + " "
        + SECRETS,
        flags=(
            ("NAME, -n, --name NAME", "the configuration's name (lowercase DNS label)"),
            *_CLUSTER,
            *_SOURCE_FLAGS,
            ("--namespace, --ns NS", "namespace of the configuration (default `default`; create-only)"),
            ("--scope cluster|namespace", "what Flux may change (default `cluster`; create-only)"),
            ("--kind git|bucket|azblob|oci", "the source kind (default `git`; an `oci://` URL means oci)"),
            ("--suspend", "create it suspended"),
            ("--deploy-key generate", "fluxops makes an SSH key and registers it as a read-only deploy key"),
            ("--local-auth-ref NAME", "a Kubernetes secret on the cluster with the source's credentials"),
            ("--provider azure|generic", "`azure`: workload identity for Azure DevOps"),
            ("--no-extension", "do not install microsoft.flux when it is missing"),
            ("--kustomization, --kustomizations name=K KEY=VALUE ...", "a kustomization (repeatable)"),
            ("--bucket-name B, --access-key ID, --secret-key-ref REF, --bucket-insecure", "`--kind bucket`"),
            (
                "--container-name C, --account-key-ref REF, --sas-token-ref REF, --mi-client-id GUID",
                "`--kind azblob`",
            ),
            ("--tag T | --semver R | --digest sha256:...", "`--kind oci`: the artifact to follow (exactly one)"),
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
        "changes only the keys it gives of kustomization K. `--namespace`, `--scope` and `--kind` can only be "
        "set at creation; to pause syncing use `/flux suspend`. A new `-u URL` for a configuration holding a "
        "credential or deploy key needs it stated again: `--https-user U --https-key-ref REF`, or "
        "`--deploy-key generate` for an SSH URL on the same host.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration"),
            *_CLUSTER,
            *_SOURCE_FLAGS,
            (
                "--kustomization name=K KEY=VALUE ...",
                "change kustomization K (repeatable); keys as in create, except `substitute`",
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
        flags=(("NAME, -n, --name NAME", "the configuration"), *_CLUSTER, ("--force", "force the deletion")),
        examples=("/flux config delete cluster-config -c flux-demo-arc",),
    ),
    "config show": Topic(
        usage="/flux config show NAME -c CLUSTER",
        summary="show a Flux configuration: source, kustomizations, compliance",
        description="Shows the configuration's source, kustomizations, provisioning and compliance state.",
        flags=(("NAME, -n, --name NAME", "the configuration"), *_CLUSTER),
        examples=("/flux config show cluster-config -c flux-demo-arc -g flux-demo-rg -t connectedClusters",),
    ),
    "config list": Topic(
        usage="/flux config list -c CLUSTER",
        summary="list the Flux configurations on a cluster",
        description="Lists every Flux configuration on the cluster with its source and compliance state.",
        flags=_CLUSTER,
        examples=("/flux config list -c flux-demo-arc",),
    ),
    "status": Topic(
        usage="/flux status [NAME] -c CLUSTER",
        summary="reconciliation status of one configuration, or of all on a cluster",
        description="Shows compliance, the last synced commit and the state of every Flux object.",
        flags=(("NAME, -n, --name NAME", "one configuration (default: all)"), *_CLUSTER),
        examples=("/flux status -c flux-demo-arc", "/flux status cluster-config -c flux-demo-arc"),
    ),
    "suspend": Topic(
        usage="/flux suspend NAME -c CLUSTER",
        summary="stop syncing a configuration",
        description="Suspends the configuration: Flux stops fetching and applying until `/flux resume`.",
        flags=(("NAME, -n, --name NAME", "the configuration"), *_CLUSTER),
        examples=("/flux suspend cluster-config -c flux-demo-arc",),
    ),
    "resume": Topic(
        usage="/flux resume NAME -c CLUSTER",
        summary="resume syncing a suspended configuration",
        description="Resumes a suspended configuration; Flux fetches and applies again.",
        flags=(("NAME, -n, --name NAME", "the configuration"), *_CLUSTER),
        examples=("/flux resume cluster-config -c flux-demo-arc",),
    ),
    "watch": Topic(
        usage="/flux watch NAME -c CLUSTER [-g RG] [-t TYPE] [--channel CHANNEL]",
        summary="post a configuration's reconciliation results, and the pushes traced to it, to a channel",
        description="Subscribes a Slack channel to configuration NAME on the cluster: each reconciliation result, "
        'and one message per push traced to it ("applied on 7/9 clusters"), is posted there. Without '
        "`--channel` it is the channel you type in. Changes nothing in Azure. Works in Slack; "
        "`/flux unwatch` undoes it and `/flux watches` lists the subscriptions.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration"),
            *_CLUSTER,
            _CHANNEL,
        ),
        examples=(
            "/flux watch cluster-config -c flux-demo-arc",
            "/flux watch cluster-config -c flux-demo-arc --channel C0123ABC",
        ),
    ),
    "unwatch": Topic(
        usage="/flux unwatch NAME -c CLUSTER [-g RG] [-t TYPE] [--channel CHANNEL]",
        summary="stop posting a configuration's results to a channel",
        description="Removes the subscription `/flux watch` made for configuration NAME on the cluster: of the "
        "channel you type in, or of `--channel`. Works in Slack.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration"),
            *_CLUSTER,
            _CHANNEL,
        ),
        examples=("/flux unwatch cluster-config -c flux-demo-arc",),
    ),
    "watches": Topic(
        usage="/flux watches [-c CLUSTER] [-g RG] [-t TYPE]",
        summary="list which channels watch which configurations",
        description="Lists the subscriptions made with `/flux watch`: configuration, cluster and channel. "
        "`/flux watch list` is the same command. Works in Slack.",
        flags=(("-c, --cluster CLUSTER", "only this cluster (default: every cluster)"), *_CLUSTER[1:]),
        examples=("/flux watches", "/flux watches -c flux-demo-arc"),
    ),
    "kustomization create": Topic(
        usage="/flux kustomization create NAME --config CONFIG -c CLUSTER [--path P] [--depends-on A,B] "
        "[--prune] [--force] [--wait] [--interval D] [--retry-interval D] [--timeout D] [--substitute k:v,...]",
        summary="add a kustomization to a Flux configuration",
        description="Adds kustomization NAME to configuration CONFIG. " + _DURATIONS,
        flags=(
            ("NAME, -k, --kustomization-name, --name NAME", "the kustomization"),
            ("--config, -n CONFIG", "the Flux configuration it belongs to (required)"),
            *_CLUSTER,
            ("--path P", "directory in the source (default: its root)"),
            ("--depends-on A,B", "kustomizations that must be ready first"),
            ("--prune [true|false]", "delete what was removed from the source (default false)"),
            ("--force [true|false]", "recreate objects that cannot be patched (default false)"),
            ("--wait [true|false]", "wait for the objects to be ready (default true)"),
            ("--interval, --sync-interval D", "how often to reconcile (default `10m`)"),
            ("--retry-interval D", "how soon to retry after a failure"),
            ("--timeout D", "how long an apply may take (default `10m`)"),
            ("--substitute k:v,...", "post-build variable substitutions"),
        ),
        examples=(
            "/flux kustomization create monitoring --config cluster-config -c flux-demo-arc "
            "--path ./monitoring --depends-on infra --prune",
        ),
    ),
    "kustomization update": Topic(
        usage="/flux kustomization update NAME --config CONFIG -c CLUSTER [--path P] [--depends-on A,B] "
        "[--prune B] [--force B] [--wait B] [--interval D] [--retry-interval D] [--timeout D]",
        summary="change a kustomization: only the fields you give change",
        description="Changes kustomization NAME of configuration CONFIG. Substitutions can only be set when a "
        "kustomization is created.",
        flags=(
            ("NAME, -k, --kustomization-name, --name NAME", "the kustomization"),
            ("--config, -n CONFIG", "its Flux configuration (required)"),
            *_CLUSTER,
            ("--path, --depends-on, --prune, --force, --wait, --interval, --retry-interval, --timeout", "as in create"),
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
            *_CLUSTER,
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
            *_CLUSTER,
        ),
        examples=("/flux kustomization show apps --config cluster-config -c flux-demo-arc",),
    ),
    "kustomization list": Topic(
        usage="/flux kustomization list --config CONFIG -c CLUSTER",
        summary="list the kustomizations of a configuration",
        description="Lists the kustomizations of configuration CONFIG with their status.",
        flags=(("--config, -n CONFIG", "the Flux configuration (required)"), *_CLUSTER),
        examples=("/flux kustomization list --config cluster-config -c flux-demo-arc",),
    ),
    "extension create": Topic(
        usage="/flux extension create -c CLUSTER [--name flux] [--version V --auto-upgrade false] "
        "[--release-train stable|preview] [--config KEY=VALUE ...]...",
        summary="install the microsoft.flux extension on a cluster",
        description="Installs microsoft.flux, as `az k8s-extension create --extension-type microsoft.flux` does. "
        "`--config` takes known settings only (`/flux help extension settings`); several `KEY=VALUE` may follow "
        "one `--config`, and `--config` may be repeated. Pinning `--version` needs `--auto-upgrade false`.",
        flags=(
            *_CLUSTER,
            ("-n, --name NAME", "the extension's name (default `flux`)"),
            ("--version V", "pin this version (implies `--auto-upgrade false`)"),
            ("--auto-upgrade, --auto-upgrade-minor-version true|false", "follow new minor versions (default true)"),
            ("--release-train stable|preview", "the release train (default stable)"),
            ("--config, --configuration-settings KEY=VALUE ...", "extension settings (repeatable)"),
        ),
        examples=(
            "/flux extension create -c flux-demo-arc --config image-automation-controller.enabled=true "
            "image-reflector-controller.enabled=true",
            "/flux extension create -c prod-weu --version 1.13.1 --auto-upgrade false "
            "--config multiTenancy.enforce=false",
        ),
    ),
    "extension update": Topic(
        usage="/flux extension update -c CLUSTER [--version V] [--auto-upgrade true|false] "
        "[--release-train stable|preview] [--config KEY=VALUE ...]...",
        summary="change the microsoft.flux extension: version, upgrades, settings",
        description="Changes only what you give. `--config KEY=` (nothing after `=`) removes a setting.",
        flags=(
            *_CLUSTER,
            ("-n, --name NAME", "the extension's name (default `flux`)"),
            ("--version V", "pin this version (implies `--auto-upgrade false`)"),
            ("--auto-upgrade, --auto-upgrade-minor-version true|false", "follow new minor versions"),
            ("--release-train stable|preview", "the release train"),
            ("--config KEY=VALUE ...", "set settings; `KEY=` removes one (repeatable)"),
        ),
        examples=(
            "/flux extension update -c flux-demo-arc --config source-controller.resources.limits.memory=2Gi "
            "source-controller.resources.requests.memory=300Mi",
            "/flux extension update -c flux-demo-arc --config helm-controller.detectDrift=true",
        ),
    ),
    "extension delete": Topic(
        usage="/flux extension delete -c CLUSTER [--name flux] [--force]",
        summary="remove the microsoft.flux extension (asks for confirmation)",
        description="Removes the extension and its controllers. Delete the cluster's Flux configurations first: "
        "removing the extension under them leaves the cluster unstable.",
        flags=(*_CLUSTER, ("-n, --name NAME", "the extension's name (default `flux`)"), ("--force", "force it")),
        examples=("/flux extension delete -c flux-demo-arc",),
    ),
    "extension show": Topic(
        usage="/flux extension show -c CLUSTER [--name flux]",
        summary="show the microsoft.flux extension: version, state, settings",
        description="Shows the installed version, provisioning state, auto-upgrade, release train and settings.",
        flags=(*_CLUSTER, ("-n, --name NAME", "the extension's name (default `flux`)")),
        examples=("/flux extension show -c flux-demo-arc",),
    ),
    "key rotate": Topic(
        usage="/flux key rotate (NAME -c CLUSTER [-g RG] [-t TYPE] | --repo URL | --key ID | --https-key-ref REF)",
        summary="rotate deploy keys with zero downtime, or hand a changed HTTPS credential to its configurations",
        description="Replaces deploy keys fluxops made without a gap: it adds a new key to the repository, switches "
        "the configurations to it, checks that their source fetched with it, then revokes the old key (and rolls "
        "back if a step fails). Say what rotates in exactly one way: the key configuration NAME uses on a cluster; "
        "every fluxops key of a repository (`--repo`, any spelling of its URL); one key by its id (`--key`); or, "
        "for Azure DevOps, which has no deploy keys, an HTTPS credential fluxops holds: after you change it, "
        "`--https-key-ref REF` gives its new value to every configuration created or updated with it.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration whose key rotates (with `-c`)"),
            ("-c, --cluster CLUSTER", "the cluster NAME is on (only with NAME)"),
            *_CLUSTER[1:],
            ("--repo, --repository URL", "every fluxops key of this repository, on every cluster"),
            ("--key, --key-id ID", "one key: `dk-` and 10 hex digits, as `/flux key status` lists it"),
            (
                "--https-key-ref REF",
                "an HTTPS credential fluxops holds: its new value goes to every configuration using it",
            ),
        ),
        examples=(
            "/flux key rotate cluster-config -c flux-demo-arc",
            "/flux key rotate --repo git@github.com:contoso/fleet.git",
            "/flux key rotate --key dk-0123456789",
            "/flux key rotate --https-key-ref ado/fleet-token",
        ),
    ),
    "key status": Topic(
        usage="/flux key status [NAME] [-c CLUSTER] [-g RG] [-t TYPE]",
        summary="list the deploy keys fluxops made: ids, repositories, ages, users, next rotation",
        description="Lists the keys fluxops made: each key's id (for `/flux key rotate --key ID`), repository, "
        "age, the configurations using it and when it is next rotated. With `-c`, the keys used on that cluster; "
        "with NAME and `-c`, the key of one configuration. `/flux key list` is the same command.",
        flags=(
            ("NAME, -n, --name NAME", "one configuration's key (needs `-c`)"),
            ("-c, --cluster CLUSTER", "only the keys used on this cluster (default: every key)"),
            *_CLUSTER[1:],
        ),
        examples=(
            "/flux key status",
            "/flux key status -c flux-demo-arc",
            "/flux key status cluster-config -c flux-demo-arc",
        ),
    ),
    "audit": Topic(
        usage="/flux audit [--since 7d] [--cluster CLUSTER] [--limit N]",
        summary="who changed what, where and with what result",
        description="Lists the audit log's mutations, newest first.",
        flags=(
            ("--since PERIOD", "how far back: `7d`, `12h`, `2w` (default `7d`)"),
            ("-c, --cluster CLUSTER", "only this cluster"),
            ("--limit N", "at most N entries, 1-100 (default 20)"),
        ),
        examples=("/flux audit --since 2d --cluster flux-demo-arc",),
    ),
    "plan": Topic(
        usage="/flux plan",
        summary="in a pull-request comment: recompute the pull request's plan",
        description="Works in pull-request comments on a fleet repository (one that declares clusters, extension "
        "settings and Flux configurations as YAML). Recomputes the plan — what would be created, updated or "
        "deleted on each cluster — and updates the pull request's plan comment. fluxops also plans on every "
        "push to the pull request.",
        examples=("/flux plan",),
    ),
    "apply": Topic(
        usage="/flux apply",
        summary="in a pull-request comment: apply the pull request's plan",
        description="Works in pull-request comments on a fleet repository. Applies the plan of the pull request: "
        "it must be approved and not from a fork, and you need the operator role on every cluster of the plan "
        "(admin where it deletes). The approval is the confirmation, so there is no Confirm step. Clusters "
        "being applied are locked against other pull requests until this one is merged or closed.",
        examples=("/flux apply",),
    ),
    "confirm": Topic(
        usage="/flux confirm JOB_ID DIGEST",
        summary="in a pull-request comment: confirm a destructive command started there",
        description="Works in pull-request comments. A destructive command (such as `config delete`) typed in a "
        "comment waits for confirmation, and pull requests have no buttons: reply `/flux confirm JOB_ID DIGEST` "
        "on the same pull request to run it, with the digest the bot's reply shows: it names the exact command "
        "you confirm. You need the role the command needs. A comment edited after it was sent never runs.",
        flags=(
            ("JOB_ID", "the job that asked, `j-` and 12 hex digits, as the bot's reply shows it"),
            ("DIGEST", "the 8 hex digits after the job id in the bot's reply: the command being confirmed"),
        ),
        examples=("/flux confirm j-0123456789ab 1a2b3c4d",),
    ),
    "approve": Topic(
        usage="/flux approve JOB_ID DIGEST",
        summary="in a pull-request comment: approve a command the policy wants others to approve",
        description="Works in pull-request comments (Slack has an Approve button). When the policy's `approvals:` "
        "cover a command on its cluster, it runs only after that many people other than the one asking approved "
        "it, each with the command's role there and write access to the repository, and within the time the "
        "policy allows; then `/flux confirm` runs it.",
        flags=(
            ("JOB_ID", "the job that asked, `j-` and 12 hex digits, as the bot's reply shows it"),
            ("DIGEST", "the 8 hex digits after the job id in the bot's reply: the command being approved"),
        ),
        examples=("/flux approve j-0123456789ab 1a2b3c4d",),
    ),
    "cancel": Topic(
        usage="/flux cancel JOB_ID",
        summary="in a pull-request comment: cancel a destructive command waiting for confirmation",
        description="Works in pull-request comments. Cancels a destructive command that was started in a "
        "comment on the same pull request and is waiting for `/flux confirm`; nothing is changed.",
        flags=(("JOB_ID", "the job that asked, `j-` and 12 hex digits, as the bot's reply shows it"),),
        examples=("/flux cancel j-0123456789ab",),
    ),
    "unlock": Topic(
        usage="/flux unlock CLUSTER",
        summary="admins: release the claim a pull request holds on a cluster",
        description="A pull request that applies to a cluster claims it until it merges or closes, so other pull "
        "requests cannot apply there meanwhile; claims also expire (FLUXOPS_CLAIM_TTL, 7 days by default). "
        "`unlock` releases a cluster's claim now, for a pull request that is abandoned. Admins only; audited.",
        flags=_CLUSTER,
        examples=("/flux unlock flux-demo-aks", "/flux unlock -c flux-demo-arc -g flux-demo-rg"),
    ),
}
