"""Flux configurations on AKS and Arc clusters through azure-mgmt-kubernetesconfiguration-fluxconfigurations."""

from __future__ import annotations

import base64
from typing import Any

from azure.core.polling import LROPoller
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import (
    KubernetesConfigurationFluxConfigurationsMgmtClient as FluxClient,
)
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import models as m

from bot.models import (
    AzureBlobSource,
    BucketSource,
    ClusterRef,
    Condition,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    HelmReleaseInfo,
    Kustomization,
    ObjectStatus,
    OciSource,
    ProtectedSettings,
    RepositoryRef,
)
from workers.azure_clients import ClientCache, cluster_args
from workers.azure_connection import ArmConnection
from workers.azure_errors import arm_call
from workers.azure_lro import PollerOperation, TokenEnvelope, resume_poller


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def protected_wire(protected: ProtectedSettings | None) -> dict[str, str] | None:
    """configurationProtectedSettings as ARM takes them: base64 values."""
    if protected is None or protected.is_empty():
        return None
    out: dict[str, str] = {}
    if protected.ssh_private_key is not None:
        out["sshPrivateKey"] = _b64(protected.ssh_private_key.reveal())
    if protected.https_key is not None:
        out["httpsKey"] = _b64(protected.https_key.reveal())
    return out


def _ref_model(ref: RepositoryRef) -> m.RepositoryRefDefinition:
    return m.RepositoryRefDefinition(branch=ref.branch, tag=ref.tag, semver=ref.semver, commit=ref.commit)


def _kustomization_model(k: Kustomization) -> m.KustomizationDefinition:
    post_build = m.PostBuildDefinition(substitute=dict(k.substitute)) if k.substitute else None
    return m.KustomizationDefinition(
        path=k.path,
        depends_on=list(k.depends_on),
        timeout_in_seconds=k.timeout_seconds,
        sync_interval_in_seconds=k.sync_interval_seconds,
        retry_interval_in_seconds=k.retry_interval_seconds,
        prune=k.prune,
        force=k.force,
        wait=k.wait,
        post_build=post_build,
    )


def _git_model(src: GitSource) -> m.GitRepositoryDefinition:
    return m.GitRepositoryDefinition(
        url=src.url,
        repository_ref=_ref_model(src.ref),
        https_user=src.https_user,
        ssh_known_hosts=src.ssh_known_hosts,
        local_auth_ref=src.local_auth_ref,
        provider=src.provider,
        timeout_in_seconds=src.timeout_seconds,
        sync_interval_in_seconds=src.sync_interval_seconds,
    )


def _bucket_model(src: BucketSource) -> m.BucketDefinition:
    return m.BucketDefinition(
        url=src.url,
        bucket_name=src.bucket_name,
        insecure=src.insecure,
        access_key=src.access_key,
        local_auth_ref=src.local_auth_ref,
        timeout_in_seconds=src.timeout_seconds,
        sync_interval_in_seconds=src.sync_interval_seconds,
    )


def _azure_blob_model(src: AzureBlobSource) -> m.AzureBlobDefinition:
    identity = src.managed_identity_client_id
    return m.AzureBlobDefinition(
        url=src.url,
        container_name=src.container_name,
        managed_identity=m.ManagedIdentityDefinition(client_id=identity) if identity else None,
        local_auth_ref=src.local_auth_ref,
        timeout_in_seconds=src.timeout_seconds,
        sync_interval_in_seconds=src.sync_interval_seconds,
    )


def _oci_model(src: OciSource) -> m.OCIRepositoryDefinition:
    return m.OCIRepositoryDefinition(
        url=src.url,
        repository_ref=m.OCIRepositoryRefDefinition(tag=src.tag, semver=src.semver, digest=src.digest),
        local_auth_ref=src.local_auth_ref,
        timeout_in_seconds=src.timeout_seconds,
        sync_interval_in_seconds=src.sync_interval_seconds,
    )


def spec_model(spec: FluxConfigSpec, protected: ProtectedSettings | None) -> m.FluxConfiguration:
    src = spec.source
    properties = m.FluxConfigurationProperties(
        scope=spec.scope,
        namespace=spec.namespace,
        source_kind=src.kind,
        suspend=spec.suspend,
        git_repository=_git_model(src) if isinstance(src, GitSource) else None,
        bucket=_bucket_model(src) if isinstance(src, BucketSource) else None,
        azure_blob=_azure_blob_model(src) if isinstance(src, AzureBlobSource) else None,
        oci_repository=_oci_model(src) if isinstance(src, OciSource) else None,
        kustomizations={k.name: _kustomization_model(k) for k in spec.kustomizations},
        configuration_protected_settings=protected_wire(protected),
    )
    return m.FluxConfiguration(properties=properties)


