"""Reading fleet files: which files they are, each YAML document checked against ``bot.fleet.schema``, and
every problem said with its ``file:line`` and key path (the line found in the YAML's nodes)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.commands import CredentialRefs
from bot.fleet import templating
from bot.fleet.desired import DesiredCluster, DesiredExtension, FleetError, FleetProblem, FleetSelection, FleetSpec
from bot.fleet.fields import reason
from bot.fleet.schema import API_VERSION, KIND, ClusterDocument, ConfigurationDocument, ExtensionDocument, FleetDocument
from bot.flux_settings import check_setting
from bot.kustomization_order import check_dependencies
from bot.models import FluxConfigSpec, Kustomization
from bot.usage import UsageError, closest

# The error-location helpers of the FLUXOPS_CONFIG loader: the same YAML, the same way of saying where.
from bot.yaml_problems import allowed_keys, duplicate_keys, key_path, line_of, value_problem


def fleet_files(paths: Iterable[str], root: str) -> list[str]:
    """The fleet files among a repository's ``paths``: ``root`` itself, or ``*.yaml`` / ``*.yml`` under it."""
    base = root.strip().strip("/")
    found = []
    for candidate in paths:
        clean = candidate.strip("/")
        if clean == base or (clean.startswith(base + "/") and clean.endswith((".yaml", ".yml"))):
            found.append(clean)
    return sorted(found)


Loc = tuple[int | str, ...]


class _Collector:
    """Problems found so far, with the file and document they were found in."""

    def __init__(self) -> None:
        self.problems: list[FleetProblem] = []

    def add(self, file: str, root: yaml.Node | None, loc: Loc, text: str) -> None:
        line = _where(root, loc) if root is not None else 0
        self.problems.append(FleetProblem(file, line, key_path(loc), text))


def load_fleet(files: Mapping[str, str]) -> FleetSpec:
    """Read and check fleet files (path -> YAML text); FleetError lists every problem with file:line and key."""
    found = _Collector()
    first_seen: dict[str, str] = {}  # casefolded cluster key -> "file:line" of its declaration
    clusters: list[DesiredCluster] = []
    selections: list[FleetSelection] = []
    for file in sorted(files):
        for root, document in _documents(file, files[file], found):
            if document.selector is not None:
                selection = _selection(file, root, document, found)
                if selection is not None:
                    selections.append(selection)
                continue
            for at in templating.stray(document.model_dump(include={"clusters"})):
                found.add(file, root, at, "variables (${cluster.…}) are filled only in documents with a selector")
            for key, cluster in (document.clusters or {}).items():
                loc: Loc = ("clusters", key)
                origin = f"{file}:{_where(root, loc)}"
                earlier = first_seen.get(key.casefold())
                if earlier is not None:
                    found.add(file, root, loc, f"cluster '{key}' is declared twice (first in {earlier})")
                    continue
                first_seen[key.casefold()] = origin
                built = _cluster(key, cluster, origin, _reporter(found, file, root, loc))
                if built is not None:
                    clusters.append(built)
    if found.problems:
        raise FleetError(found.problems)
    return FleetSpec(clusters, selections=selections)


def _selection(file: str, root: yaml.Node, document: FleetDocument, found: _Collector) -> FleetSelection | None:
    """A selector document: its template checked (variables included) and the lines of its keys."""
    report = _reporter(found, file, root, ())
    ok = True
    dumped = document.model_dump(include={"extension", "configurations"})
    fields = dict(templating.templated(dumped.get("configurations") or {}))
    for at, text in fields.items():
        for problem in templating.problems(text):
            report(at, problem)
            ok = False
    for at in templating.stray(dumped, frozenset(fields)):
        report(at, "variables (${cluster.…}) are filled only in kustomization paths and substitute values")
        ok = False
    line = _where(root, ("selector",))
    origin = f"{file}:{line}"
    template = _cluster(origin, document.selected(), origin, report)
    if not ok or template is None:
        return None
    keys: list[Loc] = [*(("configurations", name) for name in document.configurations or {}), *fields]
    if document.extension is not None:
        keys.append(("extension",))
    selector = () if document.selector == "all" else tuple((document.selector or {}).items())
    return FleetSelection(
        file=file,
        line=line,
        selector=selector,
        template=template,
        lines=tuple((key_path(at), _where(root, at)) for at in keys),
    )


