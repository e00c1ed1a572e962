"""HelmReleases that ask for a chart version their HelmRepository's index does not have: helm-controller
fails them with "no chart version found". Checked where the index can be read over HTTP(S); an index that
cannot be read is said in a note, and does not fail the check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.preflight.findings import Finding, Level
from bot.preflight.objects import Placed, placed
from bot.preflight.scope import Scope
from bot.preflight.semver_ranges import BadConstraint, matching, parse_version
from bot.preflight.tree import Manifest, Tree, child, line_of, scalar

CHECK = "chart-version"
#: newest versions named when none matches
SHOWN = 3


@dataclass(frozen=True)
class ChartIndex:
    """A Helm repository's ``index.yaml``: each chart's versions; ``problem`` when it could not be read."""

    url: str
    charts: Mapping[str, tuple[str, ...]]
    problem: str = ""


@dataclass(frozen=True)
class Wanted:
    """A HelmRelease's chart: the repository URL and chart, the version asked, and the line it is on."""

    release: Placed
    url: str
    chart: str
    version: str
    line: int


def _repository(tree: Tree, name: str, namespace: str, default_namespace: str) -> Manifest | None:
    """The HelmRepository ``name`` anywhere in the tree, in ``namespace`` when several share the name."""
    named = [m for m in tree.flux_objects("HelmRepository") if m.name == name]
    same = [m for m in named if (m.namespace or default_namespace) == namespace]
    candidates = same or named
    return candidates[0] if candidates else None


def wanted_charts(tree: Tree, scope: Scope, default_namespace: str) -> list[Wanted]:
    """Every HelmRelease of ``scope`` that names a chart version of an HTTP(S) HelmRepository of the tree."""
    found = []
    for release in placed(tree, scope, default_namespace, ("HelmRelease",)):
        spec = child(release.manifest.node, "spec", "chart", "spec")
        version_node = child(spec, "version")
        version, chart = scalar(spec, "version"), scalar(spec, "chart")
        if spec is None or version_node is None or not version or version.strip() == "*" or not chart:
            continue
        if (scalar(spec, "sourceRef", "kind") or "") != "HelmRepository":
            continue
        namespace = scalar(spec, "sourceRef", "namespace") or release.namespace
        repository = _repository(tree, scalar(spec, "sourceRef", "name") or "", namespace, default_namespace)
        url = scalar(repository.node, "spec", "url") if repository is not None else None
        kind = scalar(repository.node, "spec", "type") if repository is not None else None
        if not url or kind == "oci" or not url.startswith(("https://", "http://")):
            continue
        found.append(Wanted(release, url, chart, version.strip(), line_of(version_node)))
    return found


def missing_versions(wanted: list[Wanted], indexes: Mapping[str, ChartIndex]) -> list[Finding]:
    """A finding for each wanted chart version its index lacks; a note where the index was not read."""
    found = []
    for want in wanted:
        path, label = want.release.manifest.path, want.release.label
        index = indexes.get(want.url)
        if index is None or index.problem:
            reason = index.problem if index is not None else "it was not read"
            note = f"{label}: chart version '{want.version}' not checked: the index of {want.url} {reason}"
            found.append(Finding(path, want.line, note, CHECK, Level.NOTE))
            continue
        versions = index.charts.get(want.chart)
        if versions is None:
            message = f"{label} asks for chart '{want.chart}', which the index of {want.url} does not have"
            found.append(Finding(path, want.line, message, CHECK))
            continue
        try:
            if matching(want.version, versions):
                continue
        except BadConstraint:
            message = f"{label}: '{want.version}' is not a version or version range helm-controller can read"
            found.append(Finding(path, want.line, message, CHECK))
            continue
        released = sorted((v for v in versions if parse_version(v)), key=lambda v: _key(v), reverse=True)
        newest = ", ".join(released[:SHOWN]) or "none"
        message = (
            f"{label} asks for chart '{want.chart}' version '{want.version}', which the index of {want.url} "
            f"does not have (newest: {newest})"
        )
        found.append(Finding(path, want.line, message, CHECK))
    return found


def _key(version: str) -> tuple[int, int, int, int]:
    parsed = parse_version(version)
    assert parsed is not None
    return parsed[0], parsed[1], parsed[2], 0 if parsed[3] else 1
