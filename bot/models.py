"""Domain types shared by every layer: clusters, flux configurations, extensions, their states."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar


class ClusterType(StrEnum):
    MANAGED = "managedClusters"  # AKS
    CONNECTED = "connectedClusters"  # Azure Arc

    @property
    def resource_provider(self) -> str:
        return "Microsoft.ContainerService" if self is ClusterType.MANAGED else "Microsoft.Kubernetes"

    @classmethod
    def parse(cls, text: str) -> ClusterType:
        for member in cls:
            if member.value.lower() == text.lower():
                return member
        raise ValueError(f"cluster type must be managedClusters or connectedClusters, not {text!r}")


@dataclass(frozen=True)
class ClusterRef:
    """Where a cluster lives in ARM."""

    subscription_id: str
    resource_group: str
    cluster_type: ClusterType
    name: str

    @property
    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{self.cluster_type.resource_provider}/{self.cluster_type.value}/{self.name}"
        )

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Cluster:
    ref: ClusterRef
    location: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RepositoryRef:
    """Exactly one of the four is set (checked by the grammar and by ARM)."""

    branch: str | None = None
    tag: str | None = None
    semver: str | None = None
    commit: str | None = None


@dataclass(frozen=True)
class GitSource:
    url: str
    ref: RepositoryRef
    https_user: str | None = None
    ssh_known_hosts: str | None = None  # base64, as ARM takes it
    local_auth_ref: str | None = None
    provider: str | None = None  # "Azure" for workload identity with Azure DevOps, else generic
    timeout_seconds: int = 600
    sync_interval_seconds: int = 600
    #: whether ARM reports an HTTPS CA certificate (``httpsCACert``; fluxops sends it from a credential reference)
    https_ca_cert: bool = False
    kind: ClassVar[str] = "GitRepository"


@dataclass(frozen=True)
class BucketSource:
    """An S3-compatible bucket. ``access_key`` is the access key ID; its secret key is a credential reference."""

    url: str
    bucket_name: str
    access_key: str | None = None
    insecure: bool = False
    timeout_seconds: int = 600
    sync_interval_seconds: int = 600
    local_auth_ref: str | None = None
    kind: ClassVar[str] = "Bucket"


@dataclass(frozen=True)
class AzureBlobSource:
    """An Azure Blob Storage container; account key or SAS token come as credential references."""

    url: str
    container_name: str
    managed_identity_client_id: str | None = None
    timeout_seconds: int = 600
    sync_interval_seconds: int = 600
    local_auth_ref: str | None = None
    #: a service principal: its client and tenant ids (its secret or certificate are credential references)
    sp_client_id: str | None = None
    sp_tenant_id: str | None = None
    sp_client_cert_send_chain: bool = False
    kind: ClassVar[str] = "AzureBlob"


@dataclass(frozen=True)
class OciSource:
    """An OCI artifact (``oci://``); at most one of tag, semver and digest selects it."""

    url: str
    tag: str | None = None
    semver: str | None = None
    digest: str | None = None
    timeout_seconds: int = 600
    sync_interval_seconds: int = 600
    local_auth_ref: str | None = None
    #: ``--provider azure``: the registry is reached with the cluster's workload identity (``useWorkloadIdentity``)
    use_workload_identity: bool = False
    #: plain HTTP to the registry (``insecure``)
    insecure: bool = False
    kind: ClassVar[str] = "OCIRepository"


#: the source of a flux configuration; ``kind`` is its ARM ``sourceKind``
FluxSource = GitSource | BucketSource | AzureBlobSource | OciSource


@dataclass(frozen=True)
class SubstituteFrom:
    """A ConfigMap or Secret on the cluster whose keys a kustomization substitutes (``postBuild.substituteFrom``)."""

    kind: str  # "ConfigMap" | "Secret"
    name: str
    optional: bool = False


@dataclass(frozen=True)
class Kustomization:
    name: str
    path: str = ""
    depends_on: tuple[str, ...] = ()
    prune: bool = False
    force: bool = False
    wait: bool = True
    timeout_seconds: int = 600
    sync_interval_seconds: int = 600
    retry_interval_seconds: int | None = None
    substitute: tuple[tuple[str, str], ...] = ()
    substitute_from: tuple[SubstituteFrom, ...] = ()


@dataclass(frozen=True)
class FluxConfigSpec:
    """What a user asks for: one source (Git, Bucket, AzureBlob or OCI) and its kustomizations."""

    name: str
    source: FluxSource
    namespace: str = "default"
    scope: str = "cluster"
    kustomizations: tuple[Kustomization, ...] = ()
    suspend: bool = False


class Secret:
    """A secret value that never prints; ``reveal`` is called only where it leaves for the cloud."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class ProtectedSettings:
    """What one write of a flux configuration takes from fluxops' credential store (plain values; the adapter
    encodes them and puts each where ARM takes it: ``configurationProtectedSettings`` for the git and bucket
    secrets, the write-only fields of the ``azureBlob`` / ``ociRepository`` block for the others, and the CA
    certificate in ``gitRepository.httpsCACert``). ARM returns none of the secrets."""

    ssh_private_key: Secret | None = None
    https_key: Secret | None = None
    #: bucket: the secret half of ``accessKey``
    bucket_secret_key: Secret | None = None
    #: Azure Blob: storage account key, SAS token, service principal secret or certificate (+ its password)
    account_key: Secret | None = None
    sas_token: Secret | None = None
    sp_client_secret: Secret | None = None
    sp_client_certificate: Secret | None = None
    sp_client_certificate_password: Secret | None = None
    #: git over HTTPS: the CA certificate (PEM) that signs the server's certificate (public, but held by reference)
    https_ca_cert: Secret | None = None
    #: OCI over TLS: client certificate and key (PEM), and the CA certificate of the registry
    tls_client_certificate: Secret | None = None
    tls_private_key: Secret | None = None
    tls_ca_certificate: Secret | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class KustomizationChange:
    """One kustomization in a patch: ``remove`` drops it, else the given fields change."""

    name: str
    remove: bool = False
    path: str | None = None
    depends_on: tuple[str, ...] | None = None
    prune: bool | None = None
    force: bool | None = None
    wait: bool | None = None
    sync_interval_seconds: int | None = None
    retry_interval_seconds: int | None = None
    timeout_seconds: int | None = None
    #: postBuild: the substitutions replace the kustomization's (an empty tuple clears them)
    substitute: tuple[tuple[str, str], ...] | None = None
    substitute_from: tuple[SubstituteFrom, ...] | None = None


@dataclass(frozen=True)
class FluxConfigPatch:
    """Only the fields that are set change (JSON merge patch).

    The source fields go to the block of ``source_kind`` (ARM ``sourceKind``: GitRepository, Bucket,
    AzureBlob, OCIRepository), which the use-case fills from the configuration as it is: a patch never
    switches the kind, and an OCI configuration never gets a ``gitRepository`` block."""

    suspend: bool | None = None
    url: str | None = None
    ref: RepositoryRef | None = None
    https_user: str | None = None
    sync_interval_seconds: int | None = None
    timeout_seconds: int | None = None
    kustomizations: tuple[KustomizationChange, ...] = ()
    protected: ProtectedSettings | None = None
    source_kind: str | None = None
    local_auth_ref: str | None = None
    #: git: "Azure" | "Generic"; OCI: "Azure" turns on the workload identity, "Generic" off
    provider: str | None = None
    digest: str | None = None  # OCI only (tag and semver are in ``ref``)
    bucket_name: str | None = None
    access_key: str | None = None
    insecure: bool | None = None  # bucket or OCI
    container_name: str | None = None
    managed_identity_client_id: str | None = None
    sp_client_id: str | None = None
    sp_tenant_id: str | None = None
    sp_client_cert_send_chain: bool | None = None


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str
    last_transition_time: str | None = None


@dataclass(frozen=True)
class HelmReleaseInfo:
    last_revision_applied: int | None
    chart_name: str | None
    chart_namespace: str | None
    failure_count: int | None = None


class Compliance(StrEnum):
    """Flux's compliance states (the ARM API's ``complianceState`` values)."""

    COMPLIANT = "Compliant"
    NON_COMPLIANT = "Non-Compliant"
    PENDING = "Pending"
    SUSPENDED = "Suspended"
    UNKNOWN = "Unknown"


class Provisioning(StrEnum):
    """ARM's provisioning states of a flux configuration or an extension (``provisioningState``)."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"
    CREATING = "Creating"
    UPDATING = "Updating"
    DELETING = "Deleting"

    @classmethod
    def failed(cls, state: str | None) -> bool:
        """Azure gave up on the last write (Failed or Canceled)."""
        return state in (cls.FAILED, cls.CANCELED)


