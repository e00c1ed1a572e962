"""The help topics: per command its usage, what it does, its flags and examples (bot.grammar.help shows them).

Plain text with Slack mrkdwn / Markdown backticks, so the same text reads well in Slack and in a PR comment.
Every example here is a command the grammar accepts (the tests parse them all).
"""

from __future__ import annotations

from bot.grammar.help_azure_read_topics import AZURE_READ_TOPICS, no_wait_topics
from bot.grammar.help_config_topics import CONFIG_TOPICS
from bot.grammar.help_doctor_topics import DOCTOR_TOPICS
from bot.grammar.help_events_topics import EVENTS_TOPICS
from bot.grammar.help_fleet_topics import FLEET_TOPICS
from bot.grammar.help_freeze_topics import FREEZE_TOPICS
from bot.grammar.help_parts import CLUSTER_FLAGS, SECRETS, TUTORIAL_EXAMPLE, Topic
from bot.grammar.help_reconcile_topic import RECONCILE_TOPICS

__all__ = ["SECRETS", "TOPICS", "TUTORIAL_EXAMPLE", "Topic"]

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
    **DOCTOR_TOPICS,
    **CONFIG_TOPICS,
    **RECONCILE_TOPICS,
    **EVENTS_TOPICS,
    "extension create": Topic(
        usage="/flux extension create -c CLUSTER [--name flux] [--version V --auto-upgrade false] "
        "[--release-train stable|preview] [--scope cluster --release-namespace NS] [--config KEY=VALUE ...]...",
        summary="install the microsoft.flux extension on a cluster",
        description="Installs microsoft.flux, as `az k8s-extension create --extension-type microsoft.flux` does. "
        "`--config` takes known settings only (`/flux help extension settings`); several `KEY=VALUE` may follow "
        "one `--config`, and `--config` may be repeated. Pinning `--version` needs `--auto-upgrade false`.",
        flags=(
            *CLUSTER_FLAGS,
            ("-n, --name NAME", "the extension's name (default `flux`)"),
            ("--version V", "pin this version (implies `--auto-upgrade false`)"),
            ("--auto-upgrade, --auto-upgrade-minor-version true|false", "follow new minor versions (default true)"),
            ("--release-train stable|preview", "the release train (default stable)"),
            ("--config, --configuration-settings KEY=VALUE ...", "extension settings (repeatable)"),
            ("--scope cluster|namespace", "where it installs (default cluster; microsoft.flux is cluster-scoped)"),
            ("--release-namespace NS", "the namespace of a cluster-scoped extension (default `flux-system`)"),
            ("--target-namespace NS", "the namespace of a namespace-scoped extension"),
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
            *CLUSTER_FLAGS,
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
        flags=(*CLUSTER_FLAGS, ("-n, --name NAME", "the extension's name (default `flux`)"), ("--force", "force it")),
        examples=("/flux extension delete -c flux-demo-arc",),
    ),
    "extension show": Topic(
        usage="/flux extension show -c CLUSTER [--name flux]",
        summary="show the microsoft.flux extension: version, state, settings",
        description="Shows the installed version, provisioning state, auto-upgrade, release train and settings.",
        flags=(*CLUSTER_FLAGS, ("-n, --name NAME", "the extension's name (default `flux`)")),
        examples=("/flux extension show -c flux-demo-arc",),
    ),
    **AZURE_READ_TOPICS,
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
            *CLUSTER_FLAGS[1:],
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
            *CLUSTER_FLAGS[1:],
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
    **FLEET_TOPICS,
    **FREEZE_TOPICS,
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
        flags=CLUSTER_FLAGS,
        examples=("/flux unlock flux-demo-aks", "/flux unlock -c flux-demo-arc -g flux-demo-rg"),
    ),
}
# every write's topic lists --no-wait (one list of those commands, in help_azure_read_topics)
TOPICS.update(no_wait_topics(TOPICS))
