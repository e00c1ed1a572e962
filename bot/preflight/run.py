"""Every preflight check of one Flux configuration, over a pull request's head against its base: only what
the pull request introduces is reported (a problem the base branch already has is not its doing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.preflight.chart_versions import ChartIndex, missing_versions, wanted_charts
from bot.preflight.cross_namespace import cross_namespace_refs
from bot.preflight.depends_on import dependency_cycles
from bot.preflight.findings import Finding, introduced
from bot.preflight.paths import missing_paths
from bot.preflight.scope import Scope, scope_of
from bot.preflight.syntax import broken_yaml
from bot.preflight.tree import Tree


@dataclass(frozen=True)
class Subject:
    """What the checks need of a configuration on one cluster: its namespace, its kustomizations
    (name, path), and whether the cluster's flux extension enforces multi-tenancy."""

    namespace: str
    kustomizations: tuple[tuple[str, str], ...]
    multi_tenancy: bool


def combined_scope(tree: Tree, subject: Subject) -> Scope:
    """The files every kustomization of ``subject`` builds, together."""
    scope = Scope()
    for _, path in subject.kustomizations:
        one = scope_of(tree, path)
        for file, namespace in one.files.items():
            scope.files.setdefault(file, namespace)
        scope.references.extend(one.references)
    return scope


def chart_urls(subject: Subject, head: Tree, base: Tree) -> set[str]:
    """The Helm repository URLs whose index the chart-version check must read: those of the chart versions
    ``head`` asks for that ``base`` did not (what the base already asked for is not the pull request's doing)."""

    def asked(tree: Tree) -> dict[tuple[str, str, str, str], str]:
        wanted = wanted_charts(tree, combined_scope(tree, subject), subject.namespace)
        return {(w.release.label, w.url, w.chart, w.version): w.url for w in wanted}

    before = asked(base)
    return {url for key, url in asked(head).items() if key not in before}


def _findings(subject: Subject, tree: Tree, base: Tree, indexes: Mapping[str, ChartIndex]) -> list[Finding]:
    scope = combined_scope(tree, subject)
    found = broken_yaml(tree, scope.files)
    found += missing_paths(base, tree, subject.kustomizations)
    if subject.multi_tenancy:
        found += cross_namespace_refs(tree, scope, subject.namespace)
    found += missing_versions(wanted_charts(tree, scope, subject.namespace), indexes)
    found += dependency_cycles(tree, scope, subject.namespace)
    return found


def preflight(subject: Subject, head: Tree, base: Tree, indexes: Mapping[str, ChartIndex]) -> list[Finding]:
    """What the pull request (``base`` -> ``head``) breaks for ``subject``, sorted by file and line."""
    return introduced(_findings(subject, head, base, indexes), _findings(subject, base, base, indexes))
