"""A fluxConfigurations resource as ARM's GET returns it (wire names), read into ``bot.models``.

Every source kind is read faithfully (git, bucket, Azure Blob with its service principal's or managed
identity's ids, OCI with its workload identity), so show, list and status can display it. ARM returns no
secret (protected settings, account keys, tokens), so none is read.
"""

from __future__ import annotations

from typing import Any

from bot.models import (
    AzureBlobSource,
    BucketSource,
    ClusterRef,
    Condition,
    FluxConfigSpec,
    FluxConfigState,
    FluxSource,
    GitSource,
    HelmReleaseInfo,
    Kustomization,
    ObjectStatus,
    OciSource,
    RepositoryRef,
    SubstituteFrom,
)


def _block(props: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = props.get(key)
    return value if isinstance(value, dict) else None


def _durations(block: dict[str, Any]) -> dict[str, Any]:
    return {
        "timeout_seconds": int(block.get("timeoutInSeconds") or 600),
        "sync_interval_seconds": int(block.get("syncIntervalInSeconds") or 600),
        "local_auth_ref": block.get("localAuthRef") or None,
    }


def _git(git: dict[str, Any]) -> GitSource:
    ref = git.get("repositoryRef") or {}
    return GitSource(
        url=str(git.get("url", "")),
        ref=RepositoryRef(
            branch=ref.get("branch"), tag=ref.get("tag"), semver=ref.get("semver"), commit=ref.get("commit")
        ),
        https_user=git.get("httpsUser"),
        ssh_known_hosts=git.get("sshKnownHosts"),
        provider=git.get("provider"),
        https_ca_cert=bool(git.get("httpsCACert")),
        **_durations(git),
    )


def _bucket(bucket: dict[str, Any]) -> BucketSource:
    return BucketSource(
        url=str(bucket.get("url", "")),
        bucket_name=str(bucket.get("bucketName", "")),
        access_key=bucket.get("accessKey") or None,
        insecure=bool(bucket.get("insecure", False)),
        **_durations(bucket),
    )


def _azure_blob(blob: dict[str, Any]) -> AzureBlobSource:
    principal = blob.get("servicePrincipal") or {}
    identity = blob.get("managedIdentity") or {}
    return AzureBlobSource(
        url=str(blob.get("url", "")),
        container_name=str(blob.get("containerName", "")),
        managed_identity_client_id=identity.get("clientId") or None,
        sp_client_id=principal.get("clientId") or None,
        sp_tenant_id=principal.get("tenantId") or None,
        sp_client_cert_send_chain=bool(principal.get("clientCertificateSendChain", False)),
        **_durations(blob),
    )


def _oci(oci: dict[str, Any]) -> OciSource:
    ref = oci.get("repositoryRef") or {}
    return OciSource(
        url=str(oci.get("url", "")),
        tag=ref.get("tag") or None,
        semver=ref.get("semver") or None,
        digest=ref.get("digest") or None,
        use_workload_identity=bool(oci.get("useWorkloadIdentity", False)),
        insecure=bool(oci.get("insecure", False)),
        **_durations(oci),
    )


def source_from_wire(props: dict[str, Any]) -> FluxSource | None:
    """The source of the configuration's ``sourceKind`` (GitRepository when absent); None when the kind is
    one fluxops does not model or its block is missing."""
    kind = props.get("sourceKind") or "GitRepository"
    if kind == "GitRepository" and (block := _block(props, "gitRepository")) is not None:
        return _git(block)
    if kind == "Bucket" and (block := _block(props, "bucket")) is not None:
        return _bucket(block)
    if kind == "AzureBlob" and (block := _block(props, "azureBlob")) is not None:
        return _azure_blob(block)
    if kind == "OCIRepository" and (block := _block(props, "ociRepository")) is not None:
        return _oci(block)
    return None


def _kustomization(name: str, k: dict[str, Any]) -> Kustomization:
    post_build = k.get("postBuild") or {}
    return Kustomization(
        name=name,
        path=str(k.get("path") or ""),
        depends_on=tuple(k.get("dependsOn") or ()),
        prune=bool(k.get("prune", False)),
        force=bool(k.get("force", False)),
        wait=bool(k.get("wait", True)),
        timeout_seconds=int(k.get("timeoutInSeconds") or 600),
        sync_interval_seconds=int(k.get("syncIntervalInSeconds") or 600),
        retry_interval_seconds=k.get("retryIntervalInSeconds"),
        substitute=tuple(sorted((post_build.get("substitute") or {}).items())),
        substitute_from=tuple(
            SubstituteFrom(kind=str(s.get("kind", "")), name=str(s.get("name", "")), optional=bool(s.get("optional")))
            for s in post_build.get("substituteFrom") or ()
        ),
    )


def _spec_from_wire(name: str, props: dict[str, Any]) -> FluxConfigSpec | None:
    source = source_from_wire(props)
    if source is None:
        return None
    return FluxConfigSpec(
        name=name,
        source=source,
        namespace=str(props.get("namespace") or "default"),
        scope=str(props.get("scope") or "cluster"),
        kustomizations=tuple(_kustomization(k, v) for k, v in (props.get("kustomizations") or {}).items()),
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
