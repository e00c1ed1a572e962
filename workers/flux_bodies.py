"""The fluxConfigurations bodies fluxops writes: a PUT (``spec_model``) and a JSON merge patch (``patch_body``).

Where each secret goes is ARM's (api-version 2025-04-01, as ``az k8s-configuration flux`` sends them):

- ``configurationProtectedSettings`` (base64 values): ``sshPrivateKey``, ``httpsKey`` (git) and
  ``bucketSecretKey`` (bucket);
- the source block's write-only fields, which ARM never returns: ``azureBlob.accountKey``, ``.sasToken``,
  ``.servicePrincipal.clientSecret`` / ``.clientCertificate`` (base64) / ``.clientCertificatePassword``,
  and ``ociRepository.tlsConfig`` (base64 PEM);
- ``gitRepository.httpsCACert`` (base64 PEM), public but held by reference.

A patch writes only the block of the configuration's own kind (``FluxConfigPatch.source_kind``) and only
the fields it sets; switching an Azure Blob configuration to another way of authenticating clears the others.
"""

from __future__ import annotations

import base64
from typing import Any

from azure.mgmt.kubernetesconfiguration.fluxconfigurations import models as m

from bot.models import (
    AzureBlobSource,
    BucketSource,
    FluxConfigPatch,
    FluxConfigSpec,
    GitSource,
    Kustomization,
    KustomizationChange,
    OciSource,
    ProtectedSettings,
    RepositoryRef,
    Secret,
    SubstituteFrom,
)

#: ARM sourceKind -> the property holding that kind's source
BLOCKS = {
    "GitRepository": "gitRepository",
    "Bucket": "bucket",
    "AzureBlob": "azureBlob",
    "OCIRepository": "ociRepository",
}
_BLOB_AUTH = ("accountKey", "sasToken", "servicePrincipal", "managedIdentity", "localAuthRef")


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _plain(secret: Secret | None) -> str | None:
    return None if secret is None else secret.reveal()


def _encoded(secret: Secret | None) -> str | None:
    return None if secret is None else _b64(secret.reveal())


def protected_wire(protected: ProtectedSettings | None) -> dict[str, str] | None:
    """configurationProtectedSettings as ARM takes them: base64 values (None: nothing to send)."""
    if protected is None:
        return None
    pairs = (
        ("sshPrivateKey", protected.ssh_private_key),
        ("httpsKey", protected.https_key),
        ("bucketSecretKey", protected.bucket_secret_key),
    )
    out = {key: _b64(secret.reveal()) for key, secret in pairs if secret is not None}
    return out or None


