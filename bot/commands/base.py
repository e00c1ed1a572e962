"""What every command shares: the role it needs, the cluster it names, the credentials it refers to."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import ClassVar

from bot.models import ClusterType


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return (Role.VIEWER, Role.OPERATOR, Role.ADMIN).index(self)


@dataclass(frozen=True)
class ClusterTarget:
    """A cluster as the user named it: an inventory alias, a cluster name or a full ARM id.

    ``resource_group`` and ``cluster_type`` disambiguate, as ``-g`` and ``-t`` do in az.
    """

    cluster: str
    resource_group: str | None = None
    cluster_type: ClusterType | None = None

    def __str__(self) -> str:
        return self.cluster


@dataclass(frozen=True)
class CredentialRefs:
    """Names of credentials fluxops holds (never the secrets themselves: those are not typed into chat)."""

    https_key: str | None = None
    ssh_private_key: str | None = None
    known_hosts: str | None = None
    secret_key: str | None = None  # bucket: the secret half of --access-key
    account_key: str | None = None  # azure blob: storage account key
    sas_token: str | None = None  # azure blob: SAS token
    sp_client_secret: str | None = None  # azure blob: service principal client secret
    sp_client_cert: str | None = None  # azure blob: service principal certificate (PEM with its key)
    sp_client_cert_password: str | None = None  # azure blob: the certificate's password
    https_ca_cert: str | None = None  # git over HTTPS: CA certificate (PEM)
    tls_client_cert: str | None = None  # oci: client certificate (PEM)
    tls_private_key: str | None = None  # oci: the client certificate's key (PEM)
    tls_ca_cert: str | None = None  # oci: the registry's CA certificate (PEM)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class BaseCommand:
    #: ``--break-glass "REASON"``: an admin runs a change despite a freeze (bot.freezes); "" when not given
    break_glass: str = field(default="", kw_only=True)
    role: ClassVar[Role] = Role.VIEWER
    mutates: ClassVar[bool] = False
    destructive: ClassVar[bool] = False
    #: the words that name the command in help and audit ("config create")
    verb: ClassVar[str] = ""

    @property
    def cluster_target(self) -> ClusterTarget | None:
        target = getattr(self, "target", None)
        return target if isinstance(target, ClusterTarget) else None

    @property
    def lock_name(self) -> str | None:
        """What a mutation locks on its cluster: the configuration name, or "extension"."""
        return None


@dataclass(frozen=True)
class AzureWrite(BaseCommand):
    """A command that writes one ARM resource: a flux configuration (or its kustomizations) or an extension.

    ``no_wait`` is az's ``--no-wait``: the job ends once ARM accepted the write, following neither the
    operation nor the reconciliation (``bot.usecases.no_wait`` decides what that means for a job).
    """

    no_wait: bool = field(default=False, kw_only=True)
    mutates: ClassVar[bool] = True
