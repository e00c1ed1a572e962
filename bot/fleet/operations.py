"""What to call to apply a plan: one operation per ARM write, in a safe order, and the plan's digest over them.

``operations`` puts every extension first, then creates and updates, deletes last; clusters with an error and
blocked configurations contribute nothing. ``digest`` fingerprints the canonical JSON of the operations (what
will be written, where), so `/flux apply` can check that it applies the plan people saw.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from bot.commands import CredentialRefs
from bot.fleet.diff import Action, ClusterPlan
from bot.models import ClusterRef, ExtensionPatch, ExtensionSpec, FluxConfigPatch, FluxConfigSpec

DIGEST_VERSION = "fluxops-plan/2"


@dataclass(frozen=True)
class _OnCluster:
    cluster_key: str
    label: str
    cluster: ClusterRef


@dataclass(frozen=True)
class InstallExtension(_OnCluster):
    spec: ExtensionSpec

    @property
    def lock_name(self) -> str:
        return "extension"

    def describe(self) -> str:
        return f"install the flux extension on {self.label}"


@dataclass(frozen=True)
class UpdateExtension(_OnCluster):
    name: str
    patch: ExtensionPatch

    @property
    def lock_name(self) -> str:
        return "extension"

    def describe(self) -> str:
        return f"update the flux extension on {self.label}"


@dataclass(frozen=True)
class CreateConfig(_OnCluster):
    spec: FluxConfigSpec
    credentials: CredentialRefs = field(default_factory=CredentialRefs)

    @property
    def lock_name(self) -> str:
        return self.spec.name

    def describe(self) -> str:
        return f"create flux configuration '{self.spec.name}' on {self.label}"


@dataclass(frozen=True)
class UpdateConfig(_OnCluster):
    name: str
    patch: FluxConfigPatch

    @property
    def lock_name(self) -> str:
        return self.name

    def describe(self) -> str:
        return f"update flux configuration '{self.name}' on {self.label}"


@dataclass(frozen=True)
class DeleteConfig(_OnCluster):
    name: str

    @property
    def lock_name(self) -> str:
        return self.name

    def describe(self) -> str:
        return f"delete flux configuration '{self.name}' on {self.label}"


Operation = InstallExtension | UpdateExtension | CreateConfig | UpdateConfig | DeleteConfig


def operations(clusters: Sequence[ClusterPlan]) -> list[Operation]:
    """The calls that apply the plan of ``clusters``: every extension first, then creates and updates, deletes last.

    Clusters with an error and blocked configurations contribute nothing.
    """
    first: list[Operation] = []
    middle: list[Operation] = []
    last: list[Operation] = []
    for plan in clusters:
        if plan.error is not None or plan.cluster is None:
            continue
        where = (plan.key, plan.label, plan.cluster)
        ext = plan.extension
        if ext is not None and ext.spec is not None and ext.action is Action.INSTALL:
            first.append(InstallExtension(*where, spec=ext.spec))
        elif ext is not None and ext.patch is not None and ext.action is Action.UPDATE:
            first.append(UpdateExtension(*where, name=ext.name, patch=ext.patch))
        for change in plan.configs:
            if change.all_blocked:
                continue
            if change.action is Action.CREATE and change.spec is not None:
                middle.append(CreateConfig(*where, spec=change.spec, credentials=change.credentials))
            elif change.action is Action.UPDATE and change.patch is not None:
                middle.append(UpdateConfig(*where, name=change.name, patch=change.patch))
            elif change.action is Action.DELETE:
                last.append(DeleteConfig(*where, name=change.name))
    return first + middle + last


def digest(ops: Sequence[Operation]) -> str:
    """``sha256:<hex>`` of the operations as canonical JSON: equal operations, equal digests; any change in what
    is written, or where, another one."""
    content = [{"operation": type(op).__name__, **asdict(op)} for op in ops]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(f"{DIGEST_VERSION}\n{text}".encode()).hexdigest()
