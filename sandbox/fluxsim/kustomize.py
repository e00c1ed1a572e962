"""Building a kustomization as kustomize-controller would: pure, a file tree in, HelmReleases or an error out.

Nothing is applied anywhere: a build succeeds when its path exists and every manifest under it builds
and parses. :class:`BuildCache` keeps recent builds, since a fleet applies the same commit many times.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import yaml

from sandbox.fluxsim.state import Artifact, Build, Release, as_list, mapping

_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_MANIFEST_SUFFIXES = (".yaml", ".yml")
_SUBSTITUTION = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*))?\}")
_CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: fleets build a lot


class _BuildFailed(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def build_kustomization(
    tree: Mapping[str, bytes], path: str, substitute: Mapping[str, str], namespace: str, tmp_dir: str
) -> Build:
    """Build ``path`` of ``tree`` as kustomize-controller would and return the HelmReleases in it.

    With a kustomization file its ``resources`` are followed; without one every manifest below the
    path is taken (directories with their own kustomization file as a unit), as Flux generates it.
    ``postBuild.substitute`` variables are replaced before parsing. Objects without a namespace
    land in ``namespace`` (the configuration's). ``tmp_dir`` only shapes error messages.
    """
    root = _clean(path)
    builder = _Builder(tree, substitute, tmp_dir)
    try:
        if not builder.is_dir(root):
            raise _BuildFailed(
                "ArtifactFailed",
                f"kustomization path not found: stat {posixpath.join(tmp_dir, root)}: no such file or directory",
            )
        docs = builder.directory(root, generated=True, trail=())
        _check_unique(docs)
    except _BuildFailed as exc:
        return Build(reason=exc.reason, error=str(exc))
    releases = []
    for doc in docs:
        if doc["kind"] == "HelmRelease" and str(doc["apiVersion"]).startswith("helm.toolkit.fluxcd.io/"):
            meta = doc["metadata"]
            digest = hashlib.sha256(json.dumps(doc.get("spec"), sort_keys=True, default=str).encode()).hexdigest()
            releases.append(Release(str(meta.get("namespace") or namespace), str(meta["name"]), digest))
    return Build(releases=tuple(releases))


class _Builder:
    def __init__(self, tree: Mapping[str, bytes], substitute: Mapping[str, str], tmp_dir: str) -> None:
        self.tree = tree
        self.substitute = substitute
        self.tmp_dir = tmp_dir
        self.dirs = {posixpath.dirname(p) for p in tree} | {""}
        for d in list(self.dirs):
            while d:
                d = posixpath.dirname(d)
                self.dirs.add(d)

    def is_dir(self, path: str) -> bool:
        return path in self.dirs

    def kustomization_file(self, directory: str) -> str | None:
        return next((f for f in (posixpath.join(directory, n) for n in _KUSTOMIZATION_FILES) if f in self.tree), None)

    def directory(self, directory: str, *, generated: bool, trail: tuple[str, ...]) -> list[dict[str, Any]]:
        if directory in trail:
            raise self.fail(f"cycle detected: {' -> '.join([*trail, directory])}")
        kfile = self.kustomization_file(directory)
        if kfile is not None:
            return self.kustomize(directory, kfile, (*trail, directory))
        if not generated:
            raise self.fail(
                f"unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' "
                f"in directory '{posixpath.join(self.tmp_dir, directory)}'"
            )
        # Flux's generated kustomization: manifests here, then each subdirectory in turn.
        docs: list[dict[str, Any]] = []
        prefix = f"{directory}/" if directory else ""
        for file in sorted(p for p in self.tree if posixpath.dirname(p) == directory):
            if file.endswith(_MANIFEST_SUFFIXES):
                docs += self.manifest(file)
        children = sorted(d for d in self.dirs if d and d.startswith(prefix) and "/" not in d[len(prefix) :])
        for child in children:
            docs += self.directory(child, generated=True, trail=(*trail, directory))
        return docs

    def kustomize(self, directory: str, kfile: str, trail: tuple[str, ...]) -> list[dict[str, Any]]:
        spec = self.parse_one(kfile)
        docs: list[dict[str, Any]] = []
        entries = [*as_list(spec.get("resources")), *as_list(spec.get("bases")), *as_list(spec.get("components"))]
        for entry in entries:
            if not isinstance(entry, str):
                raise self.fail(f"{kfile}: invalid resource entry {entry!r}")
            if "://" in entry or entry.startswith(("github.com/", "git@")):
                raise self.fail(
                    f"accumulating resources from '{entry}': remote resources are not served by the sandbox"
                )
            target = posixpath.normpath(posixpath.join(directory, entry))
            if target == ".." or target.startswith("../"):
                raise self.fail(f"accumulating resources from '{entry}': security; '{target}' is outside the source")
            target = "" if target == "." else target
            if target in self.tree:
                docs += self.manifest(target)
            elif self.is_dir(target):
                docs += self.directory(target, generated=False, trail=trail)
            else:
                raise self.fail(
                    f"accumulating resources: accumulation err='accumulating resources from '{entry}': "
                    f"open {posixpath.join(self.tmp_dir, target)}: no such file or directory'"
                )
        for patch in [*as_list(spec.get("patches")), *as_list(spec.get("patchesStrategicMerge"))]:
            patch_path = patch.get("path") if isinstance(patch, dict) else patch
            if isinstance(patch_path, str) and "\n" not in patch_path:
                file = posixpath.normpath(posixpath.join(directory, patch_path))
                if file not in self.tree:
                    raise self.fail(f"{kfile}: patch file '{patch_path}' not found")
                self.parse_all(file)
        return self.transform(docs, spec)

    def transform(self, docs: list[dict[str, Any]], spec: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The kustomization's namespace, namePrefix and nameSuffix, applied to copies."""
        namespace, prefix, suffix = (
            spec.get("namespace"),
            spec.get("namePrefix") or "",
            spec.get("nameSuffix") or "",
        )
        if not (namespace or prefix or suffix):
            return docs
        out = []
        for doc in docs:
            meta = dict(doc["metadata"])
            if doc["kind"] != "Namespace":
                meta["name"] = f"{prefix}{meta['name']}{suffix}"
            if namespace and doc["kind"] not in _CLUSTER_SCOPED:
                meta["namespace"] = namespace
            out.append({**doc, "metadata": meta})
        return out

    def manifest(self, file: str) -> list[dict[str, Any]]:
        """The objects in one manifest file, after variable substitution."""
        docs = []
        for index, doc in enumerate(self.parse_all(file, substitute=True)):
            if doc is None:
                continue
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
                raise self.fail(f"{file}: document {index + 1}: missing apiVersion or kind")
            if not isinstance(meta, dict) or not meta.get("name"):
                raise self.fail(f"{file}: {doc['kind']} in document {index + 1}: missing metadata.name")
            docs.append(doc)
        return docs

    def parse_all(self, file: str, *, substitute: bool = False) -> list[Any]:
        try:
            text = self.tree[file].decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{file}: not UTF-8 text") from None
        if substitute:
            text = _substitute(text, self.substitute)
        try:
            return list(yaml.load_all(text, Loader=_Loader))
        except yaml.YAMLError as exc:
            raise self.fail(f"{file}: {_yaml_message(exc)}") from None

    def parse_one(self, file: str) -> Mapping[str, Any]:
        docs = [d for d in self.parse_all(file) if d is not None]
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise self.fail(f"{file}: a kustomization file must hold one YAML mapping")
        return docs[0]

    @staticmethod
    def fail(message: str) -> _BuildFailed:
        return _BuildFailed("BuildFailed", f"kustomize build failed: {message}")


def _substitute(text: str, variables: Mapping[str, str]) -> str:
    """Flux's post-build substitution: ${var}, ${var:=default}, ${var:-default}; $${var} is literal."""

    def replace(m: re.Match[str]) -> str:
        if m[1]:
            return m[0][1:]
        if m[2] in variables:
            return variables[m[2]]
        return m[4] if m[3] is not None else ""

    return _SUBSTITUTION.sub(replace, text)


def _yaml_message(exc: yaml.YAMLError) -> str:
    """A parser error as one line, like Go's yaml package prints it: 'yaml: line 3: ...'."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        return f"yaml: line {exc.problem_mark.line + 1}: {exc.problem}"
    return f"yaml: {exc}"


def _check_unique(docs: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    for doc in docs:
        meta = doc["metadata"]
        group = str(doc["apiVersion"]).rpartition("/")[0]
        key = (group, str(doc["kind"]), str(meta.get("namespace") or ""), str(meta["name"]))
        if key in seen:
            version = str(doc["apiVersion"]).rpartition("/")[2]
            ident = f"{doc['kind']}.{version}.{group}/{meta['name']}.{meta.get('namespace') or '[noNs]'}"
            raise _Builder.fail(f"may not add resource with an already registered id: {ident}")
        seen.add(key)


def _clean(path: str) -> str:
    """A kustomization path relative to the repository root ("" for the root), kept inside it."""
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


class BuildCache:
    """Kustomization builds by (repository, commit, path, variables, namespace, object), newest kept.

    ``misses`` counts builds made, ``hits`` builds served from the cache."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._builds: OrderedDict[tuple[object, ...], Build] = OrderedDict()
        self._lock = threading.Lock()
        self._filling: dict[tuple[object, ...], threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _inputs(
        artifact: Artifact, spec: Mapping[str, Any], namespace: str, obj_name: str
    ) -> tuple[tuple[object, ...], str, tuple[tuple[str, str], ...]]:
        """(cache key, path, substitution variables) of one build."""
        substitute = mapping(mapping(spec.get("postBuild")).get("substitute"))
        variables = tuple(sorted((str(k), str(v)) for k, v in substitute.items()))
        path = str(spec.get("path") or "./")
        return (artifact.repo, artifact.sha, path, variables, namespace, obj_name), path, variables

    def cached(self, artifact: Artifact, spec: Mapping[str, Any], namespace: str, obj_name: str) -> Build | None:
        """The build made before for these inputs, or None (cheap: fit to call on the event loop)."""
        key = self._inputs(artifact, spec, namespace, obj_name)[0]
        with self._lock:
            hit = self._builds.get(key)
            if hit is not None:
                self._builds.move_to_end(key)
                self.hits += 1
            return hit

    def build(self, artifact: Artifact, spec: Mapping[str, Any], namespace: str, obj_name: str) -> Build:
        """Build a kustomization (in a worker thread), from the cache when it was built before."""
        hit = self.cached(artifact, spec, namespace, obj_name)
        if hit is not None:
            return hit
        key, path, variables = self._inputs(artifact, spec, namespace, obj_name)
        with self._lock:
            filling = self._filling.setdefault(key, threading.Lock())
        # One thread builds; the others asking for the same build at once wait and take it from the cache.
        with filling:
            hit = self.cached(artifact, spec, namespace, obj_name)
            if hit is None:
                hit = self._build(key, path, variables, artifact, namespace, obj_name)
        with self._lock:
            self._filling.pop(key, None)
        return hit

    def _build(
        self,
        key: tuple[object, ...],
        path: str,
        variables: tuple[tuple[str, str], ...],
        artifact: Artifact,
        namespace: str,
        obj_name: str,
    ) -> Build:
        build = build_kustomization(
            artifact.tree,
            path,
            dict(variables),
            namespace,
            # Flux builds in a temp dir named like this; a stable number keeps messages stable.
            f"/tmp/kustomization-{zlib.crc32(obj_name.encode())}",  # noqa: S108 - only shown in messages
        )
        with self._lock:
            self.misses += 1
            self._builds[key] = build
            while len(self._builds) > self._size:
                self._builds.popitem(last=False)
        return build
