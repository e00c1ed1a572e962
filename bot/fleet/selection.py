"""Selector documents expanded against the inventory: one document, every cluster it matches.

``expand_fleet`` turns each selector document of a ``FleetSpec`` into clusters: the clusters of the inventory
whose tags match (``select``, the matching of `/flux clusters --selector`), each given the document's
configurations and extension with its variables filled (``bot.fleet.templating``). The rules:

- A cluster gets what every document that names or selects it declares: a selector and a cluster's own
  entry (or two selectors) add up. Neither wins: the same configuration, or the extension, declared for one
  cluster in two places is an error naming both. Silently preferring one would hide the other's changes
  from the plan (a selector's new branch skipping one cluster), and whole-cluster precedence would make an
  unrelated entry for a cluster delete the configurations its selector gives it.
- A selector that matches no cluster is no error (an inventory may not have the clusters yet), but the plan
  says so (``SelectorMatch`` with no clusters), and the plan's digest covers which clusters each selector
  matched, so a cluster tagged to match after the plan was shown makes `/flux apply` plan again.
- A selected cluster that lacks a tag a variable names, or whose filled path is no path, is an error.
- A cluster only selected is keyed by its ARM id (unique, as the inventory resolves it); one also named
  keeps the key it is named by.

Pure: the inventory comes in as two functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bot.fleet.desired import (
    DesiredCluster,
    FleetError,
    FleetProblem,
    FleetSelection,
    FleetSpec,
    Selector,
    SelectorMatch,
)
from bot.fleet.fields import reason
from bot.fleet.templating import MissingTag, render
from bot.models import Cluster, FluxConfigSpec
from bot.usage import UsageError
from bot.values import path

#: the clusters of the inventory a selector matches, each with its alias (None: it has none)
Select = Callable[[Selector], Sequence[tuple[Cluster, str | None]]]
#: the ARM id of the cluster a fleet file's key names (alias, name or ARM id), None when there is none
ArmIdOf = Callable[[str], str | None]

#: at most this many cluster names in one problem
_NAMES = 10


@dataclass
class _Trouble:
    """Problems found while expanding, gathered by (file, line, key, text) with the clusters they hit."""

    hits: dict[tuple[str, int, str, str], list[str]] = field(default_factory=dict)

    def add(self, selection: FleetSelection, key: str, text: str, label: str) -> None:
        where = (selection.file, selection.line_of(key), key, text)
        self.hits.setdefault(where, []).append(label)

    def problems(self) -> list[FleetProblem]:
        found = []
        for (file, line, key, text), labels in self.hits.items():
            names = sorted(set(labels), key=str.casefold)
            shown = ", ".join(f"'{n}'" for n in names[:_NAMES])
            more = f" and {len(names) - _NAMES} more" if len(names) > _NAMES else ""
            noun = "cluster" if len(names) == 1 else "clusters"
            found.append(FleetProblem(file, line, key, f"{noun} {shown}{more}: {text}"))
        return found


def expand_fleet(spec: FleetSpec, select: Select, arm_id_of: ArmIdOf) -> FleetSpec:
    """``spec`` with its selector documents turned into the clusters they match (``matches`` says which).

    FleetError when a selected cluster cannot have what the document declares (a missing tag, a path the
    variables make invalid) or gets one configuration or the extension from two places.
    """
    if not spec.selections:
        return spec
    trouble = _Trouble()
    named: dict[str, str] = {}  # casefolded ARM id -> the key of the named cluster it is
    for key in spec:
        arm = arm_id_of(key)
        if arm is not None:
            named.setdefault(arm.casefold(), key)
    merged: dict[str, DesiredCluster] = {}  # casefolded ARM id -> the cluster with what selectors add
    extension_from: dict[str, str] = {}  # casefolded ARM id -> the selector document that gave its extension
    matches: list[SelectorMatch] = []
    for selection in spec.selections:
        matched: dict[str, tuple[str, str]] = {}
        for cluster, alias in select(selection.selector):
            arm, label = cluster.ref.arm_id, alias or cluster.ref.name
            fold = arm.casefold()
            matched[fold] = (label, arm)
            built = _instantiate(selection, cluster, label, trouble)
            if built is None:
                continue
            base = merged.get(fold)
            if base is None:
                base = spec[named[fold]] if fold in named else DesiredCluster(key=arm, origin=selection.origin)
            had = extension_from.get(fold, base.origin)
            merged[fold] = _merge(base, built, selection, label, had, trouble)
            if base.extension is None and built.extension is not None:
                extension_from[fold] = selection.origin
        pairs = sorted(matched.values(), key=lambda p: (p[0].casefold(), p[1].casefold()))
        matches.append(SelectorMatch(selection.origin, selection.selector, tuple(pairs)))
    problems = trouble.problems()
    if problems:
        raise FleetError(problems)
    replaced = {named[fold] for fold in merged if fold in named}
    clusters = [c for key, c in spec.items() if key not in replaced] + list(merged.values())
    return FleetSpec(clusters, matches=matches)


def _instantiate(selection: FleetSelection, cluster: Cluster, label: str, trouble: _Trouble) -> DesiredCluster | None:
    """The selection's template for ``cluster``: variables filled, filled paths checked again."""
    configs: list[FluxConfigSpec] = []
    ok = True
    for spec in selection.template.configurations:
        kustomizations = []
        for k in spec.kustomizations:
            prefix = f"configurations.{spec.name}.kustomizations.{k.name}"
            filled = _fill(selection, f"{prefix}.path", k.path, cluster, label, trouble)
            if filled is not None and filled != k.path:
                try:
                    path(filled, f"the path '{filled}' for cluster '{label}'")
                except UsageError as err:
                    trouble.add(selection, f"{prefix}.path", reason(err), label)
                    filled = None
            substitute = []
            for name, value in k.substitute:
                done = _fill(selection, f"{prefix}.substitute.{name}", value, cluster, label, trouble)
                substitute.append((name, done))
            if filled is None or any(v is None for _, v in substitute):
                ok = False
                continue
            kustomizations.append(replace(k, path=filled, substitute=tuple((n, v or "") for n, v in substitute)))
        configs.append(replace(spec, kustomizations=tuple(kustomizations)))
    if not ok:
        return None
    return replace(selection.template, key=cluster.ref.arm_id, configurations=tuple(configs))


