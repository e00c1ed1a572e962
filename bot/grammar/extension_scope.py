"""Where an extension installs, as ``az k8s-extension create`` says it: ``--scope cluster|namespace``,
``--release-namespace`` (cluster scope) and ``--target-namespace`` (namespace scope).

They become ARM's create-only ``scope`` (``scope.cluster.releaseNamespace`` or ``scope.namespace.targetNamespace``);
left out, ARM picks the namespace (``flux-system`` for microsoft.flux). Whether an extension type allows a scope is
ARM's to say: microsoft.flux installs with cluster scope only, and ARM answers a namespace scope with why.
"""

from __future__ import annotations

from bot.grammar.flags import Flag, Options
from bot.usage import UsageError, code
from bot.values import choice, dns_label

SCOPE = Flag("scope", ("--scope",), metavar="cluster|namespace")
RELEASE_NAMESPACE = Flag("release_namespace", ("--release-namespace",), metavar="NAMESPACE")
TARGET_NAMESPACE = Flag("target_namespace", ("--target-namespace",), metavar="NAMESPACE")
SCOPE_FLAGS = (SCOPE, RELEASE_NAMESPACE, TARGET_NAMESPACE)
_SCOPES = {"cluster": "cluster", "namespace": "namespace"}
#: the namespace flag each scope takes
_NAMESPACE_OF = {"cluster": "release_namespace", "namespace": "target_namespace"}


def extension_scope(options: Options) -> tuple[str, str | None]:
    """(scope, namespace): the namespace is the release namespace (cluster scope) or the target namespace
    (namespace scope), None when not given. A namespace flag implies its scope when ``--scope`` is left out."""
    if options.given("release_namespace") and options.given("target_namespace"):
        raise UsageError(
            "`--release-namespace` (cluster scope) and `--target-namespace` (namespace scope) cannot both be given.",
            hint="Give the one of the scope you want.",
            usage=True,
        )
    given = options.value("scope")
    if given is not None:
        scope = choice(given, "`--scope`", _SCOPES)
    else:
        scope = "namespace" if options.given("target_namespace") else "cluster"
    mine = _NAMESPACE_OF[scope]
    other = _NAMESPACE_OF["namespace" if scope == "cluster" else "cluster"]
    if options.given(other):
        raise UsageError(
            f"{code(options.spelled(other))} does not go with `--scope {scope}`.",
            hint=f"A {scope}-scoped extension takes {code('--' + mine.replace('_', '-'))}.",
            usage=True,
        )
    value = options.value(mine)
    return scope, dns_label(value, code(options.spelled(mine))) if value is not None else None