def _reporter(found: _Collector, file: str, root: yaml.Node, prefix: Loc) -> Report:
    def report(at: Loc, text: str) -> None:
        found.add(file, root, (*prefix, *at), text)

    return report


def _within(report: Report, prefix: Loc) -> Report:
    def nested(at: Loc, text: str) -> None:
        report((*prefix, *at), text)

    return nested


def _documents(file: str, text: str, found: _Collector) -> Iterator[tuple[yaml.Node, FleetDocument]]:
    """Each document of ``file`` that checks out; problems of the others go to ``found``."""
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            root = loader.get_node()
            data = loader.construct_document(root) if root is not None else None
            if root is None or data is None:
                continue  # an empty document (a trailing ---)
            document = _document(file, root, data, found)
            if document is not None:
                yield root, document
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = getattr(exc, "problem", None) or getattr(exc, "context", None) or "cannot parse"
        line = mark.line + 1 if mark is not None else 0
        found.problems.append(FleetProblem(file, line, "", f"not valid YAML: {what}"))
    finally:
        loader.dispose()


def _document(file: str, root: yaml.Node, data: Any, found: _Collector) -> FleetDocument | None:
    duplicates = duplicate_keys(root)
    for text in duplicates:  # "line 7: key 'x' appears twice (first on line 5)"
        line_text, _, rest = text.partition(": ")
        found.problems.append(FleetProblem(file, int(line_text.removeprefix("line ")), "", rest))
    if duplicates:
        return None
    if not isinstance(data, dict):
        found.add(
            file,
            root,
            (),
            f"a fleet document is a mapping with apiVersion, kind and clusters (or selector), "
            f"not a {type(data).__name__}",
        )
        return None
    api, kind = data.get("apiVersion"), data.get("kind")
    if api != API_VERSION or kind != KIND:
        key, got, want = ("apiVersion", api, API_VERSION) if api != API_VERSION else ("kind", kind, KIND)
        got_text = "it is missing" if got is None else f"not {got!r}"
        found.add(
            file,
            root,
            (key,) if got is not None else (),
            f"every document under the fleet path must be a fluxops fleet: {key} must be {want}, {got_text}",
        )
        return None
    selector = data.get("selector")
    if selector is not None and not isinstance(selector, dict) and selector != "all":
        found.add(file, root, ("selector",), f"a selector is tags to match (env: prod, ...) or 'all', not {selector!r}")
        return None
    try:
        return FleetDocument.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = _loc(error)
            if loc[:1] == ("selector",) and len(loc) > 1 and isinstance(loc[1], str):
                if not loc[1].startswith("dict["):
                    continue  # the 'all' reading of a mapping says nothing more
                error = {**error, "loc": ("selector", *loc[2:])}
            found.add(file, root, _loc(error), _problem(error))
        return None


def _loc(error: ErrorDetails) -> Loc:
    return tuple(error["loc"])


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    loc = _loc(error)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = allowed_keys(FleetDocument, loc[:-1])
        spelled = {_fold(name): name for name in allowed}.get(_fold(key))
        close = spelled or closest(key, allowed)
        hint = f" — did you mean '{close}'?" if close else ""
        if spelled:
            hint += " (fleet files spell keys in camelCase)"
        listing = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"unknown key '{key}'{hint}{listing}"
    return value_problem(error)


def _fold(name: str) -> str:
    return re.sub(r"[-_]", "", name).casefold()