def _fill(
    selection: FleetSelection, key: str, text: str, cluster: Cluster, label: str, trouble: _Trouble
) -> str | None:
    try:
        return render(text, cluster)
    except MissingTag as missing:
        trouble.add(selection, key, f"no tag '{missing.key}', which ${{cluster.tags.{missing.key}}} needs", label)
        return None


def _merge(
    base: DesiredCluster,
    add: DesiredCluster,
    selection: FleetSelection,
    label: str,
    extension_from: str,
    trouble: _Trouble,
) -> DesiredCluster:
    """``base`` with what ``selection`` gives it (``add``); what both declare is a conflict, and stays ``base``'s
    (``extension_from``: where ``base``'s extension was declared)."""
    origin = selection.origin
    if add.extension is not None and base.extension is not None:
        text = f"the extension is declared here and in {extension_from}: declare it once"
        trouble.add(selection, "extension", text, label)
    configs = list(base.configurations)
    origins = list(base.config_origins)
    for spec in add.configurations:
        if base.configuration(spec.name) is not None:
            text = f"configuration '{spec.name}' is declared here and in {base.origin_of(spec.name)}: declare it once"
            trouble.add(selection, f"configurations.{spec.name}", text, label)
            continue
        configs.append(spec)
        origins.append((spec.name, origin))
    credentials = {name: refs for name, refs in base.credentials}
    for name, refs in add.credentials:
        credentials.setdefault(name, refs)
    return replace(
        base,
        extension=base.extension or add.extension,
        configurations=tuple(sorted(configs, key=lambda c: c.name)),
        credentials=tuple(sorted(credentials.items())),
        selected_by=(*base.selected_by, origin),
        config_origins=tuple(origins),
    )
