"""What a merge patch does to what it patches, as ARM applies one: a configuration after a ``FluxConfigPatch``,
an extension after an ``ExtensionPatch``; and whether a patch would change anything (``changes_*``), which is
how a fleet run tells a cluster already as asked (no write) and a write that landed before a crash (none again).

Protected settings are never read back from ARM: a patch that carries them always counts as a change.
A patch's source fields change the configuration's source of its own kind; ``misfits`` names the fields a
patch gives that the kind has not (``--bucket-name`` for a git configuration), which the use-case refuses.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.models import (
    AzureBlobSource,
    BucketSource,
    ExtensionPatch,
    ExtensionState,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxSource,
    GitSource,
    Kustomization,
    OciSource,
)

_CHANGE_FIELDS = (
    "path",
    "depends_on",
    "prune",
    "force",
    "wait",
    "sync_interval_seconds",
    "retry_interval_seconds",
    "timeout_seconds",
    "substitute_from",
)
#: patch fields of one source kind or two (the others -- url, intervals, local auth -- fit every kind),
#: each with the flag that sets it, for messages
_KIND_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "https_user": (("GitRepository",), "--https-user"),
    "digest": (("OCIRepository",), "--digest"),
    "provider": (("GitRepository", "OCIRepository"), "--provider"),
    "bucket_name": (("Bucket",), "--bucket-name"),
    "access_key": (("Bucket",), "--access-key"),
    "insecure": (("Bucket", "OCIRepository"), "--bucket-insecure / --insecure"),
    "container_name": (("AzureBlob",), "--container-name"),
    "managed_identity_client_id": (("AzureBlob",), "--managed-identity-client-id"),
    "sp_client_id": (("AzureBlob",), "--sp-client-id"),
    "sp_tenant_id": (("AzureBlob",), "--tenant-id"),
    "sp_client_cert_send_chain": (("AzureBlob",), "--sp-client-cert-send-chain"),
}
_KIND_SECRETS: dict[str, tuple[str, str]] = {
    "ssh_private_key": ("GitRepository", "--ssh-private-key-ref"),
    "https_key": ("GitRepository", "--https-key-ref"),
    "https_ca_cert": ("GitRepository", "--https-ca-cert"),
    "bucket_secret_key": ("Bucket", "--secret-key-ref"),
    "account_key": ("AzureBlob", "--account-key-ref"),
    "sas_token": ("AzureBlob", "--sas-token-ref"),
    "sp_client_secret": ("AzureBlob", "--sp-client-secret-ref"),
    "sp_client_certificate": ("AzureBlob", "--sp-client-cert-ref"),
    "sp_client_certificate_password": ("AzureBlob", "--sp-client-cert-password-ref"),
    "tls_client_certificate": ("OCIRepository", "--tls-client-cert-ref"),
    "tls_private_key": ("OCIRepository", "--tls-private-key-ref"),
    "tls_ca_certificate": ("OCIRepository", "--tls-ca-cert-ref"),
}


def misfits(patch: FluxConfigPatch, kind: str) -> list[str]:
    """The flags of ``patch`` that a source of ARM kind ``kind`` does not take (empty: the patch fits)."""
    wrong = [
        flag for name, (kinds, flag) in _KIND_FIELDS.items() if getattr(patch, name) is not None and kind not in kinds
    ]
    if patch.ref is not None:
        git_only = patch.ref.branch is not None or patch.ref.commit is not None
        if kind not in ("GitRepository", "OCIRepository") or (git_only and kind != "GitRepository"):
            wrong.append("--branch" if patch.ref.branch else "--commit" if patch.ref.commit else "--tag / --semver")
    protected = patch.protected
    if protected is not None:
        wrong += [flag for name, (of, flag) in _KIND_SECRETS.items() if getattr(protected, name) and of != kind]
    return wrong


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def patched_source(source: FluxSource, patch: FluxConfigPatch) -> FluxSource:
    """The source after the source fields of ``patch`` (those of another kind are not applied)."""
    common = _given(
        url=patch.url,
        sync_interval_seconds=patch.sync_interval_seconds,
        timeout_seconds=patch.timeout_seconds,
        local_auth_ref=patch.local_auth_ref,
    )
    if isinstance(source, GitSource):
        return replace(source, **common, **_given(ref=patch.ref, https_user=patch.https_user, provider=patch.provider))
    if isinstance(source, BucketSource):
        fields = _given(bucket_name=patch.bucket_name, access_key=patch.access_key, insecure=patch.insecure)
        return replace(source, **common, **fields)
    if isinstance(source, AzureBlobSource):
        fields = _given(
            container_name=patch.container_name,
            managed_identity_client_id=patch.managed_identity_client_id,
            sp_client_id=patch.sp_client_id,
            sp_tenant_id=patch.sp_tenant_id,
            sp_client_cert_send_chain=patch.sp_client_cert_send_chain,
        )
        return replace(source, **common, **fields)
    assert isinstance(source, OciSource)
    fields = _given(insecure=patch.insecure)
    if patch.provider is not None:
        fields["use_workload_identity"] = patch.provider == "Azure"
    if patch.ref is not None or patch.digest is not None:
        tag, semver = (patch.ref.tag, patch.ref.semver) if patch.ref is not None else (None, None)
        fields.update(tag=tag, semver=semver, digest=patch.digest)
    return replace(source, **common, **fields)


def patched(spec: FluxConfigSpec, patch: FluxConfigPatch) -> FluxConfigSpec:
    """``spec`` after a JSON merge patch, as ARM applies one."""
    source = patched_source(spec.source, patch)
    kustomizations = list(spec.kustomizations)
    for change in patch.kustomizations:
        index = next((i for i, k in enumerate(kustomizations) if k.name == change.name), None)
        if change.remove:
            if index is not None:
                del kustomizations[index]
            continue
        fields: dict[str, Any] = {f: getattr(change, f) for f in _CHANGE_FIELDS if getattr(change, f) is not None}
        if change.substitute is not None:
            # merge patch: the variables given are set, the others stay; none at all clears them
            old = dict(kustomizations[index].substitute) if index is not None else {}
            fields["substitute"] = (
                tuple(sorted({**old, **dict(change.substitute)}.items())) if change.substitute else ()
            )
        if index is None:
            kustomizations.append(replace(Kustomization(name=change.name), **fields))
        else:
            kustomizations[index] = replace(kustomizations[index], **fields)
    suspend = spec.suspend if patch.suspend is None else patch.suspend
    return replace(spec, source=source, kustomizations=tuple(kustomizations), suspend=suspend)


def changes_config(spec: FluxConfigSpec, patch: FluxConfigPatch) -> bool:
    """Whether writing ``patch`` would change the configuration ``spec`` (always, when it carries secrets)."""
    return patch.protected is not None or patched(spec, patch) != spec


def patched_settings(
    settings: tuple[tuple[str, str], ...], changes: tuple[tuple[str, str | None], ...]
) -> tuple[tuple[str, str], ...]:
    """Extension settings after a patch's changes (None removes a setting), sorted by key."""
    merged = dict(settings)
    for key, value in changes:
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return tuple(sorted(merged.items()))


def changes_extension(state: ExtensionState, patch: ExtensionPatch) -> bool:
    """Whether writing ``patch`` would change the extension as ARM reports it."""
    if patch.version is not None and patch.version != state.version:
        return True
    if patch.release_train is not None and patch.release_train.lower() != (state.release_train or "").lower():
        return True
    if patch.auto_upgrade_minor_version is not None and patch.auto_upgrade_minor_version != (
        state.auto_upgrade_minor_version
    ):
        return True
    return patched_settings(state.settings, patch.settings) != tuple(sorted(state.settings))
