"""Help topics of ``doctor`` and ``v1 list|migrate`` (bot.grammar.help_topics gathers them)."""

from __future__ import annotations

from bot.grammar.help_parts import CLUSTER_FLAGS, Topic

DOCTOR_TOPICS: dict[str, Topic] = {
    "doctor": Topic(
        usage="/flux doctor -c CLUSTER | /flux doctor --clusters KEY=VALUE,...",
        summary="preflight: providers, the Flux extension and its N-2 version, Flux v1 leftovers, pitfalls",
        description="Checks what stands between a cluster and a working Flux v2, each finding with the command "
        "that fixes it: the resource providers registered; microsoft.flux installed, its state, its version "
        "against the newest and the supported window (the newest and the two minor versions before it), "
        "auto-upgrade; Flux v1 configurations blocking v2; configurations that failed or stay Non-Compliant; "
        "the identity settings Azure sources need. With cluster access it also checks the Flux controllers, the "
        "Flux CRDs, leftover Flux v1 operators, and objects whose source is in another namespace while "
        "multi-tenancy is enforced. `--clusters` checks every cluster the selector matches (`all`: every cluster "
        "you may see) and sums them up.",
        flags=(
            *CLUSTER_FLAGS,
            ("--clusters KEY=VALUE,... | all", "check every cluster whose tags match, instead of one"),
        ),
        examples=("/flux doctor -c flux-demo-arc", "/flux doctor -c legacy-arc", "/flux doctor --clusters env=demo"),
    ),
    "v1 list": Topic(
        usage="/flux v1 list -c CLUSTER",
        summary="list the retired Flux v1 configurations left on a cluster",
        description="Shows each Flux v1 (`sourceControlConfigurations`) configuration: repository URL, operator "
        "namespace, instance name, parameters and scope, SSH known hosts, the Helm operator, the public key the "
        "operator generated, and its compliance. Flux v1 must be removed before microsoft.flux can be installed: "
        "`/flux v1 migrate NAME -c CLUSTER` moves one to Flux v2.",
        flags=CLUSTER_FLAGS,
        examples=("/flux v1 list -c legacy-arc",),
    ),
    "v1 migrate": Topic(
        usage="/flux v1 migrate NAME -c CLUSTER",
        summary="replace a Flux v1 configuration with the equivalent Flux v2 one",
        description="Shows the Flux v2 configuration that does what v1 configuration NAME does (its URL; the "
        "branch and path from `--git-branch` (default master) and `--git-path`; the operator namespace and "
        "scope; one kustomization) and asks for confirmation. Then it deletes the v1 configuration (it must go "
        "before microsoft.flux can be installed), installs microsoft.flux if it is missing, creates the v2 "
        "configuration (an SSH repository gets a new deploy key: the v1 operator's key stays on the cluster) "
        "and watches it to Compliant. If v2 fails, the message says how to recreate v1.",
        flags=(*CLUSTER_FLAGS, ("-n, --name NAME", "the v1 configuration (or give it first)")),
        examples=("/flux v1 migrate cluster-config -c legacy-arc",),
    ),
}
