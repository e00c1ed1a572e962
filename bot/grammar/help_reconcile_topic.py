"""The help topic of ``/flux reconcile`` (bot.grammar.help_topics lists it with the others)."""

from __future__ import annotations

from bot.grammar.help_parts import CLUSTER_FLAGS, Topic

RECONCILE_TOPICS: dict[str, Topic] = {
    "reconcile": Topic(
        usage="/flux reconcile NAME -c CLUSTER [-g RG] [-t TYPE] [--with-source] [--kustomization K]",
        summary="make Flux fetch and apply a configuration now instead of at its next interval",
        description="Asks Flux on the cluster to reconcile now, as `flux reconcile` does: it sets "
        "`reconcile.fluxcd.io/requestedAt` on the configuration's source (its GitRepository, Bucket or "
        "OCIRepository), waits until Flux has fetched it, then does the same for each kustomization in "
        "`depends_on` order, and shows in one message what each object reports: the revision it fetched or "
        "applied, or why it failed. With `--kustomization K` only that kustomization is reconciled, from the "
        "revision the source already has; add `--with-source` to fetch first. It needs fluxops to reach the "
        "cluster's Kubernetes API (FLUXOPS_CLUSTER_ACCESS, on by default); without it Flux still reconciles at "
        "each interval. "
        "A suspended configuration is not reconciled: `/flux resume` it first. Needs the operator role.",
        flags=(
            ("NAME, -n, --name NAME", "the Flux configuration"),
            *CLUSTER_FLAGS,
            ("--kustomization, --ks K", "only this kustomization of the configuration (its name in the configuration)"),
            ("--with-source", "with `--kustomization`: fetch the source first (the whole configuration always does)"),
        ),
        examples=(
            "/flux reconcile cluster-config -c flux-demo-arc",
            "/flux reconcile cluster-config -c flux-demo-arc --kustomization apps --with-source",
        ),
    ),
}
