"""The source part of a configuration's diff, for every kind a fleet file declares (git, bucket, azblob, oci).

A source is compared key by key, each key as the fleet file spells it (``source.bucketName``); ``source_keys``
is the one table of what each kind declares. What the merge patch can change in place goes into the patch;
the rest is ``blocked`` with what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.commands import CredentialRefs
from bot.fleet.diff import FieldDiff, Value
from bot.models import (
    AzureBlobSource,
    BucketSource,
    FluxConfigPatch,
    FluxSource,
    GitSource,
    OciSource,
    RepositoryRef,
)

RECREATE = (
    "give the configuration a new name (the plan then creates it and deletes '{name}'), or remove it in one "
    "pull request and add it back in the next"
)
#: ARM's sourceKind -> the fleet file's ``kind``
KIND_WORDS = {"GitRepository": "git", "Bucket": "bucket", "AzureBlob": "azblob", "OCIRepository": "oci"}


def source_keys(source: FluxSource) -> tuple[tuple[str, Value], ...]:
    """What ``source`` declares, by fleet-file key (under ``source.``), in the order a plan lists them; the
    first keys (URL, what is followed, intervals) are always shown, the others only when set."""
    timing: tuple[tuple[str, Value], ...] = (
        ("interval", source.sync_interval_seconds),
        ("timeout", source.timeout_seconds),
    )
    match source:
        case GitSource():
            return (
                ("url", source.url),
                ("ref", source.ref),
                *timing,
                ("provider", source.provider),
                ("httpsUser", source.https_user),
                ("localAuthRef", source.local_auth_ref),
            )
        case BucketSource():
            return (
                ("url", source.url),
                ("bucketName", source.bucket_name),
                *timing,
                ("accessKey", source.access_key),
                ("insecure", source.insecure or None),
                ("localAuthRef", source.local_auth_ref),
            )
        case AzureBlobSource():
            return (
                ("url", source.url),
                ("containerName", source.container_name),
                *timing,
                ("managedIdentityClientId", source.managed_identity_client_id),
                ("spClientId", source.sp_client_id),
                ("tenantId", source.sp_tenant_id),
                ("spClientCertSendChain", source.sp_client_cert_send_chain or None),
                ("localAuthRef", source.local_auth_ref),
            )
        case OciSource():
            return (
                ("url", source.url),
                ("tag", source.tag),
                ("semver", source.semver),
                ("digest", source.digest),
                *timing,
                ("provider", "Azure" if source.use_workload_identity else None),
                ("insecure", source.insecure or None),
                ("localAuthRef", source.local_auth_ref),
            )


#: the credential references a create names, by fleet-file key -> ``CredentialRefs`` field (never their secrets)
CREDENTIAL_KEYS = (
    ("httpsKeyRef", "https_key"),
    ("sshPrivateKeyRef", "ssh_private_key"),
    ("knownHostsRef", "known_hosts"),
    ("secretKeyRef", "secret_key"),
    ("accountKeyRef", "account_key"),
    ("sasTokenRef", "sas_token"),
    ("spClientSecretRef", "sp_client_secret"),
    ("spClientCertRef", "sp_client_cert"),
    ("spClientCertPasswordRef", "sp_client_cert_password"),
    ("httpsCACertRef", "https_ca_cert"),
    ("tlsClientCertRef", "tls_client_cert"),
    ("tlsPrivateKeyRef", "tls_private_key"),
    ("tlsCACertRef", "tls_ca_cert"),
)
_ALWAYS = {"url", "ref", "interval", "timeout", "bucketName", "containerName"}


def create_fields(source: FluxSource, refs: CredentialRefs) -> list[FieldDiff]:
    """A new source's fields: its kind (unless git, the default), what it always has, then what is set."""
    fields = [] if isinstance(source, GitSource) else [FieldDiff("source.kind", None, KIND_WORDS[source.kind])]
    fields += [FieldDiff(f"source.{key}", None, value) for key, value in source_keys(source) if key in _ALWAYS or value]
    fields += [
        FieldDiff(f"source.{key}", None, getattr(refs, attr)) for key, attr in CREDENTIAL_KEYS if getattr(refs, attr)
    ]
    return fields


@dataclass(frozen=True)
class SourceUpdate:
    fields: tuple[FieldDiff, ...]
    blocked: tuple[str, ...]
    patch: FluxConfigPatch