def patch_body(patch: FluxConfigPatch) -> dict[str, Any]:
    """A JSON merge patch: only set fields, ``None`` for kustomizations to remove."""
    props: dict[str, Any] = {}
    if patch.suspend is not None:
        props["suspend"] = patch.suspend
    git: dict[str, Any] = {}
    if patch.url is not None:
        git["url"] = patch.url
    if patch.ref is not None:
        # All four keys: merge patch must clear the ref kinds not chosen.
        git["repositoryRef"] = {
            "branch": patch.ref.branch,
            "tag": patch.ref.tag,
            "semver": patch.ref.semver,
            "commit": patch.ref.commit,
        }
    if patch.https_user is not None:
        git["httpsUser"] = patch.https_user
    if patch.sync_interval_seconds is not None:
        git["syncIntervalInSeconds"] = patch.sync_interval_seconds
    if patch.timeout_seconds is not None:
        git["timeoutInSeconds"] = patch.timeout_seconds
    if git:
        props["gitRepository"] = git
    if patch.kustomizations:
        changes: dict[str, Any] = {}
        for change in patch.kustomizations:
            if change.remove:
                changes[change.name] = None
                continue
            fields = {
                "path": change.path,
                "dependsOn": list(change.depends_on) if change.depends_on is not None else None,
                "prune": change.prune,
                "force": change.force,
                "wait": change.wait,
                "syncIntervalInSeconds": change.sync_interval_seconds,
                "retryIntervalInSeconds": change.retry_interval_seconds,
                "timeoutInSeconds": change.timeout_seconds,
            }
            changes[change.name] = {k: v for k, v in fields.items() if v is not None}
        props["kustomizations"] = changes
    protected = protected_wire(patch.protected)
    if protected:
        props["configurationProtectedSettings"] = protected
    return {"properties": props}


def _spec_from_wire(name: str, props: dict[str, Any]) -> FluxConfigSpec | None:
    git = props.get("gitRepository")
    if props.get("sourceKind", "GitRepository") != "GitRepository" or not isinstance(git, dict):
        return None
    ref = git.get("repositoryRef") or {}
    source = GitSource(
        url=str(git.get("url", "")),
        ref=RepositoryRef(
            branch=ref.get("branch"), tag=ref.get("tag"), semver=ref.get("semver"), commit=ref.get("commit")
        ),
        https_user=git.get("httpsUser"),
        ssh_known_hosts=git.get("sshKnownHosts"),
        local_auth_ref=git.get("localAuthRef"),
        provider=git.get("provider"),
        timeout_seconds=int(git.get("timeoutInSeconds") or 600),
        sync_interval_seconds=int(git.get("syncIntervalInSeconds") or 600),
    )
    kustomizations = []
    for kname, k in (props.get("kustomizations") or {}).items():
        post_build = k.get("postBuild") or {}
        kustomizations.append(
            Kustomization(
                name=kname,
                path=str(k.get("path") or ""),
                depends_on=tuple(k.get("dependsOn") or ()),
                prune=bool(k.get("prune", False)),
                force=bool(k.get("force", False)),
                wait=bool(k.get("wait", True)),
                timeout_seconds=int(k.get("timeoutInSeconds") or 600),
                sync_interval_seconds=int(k.get("syncIntervalInSeconds") or 600),
                retry_interval_seconds=k.get("retryIntervalInSeconds"),
                substitute=tuple(sorted((post_build.get("substitute") or {}).items())),
            )
        )
    return FluxConfigSpec(
        name=name,
        source=source,
        namespace=str(props.get("namespace") or "default"),
        scope=str(props.get("scope") or "cluster"),
        kustomizations=tuple(kustomizations),
        suspend=bool(props.get("suspend", False)),
    )


def _status_from_wire(raw: dict[str, Any]) -> ObjectStatus:
    helm = raw.get("helmReleaseProperties")
    chart = (helm or {}).get("helmChartRef") or {}
    applied_by = raw.get("appliedBy") or {}
    return ObjectStatus(
        name=str(raw.get("name", "")),
        namespace=raw.get("namespace"),
        kind=str(raw.get("kind", "")),
        compliance_state=raw.get("complianceState"),
        conditions=tuple(
            Condition(
                type=str(c.get("type", "")),
                status=str(c.get("status", "")),
                reason=str(c.get("reason", "")),
                message=str(c.get("message", "")),
                last_transition_time=c.get("lastTransitionTime"),
            )
            for c in raw.get("statusConditions") or ()
        ),
        helm_release=HelmReleaseInfo(
            last_revision_applied=helm.get("lastRevisionApplied"),
            chart_name=chart.get("name"),
            chart_namespace=chart.get("namespace"),
            failure_count=helm.get("failureCount"),
        )
        if helm
        else None,
        applied_by=applied_by.get("name"),
    )


def state_from_model(cluster: ClusterRef, model: m.FluxConfiguration) -> FluxConfigState:
    return state_from_wire(cluster, model.as_dict())