def _given(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _service_principal(p: ProtectedSettings, **ids: Any) -> dict[str, Any]:
    return _given(
        **ids,
        clientSecret=_plain(p.sp_client_secret),
        clientCertificate=_encoded(p.sp_client_certificate),
        clientCertificatePassword=_plain(p.sp_client_certificate_password),
    )


def _tls(p: ProtectedSettings) -> dict[str, Any]:
    return _given(
        clientCertificate=_encoded(p.tls_client_certificate),
        privateKey=_encoded(p.tls_private_key),
        caCertificate=_encoded(p.tls_ca_certificate),
    )


# -- PUT ---------------------------------------------------------------------------------------------


def _substitute_from(items: tuple[SubstituteFrom, ...]) -> list[m.SubstituteFromDefinition]:
    return [m.SubstituteFromDefinition(kind=s.kind, name=s.name, optional=s.optional) for s in items]


def _kustomization_model(k: Kustomization) -> m.KustomizationDefinition:
    post_build = (
        m.PostBuildDefinition(
            substitute=dict(k.substitute) or None, substitute_from=_substitute_from(k.substitute_from) or None
        )
        if k.substitute or k.substitute_from
        else None
    )
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


def _ref_model(ref: RepositoryRef) -> m.RepositoryRefDefinition:
    return m.RepositoryRefDefinition(branch=ref.branch, tag=ref.tag, semver=ref.semver, commit=ref.commit)


def _git_model(src: GitSource, p: ProtectedSettings) -> m.GitRepositoryDefinition:
    return m.GitRepositoryDefinition(
        url=src.url,
        repository_ref=_ref_model(src.ref),
        https_user=src.https_user,
        https_ca_cert=_encoded(p.https_ca_cert),
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


def _azure_blob_model(src: AzureBlobSource, p: ProtectedSettings) -> m.AzureBlobDefinition:
    identity = src.managed_identity_client_id
    principal = _service_principal(p)
    if src.sp_client_id or principal:
        principal = _service_principal(p, clientId=src.sp_client_id, tenantId=src.sp_tenant_id)
        principal["clientCertificateSendChain"] = src.sp_client_cert_send_chain
    return m.AzureBlobDefinition(
        url=src.url,
        container_name=src.container_name,
        account_key=_plain(p.account_key),
        sas_token=_plain(p.sas_token),
        service_principal=m.ServicePrincipalDefinition(principal) if principal else None,
        managed_identity=m.ManagedIdentityDefinition(client_id=identity) if identity else None,
        local_auth_ref=src.local_auth_ref,
        timeout_in_seconds=src.timeout_seconds,
        sync_interval_in_seconds=src.sync_interval_seconds,
    )


def _oci_model(src: OciSource, p: ProtectedSettings) -> m.OCIRepositoryDefinition:
    tls = _tls(p)
    return m.OCIRepositoryDefinition(
        url=src.url,
        repository_ref=m.OCIRepositoryRefDefinition(tag=src.tag, semver=src.semver, digest=src.digest),
        local_auth_ref=src.local_auth_ref,
        use_workload_identity=src.use_workload_identity or None,
        insecure=src.insecure or None,
        tls_config=m.TlsConfigDefinition(tls) if tls else None,
        timeout_in_seconds=src.timeout_seconds,
        sync_interval_in_seconds=src.sync_interval_seconds,
    )


def spec_model(spec: FluxConfigSpec, protected: ProtectedSettings | None) -> m.FluxConfiguration:
    """The PUT body of ``spec``, with the secrets of ``protected`` where ARM takes them."""
    src = spec.source
    p = protected or ProtectedSettings()
    properties = m.FluxConfigurationProperties(
        scope=spec.scope,
        namespace=spec.namespace,
        source_kind=src.kind,
        suspend=spec.suspend,
        git_repository=_git_model(src, p) if isinstance(src, GitSource) else None,
        bucket=_bucket_model(src) if isinstance(src, BucketSource) else None,
        azure_blob=_azure_blob_model(src, p) if isinstance(src, AzureBlobSource) else None,
        oci_repository=_oci_model(src, p) if isinstance(src, OciSource) else None,
        kustomizations={k.name: _kustomization_model(k) for k in spec.kustomizations},
        configuration_protected_settings=protected_wire(protected),
    )
    return m.FluxConfiguration(properties=properties)


# -- PATCH -------------------------------------------------------------------------------------------


def _git_patch(patch: FluxConfigPatch, p: ProtectedSettings) -> dict[str, Any]:
    ref = patch.ref
    return _given(
        url=patch.url,
        # All four keys: merge patch must clear the ref kinds not chosen.
        repositoryRef=None
        if ref is None
        else {"branch": ref.branch, "tag": ref.tag, "semver": ref.semver, "commit": ref.commit},
        httpsUser=patch.https_user,
        httpsCACert=_encoded(p.https_ca_cert),
        provider=patch.provider,
    )


def _bucket_patch(patch: FluxConfigPatch, p: ProtectedSettings) -> dict[str, Any]:
    block = _given(url=patch.url, bucketName=patch.bucket_name, insecure=patch.insecure)
    # one way to authenticate at a time (ARM refuses both): a local secret clears the access key, and a key the ref
    if patch.local_auth_ref is not None:
        return {**block, "accessKey": None, "localAuthRef": patch.local_auth_ref}
    if patch.access_key is not None:
        return {**block, "accessKey": patch.access_key, "localAuthRef": None}
    return block


def _azure_blob_patch(patch: FluxConfigPatch, p: ProtectedSettings) -> dict[str, Any]:
    principal = _service_principal(
        p,
        clientId=patch.sp_client_id,
        tenantId=patch.sp_tenant_id,
        clientCertificateSendChain=patch.sp_client_cert_send_chain,
    )
    identity = patch.managed_identity_client_id
    auth = _given(
        accountKey=_plain(p.account_key),
        sasToken=_plain(p.sas_token),
        servicePrincipal=principal or None,
        managedIdentity={"clientId": identity} if identity else None,
        localAuthRef=patch.local_auth_ref,
    )
    # one way to authenticate at a time: the one given replaces the others (merge patch keeps what it omits)
    cleared = dict.fromkeys(key for key in _BLOB_AUTH if key not in auth) if auth else {}
    return {**_given(url=patch.url, containerName=patch.container_name), **cleared, **auth}


def _oci_patch(patch: FluxConfigPatch, p: ProtectedSettings) -> dict[str, Any]:
    ref = patch.ref
    version = None
    if ref is not None or patch.digest is not None:
        # All three keys: merge patch must clear the ones not chosen.
        version = {"tag": ref.tag if ref else None, "semver": ref.semver if ref else None, "digest": patch.digest}
    block = _given(
        url=patch.url,
        repositoryRef=version,
        useWorkloadIdentity=None if patch.provider is None else patch.provider == "Azure",
        insecure=patch.insecure,
        tlsConfig=_tls(p) or None,
        localAuthRef=patch.local_auth_ref,
    )
    # workload identity and a local secret are two ways to authenticate (ARM refuses both): one clears the other
    if patch.local_auth_ref is not None and patch.provider is None:
        block["useWorkloadIdentity"] = None
    elif patch.provider == "Azure" and patch.local_auth_ref is None:
        block["localAuthRef"] = None
    return block


def source_patch(patch: FluxConfigPatch) -> dict[str, Any]:
    """The source block's merge patch (empty: the patch changes no source field)."""
    p = patch.protected or ProtectedSettings()
    kind = patch.source_kind or "GitRepository"
    if kind == "Bucket":
        block = _bucket_patch(patch, p)
    elif kind == "AzureBlob":
        block = _azure_blob_patch(patch, p)
    elif kind == "OCIRepository":
        block = _oci_patch(patch, p)
    else:
        block = _git_patch(patch, p)
    common = _given(syncIntervalInSeconds=patch.sync_interval_seconds, timeoutInSeconds=patch.timeout_seconds)
    if kind == "GitRepository":
        common.update(_given(localAuthRef=patch.local_auth_ref))
    return {**block, **common}


def _post_build_patch(change: KustomizationChange) -> dict[str, Any] | None:
    """``substitute`` merges per variable (an empty one clears them all); ``substituteFrom`` is replaced."""
    post: dict[str, Any] = {}
    if change.substitute is not None:
        post["substitute"] = dict(change.substitute) or None
    if change.substitute_from is not None:
        items = [{"kind": s.kind, "name": s.name, "optional": s.optional} for s in change.substitute_from]
        post["substituteFrom"] = items or None
    return post or None


def _kustomization_patch(change: KustomizationChange) -> dict[str, Any] | None:
    if change.remove:
        return None
    return _given(
        path=change.path,
        dependsOn=list(change.depends_on) if change.depends_on is not None else None,
        prune=change.prune,
        force=change.force,
        wait=change.wait,
        syncIntervalInSeconds=change.sync_interval_seconds,
        retryIntervalInSeconds=change.retry_interval_seconds,
        timeoutInSeconds=change.timeout_seconds,
        postBuild=_post_build_patch(change),
    )


def patch_body(patch: FluxConfigPatch) -> dict[str, Any]:
    """A JSON merge patch: only set fields, ``None`` for kustomizations to remove."""
    props: dict[str, Any] = {}
    if patch.suspend is not None:
        props["suspend"] = patch.suspend
    block = source_patch(patch)
    if block:
        props[BLOCKS[patch.source_kind or "GitRepository"]] = block
    if patch.kustomizations:
        props["kustomizations"] = {change.name: _kustomization_patch(change) for change in patch.kustomizations}
    protected: dict[str, str | None] = dict(protected_wire(patch.protected) or {})
    if patch.source_kind == "Bucket" and patch.local_auth_ref is not None:
        protected["bucketSecretKey"] = None  # the access key's secret goes with it (ARM keeps what a patch omits)
    if protected:
        props["configurationProtectedSettings"] = protected
    return {"properties": props}
