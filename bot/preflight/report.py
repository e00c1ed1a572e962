"""A pull request's preflight, as it is posted: the findings of each group of clusters that share them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.preflight.findings import Finding, Level

#: the commit status (and Azure DevOps pull-request status) every preflight posts, whatever it found
CONTEXT = "fluxops/preflight"
#: the hidden marker that finds fluxops' one preflight comment on a pull request again
MARKER = "<!-- fluxops:preflight -->"


@dataclass(frozen=True)
class Group:
    """One configuration on the clusters where it has the same findings (the same kustomizations, the same
    multi-tenancy setting)."""

    config: str
    clusters: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level is Level.ERROR)

    @property
    def context(self) -> str:
        return f"{CONTEXT}/{self.config}"


@dataclass(frozen=True)
class Report:
    """Every group of one pull request's preflight at ``head_sha``."""

    repo: str
    number: int
    head_sha: str
    base_branch: str
    groups: tuple[Group, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for g in self.groups for f in g.errors)

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    @property
    def clusters(self) -> int:
        return len({c for g in self.groups for c in g.clusters})


def grouped(results: Sequence[tuple[str, str, Sequence[Finding]]]) -> tuple[Group, ...]:
    """(cluster, configuration, findings) rows as groups: a configuration's clusters with equal findings
    together, in the order of the configuration's name, then of their first cluster."""
    groups: dict[tuple[str, tuple[Finding, ...]], list[str]] = {}
    for cluster, config, findings in results:
        groups.setdefault((config, tuple(sorted(findings))), []).append(cluster)
    made = [
        Group(config, tuple(sorted(clusters, key=str.lower)), findings)
        for (config, findings), clusters in groups.items()
    ]
    return tuple(sorted(made, key=lambda g: (g.config, g.clusters[0].lower())))


def status_line(findings: Sequence[Finding], clusters: int) -> str:
    """A commit status's description: the first problem (file:line — message) and how many more, or that
    nothing was found."""
    errors = [f for f in findings if f.level is Level.ERROR]
    if not errors:
        return f"no problems found for {clusters} cluster{'' if clusters == 1 else 's'}"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{errors[0].text}{more}"
