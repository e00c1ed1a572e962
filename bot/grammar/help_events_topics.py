"""The help topic of ``events``: what Flux's controllers said about a configuration's objects."""

from __future__ import annotations

from bot.grammar.help_parts import CLUSTER_FLAGS, Topic

EVENTS_TOPICS: dict[str, Topic] = {
    "events": Topic(
        usage="/flux events NAME -c CLUSTER [--kind KIND] [--since 1h]",
        summary="the Flux events of a configuration's objects: why a fetch or an apply failed",
        description="Reads the Kubernetes events of configuration NAME's objects from the cluster itself, as "
        "`flux events` does: its source, its Kustomizations and the HelmReleases they applied, oldest first, "
        "warnings marked. Needs fluxops to have access to the cluster's Kubernetes API; without it "
        "`/flux status NAME -c CLUSTER` shows what Azure reports.",
        flags=(
            ("NAME, -n, --name NAME", "the configuration"),
            *CLUSTER_FLAGS,
            (
                "--kind KIND",
                "only objects of this kind: `GitRepository`, `Bucket`, `HelmRepository`, `HelmChart`, "
                "`OCIRepository`, `Kustomization` or `HelmRelease` (any case)",
            ),
            ("--since DURATION", "only events seen in this period, such as `30m`, `2h30m` or `1d` (default `1h`)"),
        ),
        examples=(
            "/flux events cluster-config -c flux-demo-arc",
            "/flux events cluster-config -c flux-demo-arc --kind kustomization --since 30m",
        ),
    ),
}
