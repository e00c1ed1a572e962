"""The Flux objects a configuration applies, each in the namespace it lands in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.preflight.scope import Scope
from bot.preflight.tree import Manifest, Tree


@dataclass(frozen=True)
class Placed:
    """A manifest and the namespace it is applied in: a kustomization.yaml's ``namespace:``, else its own
    ``metadata.namespace``, else the configuration's namespace (where Flux applies objects that name none)."""

    manifest: Manifest
    namespace: str

    @property
    def label(self) -> str:
        return f"{self.manifest.kind} {self.namespace}/{self.manifest.name}"


def placed(tree: Tree, scope: Scope, default_namespace: str, kinds: tuple[str, ...]) -> list[Placed]:
    """The Flux objects of ``kinds`` among the files of ``scope``, in file order."""
    found = []
    for path, override in sorted(scope.files.items()):
        for manifest in tree.manifests([path]):
            if any(manifest.is_flux(kind) for kind in kinds):
                found.append(Placed(manifest, override or manifest.namespace or default_namespace))
    return found
