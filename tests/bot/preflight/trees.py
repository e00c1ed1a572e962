"""Repository trees for the preflight checks' tests, written out in code (the tutorial's layout, cut down)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.preflight.tree import Tree

NS = "cluster-config"

KUSTOMIZE = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{entries}"

BASE = {
    "infrastructure/kustomization.yaml": KUSTOMIZE.format(entries="  - redis\n"),
    "infrastructure/redis/kustomization.yaml": KUSTOMIZE.format(entries="  - repository.yaml\n  - release.yaml\n"),
    "infrastructure/redis/repository.yaml": """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: bitnami
spec:
  url: https://charts.example.com/bitnami
""",
    "infrastructure/redis/release.yaml": """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: redis
spec:
  chart:
    spec:
      chart: redis
      version: "19.x"
      sourceRef:
        kind: HelmRepository
        name: bitnami
""",
    "apps/staging/kustomization.yaml": KUSTOMIZE.format(entries="  - ../base/podinfo\n"),
    "apps/base/podinfo/kustomization.yaml": KUSTOMIZE.format(entries="  - namespace.yaml\n"),
    "apps/base/podinfo/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n",
    "docs/notes.yaml": "not: [closed\n",  # broken, but no kustomization builds it
}

KUSTOMIZATIONS = (("infra", "./infrastructure"), ("apps", "./apps/staging"))


def tree(changes: Mapping[str, str | None] | None = None, base: dict[str, str] | None = None) -> Tree:
    """``base`` (default BASE) with ``changes`` applied (None deletes a file)."""
    files = dict(BASE if base is None else base)
    for path, text in (changes or {}).items():
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text
    return Tree(files)
