"""Commands on Flux configurations and their kustomizations: config, kustomization, status, suspend, resume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from bot.commands.base import AzureWrite, BaseCommand, ClusterTarget, CredentialRefs, Role
from bot.models import (
    FluxConfigPatch,
    FluxConfigSpec,
    Kustomization,
    KustomizationChange,
)


@dataclass(frozen=True)
class ConfigCreate(AzureWrite):
    target: ClusterTarget
    spec: FluxConfigSpec
    credentials: CredentialRefs = field(default_factory=CredentialRefs)
    #: install microsoft.flux first when the cluster has none (az does); --no-extension turns it off
    install_extension: bool = True
    #: --deploy-key generate (keys are generated and registered by the deploy-key issue)
    generate_deploy_key: bool = False
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "config create"

    @property
    def lock_name(self) -> str | None:
        return self.spec.name


@dataclass(frozen=True)
class ConfigUpdate(AzureWrite):
    target: ClusterTarget
    name: str
    patch: FluxConfigPatch
    credentials: CredentialRefs = field(default_factory=CredentialRefs)
    #: --deploy-key generate with -u: a key for the new repository (the old key does not follow the URL)
    generate_deploy_key: bool = False
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "config update"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class ConfigDelete(AzureWrite):
    target: ClusterTarget
    name: str
    force: bool = False
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "config delete"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class ConfigShow(BaseCommand):
    target: ClusterTarget
    name: str
    verb: ClassVar[str] = "config show"


@dataclass(frozen=True)
class ConfigList(BaseCommand):
    target: ClusterTarget
    verb: ClassVar[str] = "config list"


@dataclass(frozen=True)
class Status(BaseCommand):
    """`status NAME` is one configuration; `status` alone is every configuration on the cluster."""

    target: ClusterTarget
    name: str | None = None
    verb: ClassVar[str] = "status"


@dataclass(frozen=True)
class Suspend(BaseCommand):
    target: ClusterTarget
    name: str
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "suspend"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class Resume(BaseCommand):
    target: ClusterTarget
    name: str
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "resume"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class KustomizationCreate(AzureWrite):
    target: ClusterTarget
    config: str
    kustomization: Kustomization
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "kustomization create"

    @property
    def lock_name(self) -> str | None:
        return self.config


@dataclass(frozen=True)
class KustomizationUpdate(AzureWrite):
    target: ClusterTarget
    config: str
    change: KustomizationChange
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "kustomization update"

    @property
    def lock_name(self) -> str | None:
        return self.config


@dataclass(frozen=True)
class KustomizationDelete(AzureWrite):
    target: ClusterTarget
    config: str
    name: str
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "kustomization delete"

    @property
    def lock_name(self) -> str | None:
        return self.config


@dataclass(frozen=True)
class KustomizationList(BaseCommand):
    target: ClusterTarget
    config: str
    verb: ClassVar[str] = "kustomization list"


@dataclass(frozen=True)
class KustomizationShow(BaseCommand):
    target: ClusterTarget
    config: str
    name: str
    verb: ClassVar[str] = "kustomization show"
