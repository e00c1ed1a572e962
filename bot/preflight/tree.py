"""A repository's YAML files at one commit, composed with PyYAML so every value keeps its line.

``yaml.compose_all`` (not ``safe_load``) gives nodes with ``start_mark``: a finding can say
``apps/podinfo.yaml:12`` for the very key that is wrong. A file that does not compose is kept with its
error, so the syntax check reports it and the other checks skip it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import yaml

#: a Flux object kind, by its API group (any version): what the checks look at
FLUX_GROUPS = {
    "Kustomization": "kustomize.toolkit.fluxcd.io",
    "HelmRelease": "helm.toolkit.fluxcd.io",
    "HelmRepository": "source.toolkit.fluxcd.io",
}


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def child(node: yaml.Node | None, *keys: str) -> yaml.Node | None:
    """The node at ``keys`` below the mapping ``node`` (None when any step is missing or not a mapping)."""
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
    return node


def scalar(node: yaml.Node | None, *keys: str) -> str | None:
    """The text of the scalar at ``keys`` (None when missing, null or not a scalar)."""
    found = child(node, *keys)
    if not isinstance(found, yaml.ScalarNode) or found.tag == "tag:yaml.org,2002:null":
        return None
    return str(found.value)


def items(node: yaml.Node | None, *keys: str) -> list[yaml.Node]:
    """The entries of the sequence at ``keys`` ([] when missing or not a sequence)."""
    found = child(node, *keys)
    return list(found.value) if isinstance(found, yaml.SequenceNode) else []


@dataclass(frozen=True)
class Manifest:
    """One YAML document of a file: its root mapping and where it is."""

    path: str
    node: yaml.MappingNode

    @property
    def kind(self) -> str:
        return scalar(self.node, "kind") or ""

    @property
    def name(self) -> str:
        return scalar(self.node, "metadata", "name") or ""

    @property
    def namespace(self) -> str | None:
        return scalar(self.node, "metadata", "namespace")

    @property
    def line(self) -> int:
        return line_of(self.node)

    def is_flux(self, kind: str) -> bool:
        """Whether this is the Flux object ``kind`` (its API group Flux's, whatever the version)."""
        group = (scalar(self.node, "apiVersion") or "").partition("/")[0]
        return self.kind == kind and group == FLUX_GROUPS[kind]


@dataclass(frozen=True)
class Broken:
    """A file that does not compose: the line and PyYAML's problem."""

    path: str
    line: int
    problem: str


@dataclass(frozen=True)
class Tree:
    """The text of a repository's YAML files at one commit, keyed by repository path (``apps/a.yaml``)."""

    files: Mapping[str, str]
    _parsed: dict[str, list[Manifest] | Broken] = field(default_factory=dict, compare=False, repr=False)
    _kinds: dict[str, list[Manifest]] = field(default_factory=dict, compare=False, repr=False)

    def parse(self, path: str) -> list[Manifest] | Broken:
        """The mapping documents of ``path`` in order, or why it does not compose (cached)."""
        cached = self._parsed.get(path)
        if cached is None:
            cached = self._parsed[path] = _compose(path, self.files.get(path, ""))
        return cached

    def manifests(self, paths: Iterator[str] | list[str] | set[str]) -> list[Manifest]:
        """Every mapping document of the composable files among ``paths``, in path order."""
        found: list[Manifest] = []
        for path in sorted(paths):
            parsed = self.parse(path)
            if not isinstance(parsed, Broken):
                found.extend(parsed)
        return found

    def flux_objects(self, kind: str) -> list[Manifest]:
        """Every Flux object ``kind`` in any file of the tree, in path order (found once per tree and kind)."""
        found = self._kinds.get(kind)
        if found is None:
            found = self._kinds[kind] = [m for m in self.manifests(set(self.files)) if m.is_flux(kind)]
        return found

    @cached_property
    def directories(self) -> frozenset[str]:
        """Every directory holding a file, at any depth ("" is the root)."""
        found = {""}
        for path in self.files:
            parts = path.split("/")[:-1]
            found.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return frozenset(found)

    def under(self, directory: str) -> list[str]:
        """The files at or below ``directory``, sorted."""
        if not directory:
            return sorted(self.files)
        prefix = directory + "/"
        return sorted(p for p in self.files if p.startswith(prefix))


def _compose(path: str, text: str) -> list[Manifest] | Broken:
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        return Broken(path, mark.line + 1 if mark is not None else 1, error.problem or error.context or "cannot parse")
    except yaml.YAMLError:
        return Broken(path, 1, "cannot parse")
    return [Manifest(path, node) for node in nodes if isinstance(node, yaml.MappingNode)]


def repo_dir(path: str) -> str:
    """A kustomization path as a repository directory: ``./apps/staging/`` -> ``apps/staging``, ``./`` -> ``""``."""
    parts = [p for p in path.strip().split("/") if p not in ("", ".")]
    return "/".join(parts)
