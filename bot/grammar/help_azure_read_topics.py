"""Help for the az-shaped reads and write options: ``extension list``, ``deployed-object list|show``, and the
``--no-wait`` every write takes (``no_wait_topics`` adds it to those topics, so no topic repeats it by hand)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.grammar.help_parts import CLUSTER_FLAGS, Topic
from bot.grammar.write_flags import NO_WAIT_HELP

#: the commands that take ``--no-wait`` (those whose command is a ``bot.commands.AzureWrite``)
NO_WAIT_COMMANDS = (
    "config create",
    "config update",
    "config delete",
    "kustomization create",
    "kustomization update",
    "kustomization delete",
    "extension create",
    "extension update",
    "extension delete",
)

AZURE_READ_TOPICS: dict[str, Topic] = {
    "extension list": Topic(
        usage="/flux extension list -c CLUSTER",
        summary="list every extension on a cluster: type, version, auto-upgrade, state, scope",
        description="Lists the cluster's extensions, microsoft.flux and any other, as `az k8s-extension list` "
        "does: each one's name, type, version, auto-upgrade, provisioning state and where it is installed "
        "(the release namespace of a cluster-scoped extension, the target namespace of a namespace-scoped one).",
        flags=CLUSTER_FLAGS,
        examples=("/flux extension list -c flux-demo-arc",),
    ),
    "deployed-object list": Topic(
        usage="/flux deployed-object list NAME -c CLUSTER",
        summary="list the Flux objects a configuration deployed, with their compliance",
        description="Lists the objects Azure reports for configuration NAME, as "
        "`az k8s-configuration flux deployed-object list` does: kind, name, namespace, compliance state and the "
        "Kustomization that applied each one. `/flux deployed-object show` shows one object in full.",
        flags=(("NAME, -n, --name NAME", "the configuration"), *CLUSTER_FLAGS),
        examples=("/flux deployed-object list cluster-config -c flux-demo-arc",),
    ),
    "deployed-object show": Topic(
        usage="/flux deployed-object show NAME -c CLUSTER --object-name OBJECT --object-kind KIND "
        "[--object-namespace NAMESPACE]",
        summary="show one Flux object a configuration deployed: conditions, HelmRelease details",
        description="Shows one object of configuration NAME as Azure reports it, as "
        "`az k8s-configuration flux deployed-object show` does: its compliance, the Kustomization that applied "
        "it, its status conditions and, for a HelmRelease, the chart, the revision applied and its failures.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration"),
            *CLUSTER_FLAGS,
            ("--object-name OBJECT", "the object's name"),
            (
                "--object-kind KIND",
                "its kind: `GitRepository`, `Bucket`, `OCIRepository`, `Kustomization`, `HelmRelease`... (any case)",
            ),
            ("--object-namespace NAMESPACE", "its namespace (needed only when two objects share name and kind)"),
        ),
        examples=(
            "/flux deployed-object show cluster-config -c flux-demo-arc --object-name nginx "
            "--object-namespace cluster-config --object-kind HelmRelease",
        ),
    ),
}


def no_wait_topics(topics: Mapping[str, Topic]) -> dict[str, Topic]:
    """The topics of the commands that take ``--no-wait``, with it in their usage and flags."""
    return {
        path: replace(
            topics[path], usage=f"{topics[path].usage} [--no-wait]", flags=(*topics[path].flags, NO_WAIT_HELP)
        )
        for path in NO_WAIT_COMMANDS
    }