#: what a merge patch can change in place, per kind, by key. A fleet update never hands a secret over again, so
#: what goes with one stays out (a bucket's access key ID, a service principal): changing those is a new
#: configuration; so is removing a value, which a merge patch cannot say for these fields.
_EVERY_KIND = frozenset({"url", "interval", "timeout", "localAuthRef"})
_PATCHABLE: dict[str, frozenset[str]] = {
    "GitRepository": _EVERY_KIND | {"ref", "httpsUser", "provider"},
    "Bucket": _EVERY_KIND | {"bucketName", "insecure"},
    "AzureBlob": _EVERY_KIND | {"containerName", "managedIdentityClientId"},
    "OCIRepository": _EVERY_KIND | {"tag", "semver", "digest", "provider", "insecure"},
}
#: keys that may become unset in place: a switch turned off, an OCI version replaced by another kind of version
_UNSETTABLE = frozenset({"insecure", "provider", "tag", "semver", "digest"})


def update(name: str, old: FluxSource, new: FluxSource, patch: FluxConfigPatch) -> SourceUpdate:
    """How the source ``old`` on the cluster becomes ``new`` of the fleet file: the fields that differ,
    what cannot change in place, and ``patch`` with what can."""
    if old.kind != new.kind:
        return SourceUpdate(
            (FieldDiff("source.kind", KIND_WORDS[old.kind], KIND_WORDS[new.kind]),),
            (f"fluxops cannot change the kind of a configuration's source in place: {RECREATE.format(name=name)}",),
            patch,
        )
    fields: list[FieldDiff] = []
    blocked: list[str] = []
    before_patch = patch
    patchable = _PATCHABLE.get(new.kind, frozenset())
    before = dict(source_keys(old))
    for key, value in source_keys(new):
        was = before[key]
        if _same(key, was, value):
            continue
        if key == "provider":  # shown as Azure has it: Generic unless set
            was, value = was or "Generic", value or "Generic"
        fields.append(FieldDiff(f"source.{key}", was or None, value))
        if key in patchable and not value and key not in _UNSETTABLE:
            blocked.append(f"'source.{key}' cannot be removed in place: " + RECREATE.format(name=name))
        elif key in patchable:
            patch = _patched(patch, key, value, new)
        else:
            blocked.append(f"fluxops cannot change 'source.{key}' in place: " + RECREATE.format(name=name))
    if patch != before_patch:  # aimed at the configuration's own kind: an OCI one never gets a gitRepository block
        patch = replace(patch, source_kind=new.kind)
    return SourceUpdate(tuple(fields), tuple(blocked), patch)


def _same(key: str, old: Value, new: Value) -> bool:
    if key == "provider":  # Azure's default is Generic, and the case does not matter
        return str(old or "Generic").lower() == str(new or "Generic").lower()
    return (old or None) == (new or None)


def _patched(patch: FluxConfigPatch, key: str, value: Value, new: FluxSource) -> FluxConfigPatch:
    """``patch`` with source ``key`` set to ``value`` (``new`` is the whole source the key belongs to)."""
    if isinstance(new, OciSource) and key in ("tag", "semver", "digest"):
        # one version of the artifact: all three are sent (the adapter clears the two not chosen)
        version = RepositoryRef(tag=new.tag, semver=new.semver) if new.tag or new.semver else None
        return replace(patch, ref=version, digest=new.digest)
    match key, value:
        case "url", str():
            return replace(patch, url=value)
        case "ref", RepositoryRef():
            return replace(patch, ref=value)
        case "interval", int():
            return replace(patch, sync_interval_seconds=value)
        case "timeout", int():
            return replace(patch, timeout_seconds=value)
        case "httpsUser", str():
            return replace(patch, https_user=value)
        case "localAuthRef", str():
            return replace(patch, local_auth_ref=value)
        case "provider", _:
            return replace(patch, provider="Azure" if str(value or "").lower() == "azure" else "Generic")
        case "insecure", _:
            return replace(patch, insecure=bool(value))
        case "bucketName", str():
            return replace(patch, bucket_name=value)
        case "containerName", str():
            return replace(patch, container_name=value)
        case "managedIdentityClientId", str():
            return replace(patch, managed_identity_client_id=value)
    raise AssertionError(f"no patch for source.{key}")
