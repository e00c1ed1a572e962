"""Commands people bring from other tools — the Flux CLI, kubectl, helm, az's Flux v1 commands — answered with
the fluxops command that does that job.

A spelling "did you mean" sends ``get`` to ``extension`` and ``deploy`` to ``key``: close in letters, far in
meaning. This table is the meaning side: a command's first words (after a ``flux``, ``kubectl`` or ``k`` that
names the tool) to a hint that names real fluxops commands (a test parses every one). The parser asks it
when a command is unknown, or when a real command's words did not fit (``reconcile kustomization apps``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.grammar.vocabulary import resolve
from bot.usage import UsageError, shown


@dataclass(frozen=True)
class Foreign:
    """What to say for a command of another tool: ``hint`` names the fluxops command, ``topic`` its help."""

    hint: str
    topic: str | None = None
    #: the first sentence, when "`x` is not a /flux command." would not say enough
    message: str = ""


#: kinds as the other tools spell them -> one word the table uses
_KINDS: dict[str, str] = {
    **dict.fromkeys(("kustomization", "kustomizations", "ks", "kustomizations.kustomize.toolkit.fluxcd.io"), "ks"),
    **dict.fromkeys(("helmrelease", "helmreleases", "hr", "helm-release", "helm-releases"), "hr"),
    **dict.fromkeys(
        (
            "source",
            "sources",
            "gitrepository",
            "gitrepositories",
            "gitrepo",
            "gitrepos",
            "git",
            "bucket",
            "buckets",
            "ocirepository",
            "ocirepositories",
            "oci",
        ),
        "source",
    ),
    **dict.fromkeys(("fluxconfig", "fluxconfigs", "fluxconfiguration", "fluxconfigurations", "configs"), "config"),
    **dict.fromkeys(("deployed-object", "deployed-objects"), "deployed-object"),
    **dict.fromkeys(("cluster", "clusters"), "clusters"),
    **dict.fromkeys(("extension", "extensions", "ext"), "extension"),
}
#: words that name the tool in front of its command (``kubectl get ks``, ``/flux flux get ks``)
_TOOLS = frozenset({"flux", "kubectl", "k"})

_STATUS = "`/flux status NAME -c CLUSTER` shows the state of every Flux object of configuration NAME"
_LIST_KS = Foreign(
    "To list a configuration's kustomizations: `/flux kustomization list --config CONFIG -c CLUSTER`; "
    "`/flux status -c CLUSTER` shows every configuration on the cluster.",
    "kustomization list",
)
_GET = Foreign(
    "`/flux status -c CLUSTER` shows every Flux configuration on a cluster and its state; "
    "`/flux config list -c CLUSTER` lists them.",
    "status",
)
_SYNC = Foreign("`/flux reconcile NAME -c CLUSTER` makes Flux fetch and apply configuration NAME now.", "reconcile")
_DEPLOY = Foreign(
    "fluxops deploys from Git: `/flux config create NAME -c CLUSTER -u URL --branch main --kustomization "
    "name=apps path=./apps` makes a cluster follow a repository, `/flux reconcile NAME -c CLUSTER` applies its "
    "newest commit now, and `/flux fleet apply NAME --clusters SELECTOR ...` rolls a configuration out over many "
    "clusters."
)
_DESCRIBE = Foreign(
    f"{_STATUS}; `/flux events NAME -c CLUSTER` says why one failed.",
    "status",
)
_TREE = Foreign(f"{_STATUS}.", "status")
_EDIT = Foreign(
    "`/flux config update NAME -c CLUSTER --branch main` changes only the options you give.", "config update"
)
_INSTALL = Foreign(
    "`/flux extension create -c CLUSTER` installs Flux (the microsoft.flux extension); `/flux config create` then "
    "points it at a repository.",
    "extension create",
)
_SUSPEND_ONE = Foreign("fluxops suspends a whole configuration: `/flux suspend NAME -c CLUSTER`.", "suspend")
_RESUME_ONE = Foreign("fluxops resumes a whole configuration: `/flux resume NAME -c CLUSTER`.", "resume")
_DEPLOYED = Foreign(
    "`/flux deployed-object list NAME -c CLUSTER` lists the Flux objects configuration NAME deployed; "
    "`/flux deployed-object show` shows one of them.",
    "deployed-object list",
)
_V1 = "the retired Flux v1 command"

FOREIGN: dict[tuple[str, ...], Foreign] = {
    # the Flux CLI and kubectl
    ("get",): _GET,
    ("get", "all"): _GET,
    ("get", "ks"): _LIST_KS,
    ("get", "hr"): Foreign(f"{_STATUS}, its HelmReleases among them.", "status"),
    ("get", "source"): Foreign(
        "`/flux config list -c CLUSTER` lists the Flux configurations with their sources.", "config list"
    ),
    ("get", "config"): Foreign(
        "`/flux config show NAME -c CLUSTER` shows one Flux configuration; `/flux config list -c CLUSTER` lists them.",
        "config show",
    ),
    ("get", "clusters"): Foreign("`/flux clusters` lists the clusters fluxops knows.", "clusters"),
    ("get", "deployed-object"): _DEPLOYED,
    ("get", "extension"): Foreign(
        "`/flux extension list -c CLUSTER` lists a cluster's extensions; `/flux extension show -c CLUSTER` shows "
        "microsoft.flux.",
        "extension list",
    ),
    ("describe",): _DESCRIBE,
    ("logs",): Foreign(
        "fluxops does not read controller logs; `/flux events NAME -c CLUSTER` shows what Flux reported about "
        "configuration NAME's objects.",
        "events",
    ),
    ("log",): Foreign(
        "`/flux audit` lists who changed what; `/flux events NAME -c CLUSTER` what Flux reported.", "audit"
    ),
    ("history",): Foreign("`/flux audit` lists who changed what, where and with what result.", "audit"),
    ("tree",): _TREE,
    ("trace",): _TREE,
    ("stats",): _GET,
    ("sync",): _SYNC,
    ("refresh",): _SYNC,
    ("trigger",): _SYNC,
    ("deploy",): _DEPLOY,
    ("rollout",): Foreign(
        "`/flux fleet apply NAME --clusters SELECTOR ...` rolls a configuration out over many clusters in waves; "
        "`/flux reconcile NAME -c CLUSTER` applies the newest commit on one cluster now.",
        "fleet apply",
    ),
    ("install",): _INSTALL,
    ("bootstrap",): _INSTALL,
    ("uninstall",): Foreign(
        "`/flux extension delete -c CLUSTER` removes Flux (the microsoft.flux extension).", "extension delete"
    ),
    ("upgrade",): Foreign(
        "`/flux extension update -c CLUSTER --version V` changes the microsoft.flux version.", "extension update"
    ),
    ("version",): Foreign(
        "`/flux extension show -c CLUSTER` shows the microsoft.flux version on a cluster; `/flux clusters` shows "
        "every cluster's.",
        "extension show",
    ),
    ("check",): Foreign(
        "`/flux doctor -c CLUSTER` checks a cluster's Flux: providers, the extension and its version, Flux v1 "
        "leftovers.",
        "doctor",
    ),
    ("edit",): _EDIT,
    ("patch",): _EDIT,
    ("set",): _EDIT,
    ("pause",): Foreign("`/flux suspend NAME -c CLUSTER` stops Flux reconciling configuration NAME.", "suspend"),
    ("unpause",): Foreign("`/flux resume NAME -c CLUSTER` lets Flux reconcile configuration NAME again.", "resume"),
    ("diff",): Foreign("`/flux plan`, in a pull request's comments, shows what a fleet change would do.", "plan"),
    ("create", "ks"): Foreign(
        "`/flux kustomization create NAME --config CONFIG -c CLUSTER --path ./apps` adds a kustomization to a "
        "configuration.",
        "kustomization create",
    ),
    ("create", "source"): Foreign(
        "`/flux config create NAME -c CLUSTER -u URL --branch main` creates a configuration with its source.",
        "config create",
    ),
    ("create", "secret"): Foreign(
        "Secrets are never typed into chat: `--deploy-key generate` makes a key, and the `...-ref` flags of "
        "`/flux config create` name credentials fluxops holds.",
        "config create",
    ),
    ("delete", "ks"): Foreign(
        "`/flux kustomization delete NAME --config CONFIG -c CLUSTER` removes a kustomization.", "kustomization delete"
    ),
    ("delete", "source"): Foreign(
        "`/flux config delete NAME -c CLUSTER` deletes a configuration with its source.", "config delete"
    ),
    ("suspend", "ks"): _SUSPEND_ONE,
    ("suspend", "source"): _SUSPEND_ONE,
    ("resume", "ks"): _RESUME_ONE,
    ("resume", "source"): _RESUME_ONE,
    ("reconcile", "ks"): Foreign(
        "`/flux reconcile NAME -c CLUSTER --kustomization K` reconciles kustomization K of configuration NAME.",
        "reconcile",
    ),
    ("reconcile", "source"): Foreign(
        "`/flux reconcile NAME -c CLUSTER --with-source` fetches configuration NAME's source first.", "reconcile"
    ),
    ("apply", "-f"): Foreign(
        "fluxops applies from Git, not from files: `/flux config create NAME -c CLUSTER -u URL --branch main` "
        "makes a cluster follow a repository; `/flux apply` works in pull-request comments on a fleet repository.",
        "config create",
    ),
    # other tools
    ("helm",): Foreign(
        "fluxops installs Helm charts through Flux: a configuration's kustomizations apply HelmReleases, and "
        f"{_STATUS}.",
        "status",
    ),
    ("kubectl",): _GET,
    ("az",): Foreign(
        "fluxops reads pasted `az k8s-configuration flux ...` and `az k8s-extension ...` commands; `/flux help` "
        "lists the others."
    ),
    ("az", "aks"): Foreign(
        "fluxops does not manage the clusters themselves; `/flux clusters` lists the ones it knows."
    ),
    ("az", "connectedk8s"): Foreign(
        "fluxops does not manage the clusters themselves; `/flux clusters` lists the ones it knows."
    ),
    # az's Flux v1 commands (sourceControlConfigurations)
    ("az", "k8s-configuration", "create"): Foreign(
        "`/flux config create NAME -c CLUSTER -u URL --branch main` creates a Flux v2 configuration (as "
        "`az k8s-configuration flux create` does); `/flux v1 migrate NAME -c CLUSTER` moves a v1 one to v2.",
        "v1",
        f"`az k8s-configuration create` is {_V1}.",
    ),
    ("az", "k8s-configuration", "list"): Foreign(
        "`/flux v1 list -c CLUSTER` lists the Flux v1 configurations left on a cluster; `/flux config list -c "
        "CLUSTER` lists the Flux v2 ones.",
        "v1",
        f"`az k8s-configuration list` is {_V1}.",
    ),
    ("az", "k8s-configuration", "show"): Foreign(
        "`/flux v1 list -c CLUSTER` shows the Flux v1 configurations left on a cluster; `/flux config show NAME -c "
        "CLUSTER` shows a Flux v2 one.",
        "v1",
        f"`az k8s-configuration show` is {_V1}.",
    ),
    ("az", "k8s-configuration", "delete"): Foreign(
        "`/flux v1 migrate NAME -c CLUSTER` replaces a Flux v1 configuration with Flux v2 (the v1 one is deleted); "
        "`/flux config delete NAME -c CLUSTER` deletes a Flux v2 one.",
        "v1",
        f"`az k8s-configuration delete` is {_V1}.",
    ),
}


#: az commands fluxops reads as its own (``vocabulary.from_az``): their errors are the /flux command's
_PASTED = frozenset({("az", "k8s-configuration", "flux"), ("az", "k8s-extension")})


def _is_command(words: Sequence[str]) -> bool:
    try:
        resolve(words)
    except UsageError:
        return False
    return True


def _canonical(words: Sequence[str]) -> list[str]:
    return [_KINDS.get(word.lower(), word.lower()) for word in words]


def foreign_command(words: Sequence[str]) -> UsageError | None:
    """The error for ``words`` when they are another tool's command, naming the fluxops one; else None."""
    canonical = _canonical(words)
    tool = 1 if len(canonical) > 1 and canonical[0] in _TOOLS else 0
    found = _lookup(words, canonical, tool)
    if found is None and tool and _is_command(words[1:]):
        return UsageError(
            f"{shown(words[0])} is not a /flux command.",
            hint=f"Leave it out: {shown('/flux ' + ' '.join(words[1:]))}.",
        )
    return found if found is not None or not tool else _lookup(words, canonical, 0)


def _lookup(words: Sequence[str], canonical: Sequence[str], start: int) -> UsageError | None:
    """The longest entry the words from ``start`` begin with, as an error."""
    for size in range(min(4, len(canonical) - start), 0, -1):
        key = tuple(canonical[start : start + size])
        if key in _PASTED:
            return None
        found = FOREIGN.get(key)
        if found is not None:
            said = " ".join(words[: start + size])
            message = found.message or f"{shown(said)} is not a /flux command."
            return UsageError(message, hint=found.hint, topic=found.topic)
    return None