def state_from_wire(cluster: ClusterRef, data: dict[str, Any]) -> FluxConfigState:
    """A fluxConfigurations resource as ARM's GET returns it (wire names), or a Resource Graph row of one."""
    props: dict[str, Any] = data.get("properties") or {}
    name = str(data.get("name", ""))
    return FluxConfigState(
        cluster=cluster,
        spec=_spec_from_wire(name, props),
        source_kind=str(props.get("sourceKind") or "GitRepository"),
        provisioning_state=props.get("provisioningState"),
        compliance_state=props.get("complianceState"),
        source_synced_commit=props.get("sourceSyncedCommitId"),
        source_updated_at=_text(props.get("sourceUpdatedAt")),
        status_updated_at=_text(props.get("statusUpdatedAt")),
        error_message=props.get("errorMessage") or None,
        repository_public_key=props.get("repositoryPublicKey") or None,
        statuses=tuple(_status_from_wire(s) for s in props.get("statuses") or ()),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class AzureFluxConfigs:
    """bot.ports.FluxConfigs over ARM."""

    def __init__(self, *, connection: ArmConnection) -> None:
        self._client = ClientCache(connection, lambda c, sub: FluxClient(c.credential, sub, **c.client_kwargs()))
        self._where = cluster_args

    def get(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        with arm_call(f"reading flux configuration '{name}' on cluster '{cluster.name}'", cluster.name):
            model = self._client(cluster.subscription_id).flux_configurations.get(*self._where(cluster), name)
        return state_from_model(cluster, model)

    def list(self, cluster: ClusterRef) -> list[FluxConfigState]:
        with arm_call(f"listing flux configurations on cluster '{cluster.name}'", cluster.name):
            pages = self._client(cluster.subscription_id).flux_configurations.list(*self._where(cluster))
            return [state_from_model(cluster, model) for model in pages]

    def _put(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None, *, polling: bool
    ) -> LROPoller[Any]:
        with arm_call(f"applying flux configuration '{spec.name}' to cluster '{cluster.name}'", cluster.name):
            return self._client(cluster.subscription_id).flux_configurations.begin_create_or_update(
                *self._where(cluster), spec.name, spec_model(spec, protected), polling=polling
            )

    def _patch(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch, *, polling: bool) -> LROPoller[Any]:
        with arm_call(f"updating flux configuration '{name}' on cluster '{cluster.name}'", cluster.name):
            return self._client(cluster.subscription_id).flux_configurations.begin_update(
                *self._where(cluster), name, patch_body(patch), polling=polling
            )

    def _delete(self, cluster: ClusterRef, name: str, *, force: bool, polling: bool) -> LROPoller[Any]:
        with arm_call(f"deleting flux configuration '{name}' from cluster '{cluster.name}'", cluster.name):
            return self._client(cluster.subscription_id).flux_configurations.begin_delete(
                *self._where(cluster), name, force_delete=force or None, polling=polling
            )

    def begin_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> PollerOperation[FluxConfigState]:
        return PollerOperation(
            self._put(cluster, spec, protected, polling=True),
            envelope=TokenEnvelope("flux.create", cluster, spec.name, ""),
            doing=f"applying flux configuration '{spec.name}' to cluster '{cluster.name}'",
            convert=lambda model: state_from_model(cluster, model),
        )

    def begin_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> PollerOperation[FluxConfigState]:
        return PollerOperation(
            self._patch(cluster, name, patch, polling=True),
            envelope=TokenEnvelope("flux.update", cluster, name, ""),
            doing=f"updating flux configuration '{name}' on cluster '{cluster.name}'",
            convert=lambda model: state_from_model(cluster, model),
        )

    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> PollerOperation[None]:
        return PollerOperation(
            self._delete(cluster, name, force=force, polling=True),
            envelope=TokenEnvelope("flux.delete", cluster, name, ""),
            doing=f"deleting flux configuration '{name}' from cluster '{cluster.name}'",
            convert=lambda _: None,
        )

    # Accepted, not followed: no poller thread per write (a fleet run follows its writes in bulk).
    def submit_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> None:
        self._put(cluster, spec, protected, polling=False)

    def submit_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> None:
        self._patch(cluster, name, patch, polling=False)

    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None:
        self._delete(cluster, name, force=force, polling=False)

    def resume(self, token: str) -> PollerOperation[FluxConfigState | None]:
        env = TokenEnvelope.decode(token)
        cluster = env.cluster
        ops = self._client(cluster.subscription_id).flux_configurations
        at = (*self._where(cluster), env.name)
        poller, doing = resume_poller(
            env,
            what="flux configuration",
            starters={
                "flux.create": lambda t: ops.begin_create_or_update(*at, {}, continuation_token=t),
                "flux.update": lambda t: ops.begin_update(*at, {}, continuation_token=t),
                "flux.delete": lambda t: ops.begin_delete(*at, continuation_token=t),
            },
        )

        def convert(model: Any) -> FluxConfigState | None:
            return None if model is None else state_from_model(cluster, model)

        return PollerOperation(poller, envelope=env, doing=doing, convert=convert)
