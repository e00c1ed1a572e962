"""Commands on the microsoft.flux cluster extension (`/flux extension ...`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import AzureWrite, BaseCommand, ClusterTarget, Role
from bot.models import ExtensionPatch, ExtensionSpec


@dataclass(frozen=True)
class ExtensionCreate(AzureWrite):
    target: ClusterTarget
    spec: ExtensionSpec
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "extension create"

    @property
    def lock_name(self) -> str | None:
        return "extension"


@dataclass(frozen=True)
class ExtensionUpdate(AzureWrite):
    target: ClusterTarget
    patch: ExtensionPatch
    name: str = "flux"
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "extension update"

    @property
    def lock_name(self) -> str | None:
        return "extension"


@dataclass(frozen=True)
class ExtensionDelete(AzureWrite):
    target: ClusterTarget
    name: str = "flux"
    force: bool = False
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "extension delete"

    @property
    def lock_name(self) -> str | None:
        return "extension"


@dataclass(frozen=True)
class ExtensionShow(BaseCommand):
    target: ClusterTarget
    name: str = "flux"
    verb: ClassVar[str] = "extension show"


@dataclass(frozen=True)
class ExtensionList(BaseCommand):
    """Every extension on the cluster, whatever its type (``az k8s-extension list``)."""

    target: ClusterTarget
    verb: ClassVar[str] = "extension list"