def _where(root: yaml.Node | None, loc: Loc) -> int:
    """The line of the key ``loc`` ends with (not the line of its value's first child); for a key that is
    missing, the line of the key that should hold it; else ``line_of``."""
    if root is None:
        return 0
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
    if loc and isinstance(loc[-1], str):
        parent: yaml.Node | None = root
        for part in loc[:-1]:
            parent = _child(parent, part)
        if isinstance(parent, yaml.MappingNode):
            for key, _ in parent.value:
                if isinstance(key, yaml.ScalarNode) and key.value == loc[-1]:
                    return int(key.start_mark.line) + 1
            if len(loc) > 1:
                return _where(root, loc[:-1])
    return line_of(root, loc)


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


Report = Callable[[Loc, str], None]


def _cluster(key: str, document: ClusterDocument, origin: str, report: Report) -> DesiredCluster | None:
    """The domain value of one cluster document, after the checks that span several keys."""
    ok = True
    extension: DesiredExtension | None = None
    if document.extension is not None:
        extension = _extension(document.extension, report)
        ok = extension is not None
    configs: list[FluxConfigSpec] = []
    credentials: list[tuple[str, CredentialRefs]] = []
    for name, config in document.configurations.items():
        built = _configuration(name, config, _within(report, ("configurations", name)))
        if built is None:
            ok = False
            continue
        spec, refs = built
        configs.append(spec)
        if not refs.is_empty():
            credentials.append((name, refs))
    if not ok:
        return None
    return DesiredCluster(
        key=key,
        extension=extension,
        configurations=tuple(sorted(configs, key=lambda c: c.name)),
        credentials=tuple(sorted(credentials)),
        origin=origin,
    )


def _extension(document: ExtensionDocument, report: Report) -> DesiredExtension | None:
    settings: list[tuple[str, str | None]] = []
    ok = True
    for key, value in document.settings.items():
        if value is None:
            settings.append((key, None))
            continue
        try:
            settings.append(check_setting(key, value))
        except UsageError as err:
            report(("extension", "settings", key), reason(err))
            ok = False
    if not ok:
        return None
    train = document.releaseTrain
    return DesiredExtension(
        auto_upgrade_minor_version=False if document.version is not None else document.autoUpgradeMinorVersion,
        release_train=train.capitalize() if train else None,
        version=document.version,
        settings=tuple(sorted(settings)),
    )


def _configuration(
    name: str, document: ConfigurationDocument, report: Report
) -> tuple[FluxConfigSpec, CredentialRefs] | None:
    source, refs = document.source.build()  # checked when the document was validated
    kustomizations = [
        Kustomization(
            name=kname,
            path=k.path,
            depends_on=tuple(dict.fromkeys(k.dependsOn)),
            prune=k.prune,
            force=k.force,
            wait=k.wait,
            timeout_seconds=k.timeout if k.timeout is not None else 600,
            sync_interval_seconds=k.interval if k.interval is not None else 600,
            retry_interval_seconds=k.retryInterval,
            substitute=tuple(sorted(k.substitute.items())),
        )
        for kname, k in document.kustomizations.items()
    ]
    names = [k.name for k in kustomizations]
    ok = True
    for k in kustomizations:
        for dependency in k.depends_on:
            if dependency == k.name:
                report(("kustomizations", k.name, "dependsOn"), f"kustomization '{k.name}' cannot depend on itself")
                ok = False
            elif dependency not in names:
                near = closest(dependency, [n for n in names if n != k.name])
                hint = f" — did you mean '{near}'?" if near else ""
                defined = ", ".join(names)
                report(
                    ("kustomizations", k.name, "dependsOn"),
                    f"'{dependency}' is not a kustomization of configuration '{name}'{hint} (it has: {defined})",
                )
                ok = False
    if ok:
        try:
            check_dependencies(kustomizations)
        except UsageError as err:
            report(("kustomizations",), reason(err).replace("`", "'"))
            ok = False
    if not ok:
        return None
    spec = FluxConfigSpec(
        name=name,
        source=source,
        namespace=document.namespace,
        scope=document.scope,
        kustomizations=tuple(kustomizations),
        suspend=document.suspend,
    )
    return spec, refs
