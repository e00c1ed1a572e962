"""Commands on the microsoft.flux cluster extension (`/flux extension ...`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import BaseCommand, ClusterTarget, Role
from bot.models import ExtensionPatch, ExtensionSpec


@dataclass(frozen=True)
class ExtensionCreate(BaseCommand):
    target: ClusterTarget
    spec: ExtensionSpec
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "extension create"

    @property
    def lock_name(self) -> str | None:
        return "extension"


@dataclass(frozen=True)
class ExtensionUpdate(BaseCommand):
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
class ExtensionDelete(BaseCommand):
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