@dataclass(frozen=True)
class ObjectStatus:
    """One Flux object on the cluster (GitRepository, Kustomization, HelmRelease, ...)."""

    name: str
    namespace: str | None
    kind: str
    compliance_state: str | None
    conditions: tuple[Condition, ...] = ()
    helm_release: HelmReleaseInfo | None = None
    applied_by: str | None = None

    @property
    def ready(self) -> Condition | None:
        return next((c for c in self.conditions if c.type == "Ready"), None)


@dataclass(frozen=True)
class FluxConfigState:
    """A flux configuration as ARM reports it: the spec plus provisioning and reconciliation status."""

    cluster: ClusterRef
    spec: FluxConfigSpec | None  # None when the source kind is not one fluxops models
    source_kind: str
    provisioning_state: str | None
    compliance_state: str | None
    source_synced_commit: str | None = None
    source_updated_at: str | None = None
    status_updated_at: str | None = None
    error_message: str | None = None
    repository_public_key: str | None = None
    statuses: tuple[ObjectStatus, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name if self.spec else ""


@dataclass(frozen=True)
class ExtensionSpec:
    name: str = "flux"
    extension_type: str = "microsoft.flux"
    auto_upgrade_minor_version: bool = True
    release_train: str = "Stable"
    version: str | None = None
    settings: tuple[tuple[str, str], ...] = ()
    #: ``cluster`` or ``namespace`` (ARM's ``scope``); create-only, as in az
    scope: str = "cluster"
    #: the release namespace (cluster scope) or the target namespace (namespace scope); None: ARM's default
    namespace: str | None = None


@dataclass(frozen=True)
class ExtensionPatch:
    auto_upgrade_minor_version: bool | None = None
    release_train: str | None = None
    version: str | None = None
    settings: tuple[tuple[str, str | None], ...] = ()  # None removes a setting


@dataclass(frozen=True)
class ExtensionState:
    cluster: ClusterRef
    name: str
    extension_type: str
    provisioning_state: str | None
    version: str | None
    current_version: str | None
    auto_upgrade_minor_version: bool | None
    release_train: str | None
    settings: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    #: ``cluster`` or ``namespace``, as ARM reports it (None when it reports no scope)
    scope: str | None = None
    #: the release namespace (cluster scope) or the target namespace (namespace scope)
    namespace: str | None = None


@dataclass(frozen=True)
class V1Config:
    """A retired Flux v1 sourceControlConfiguration, for listing and migration."""

    cluster: ClusterRef
    name: str
    repository_url: str
    operator_namespace: str | None
    operator_scope: str | None
    compliance_state: str | None
    operator_instance_name: str | None = None
    operator_type: str | None = None
    #: the flux operator's arguments ("--git-readonly --git-branch=main --git-path=releases")
    operator_params: str | None = None
    #: whether the configuration pins its own SSH known_hosts (the content is not shown)
    ssh_known_hosts: bool = False
    enable_helm_operator: bool = False
    helm_chart_version: str | None = None
    helm_chart_values: str | None = None
    #: the public half of the key the v1 operator generated (the private half never leaves the cluster)
    repository_public_key: str | None = None
    compliance_message: str | None = None
    provisioning_state: str | None = None


def arm_time(text: str | None) -> datetime | None:
    """An ARM timestamp (``2026-11-21T10:00:00.123Z``) as an aware datetime, UTC when it names no zone (a naive
    one would be read in the worker's local time); None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().upper())  # any fraction digits; "Z" or an offset
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
