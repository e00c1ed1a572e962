"""Bucket, Azure Blob and OCI sources: their fields, and the rules az applies to them.

Authentication, as ``az k8s-configuration flux create`` takes it (secrets only ever as references to
credentials fluxops holds):

- bucket: ``--access-key ID`` with ``--secret-key-ref REF``, or ``--local-auth-ref SECRET``;
- Azure Blob: one of ``--account-key-ref``, ``--sas-token-ref``, a service principal (``--sp-client-id``
  and ``--tenant-id`` with ``--sp-client-secret-ref`` or ``--sp-client-cert-ref`` [+
  ``--sp-client-cert-password-ref``, ``--sp-client-cert-send-chain``]), ``--managed-identity-client-id``
  and ``--local-auth-ref``;
- OCI: ``--provider azure`` (the cluster's workload identity) or ``--local-auth-ref``, plus TLS material
  (``--tls-client-cert-ref`` with ``--tls-private-key-ref``, ``--tls-ca-cert-ref``) or ``--insecure``.

``config update`` takes the same fields, each alone (``update_*``): what it names changes, nothing else.
"""

from __future__ import annotations

import re

from bot.commands import CredentialRefs
from bot.models import AzureBlobSource, BucketSource, OciSource
from bot.source_fields import SourceFields, credentials, durations, local_auth_ref, one_given, required_url
from bot.usage import UsageError, code, shown
from bot.values import choice, guid, http_url, oci_digest, oci_url, semver_range

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CONTAINER_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_OCI_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_ACCESS_KEY = re.compile(r"^[A-Za-z0-9+/=._-]{3,128}$")
_OCI_REFS = ("tag", "semver", "digest")
#: the service principal's flags (any of them means "authenticate with a service principal")
SERVICE_PRINCIPAL = (
    "sp_client_id",
    "sp_tenant_id",
    "sp_client_secret_ref",
    "sp_client_cert_ref",
    "sp_client_cert_password_ref",
    "sp_client_cert_send_chain",
)
_BLOB_METHODS = "`--account-key-ref`, `--sas-token-ref`, a service principal (`--sp-client-id ...`), "
_BLOB_METHODS += "`--managed-identity-client-id` and `--local-auth-ref`"


def bucket_name(fields: SourceFields) -> str | None:
    name = fields.value("bucket_name")
    if name is not None and (not _BUCKET_NAME.match(name) or ".." in name):
        raise UsageError(f"`--bucket-name` is not a valid bucket name: {shown(name)}.")
    return name


def access_key(fields: SourceFields) -> str | None:
    value = fields.value("access_key")
    if value is not None and not _ACCESS_KEY.match(value):
        raise UsageError("`--access-key` takes an access key ID (letters and digits).")
    return value


def container_name(fields: SourceFields) -> str | None:
    name = fields.value("container_name")
    if name is not None and not _CONTAINER_NAME.match(name):
        raise UsageError(f"`--container-name` is not a valid blob container name: {shown(name)}.")
    return name


def bucket(fields: SourceFields) -> tuple[BucketSource, CredentialRefs]:
    """``config create --kind bucket``."""
    url = http_url(required_url(fields), code(fields.spelled("url")))
    name = bucket_name(fields)
    if name is None:
        raise UsageError("Which bucket? `--bucket-name BUCKET` is required with `--kind bucket`.", usage=True)
    if fields.given("access_key") != fields.given("secret_key_ref"):
        missing = "--secret-key-ref REF" if fields.given("access_key") else "--access-key ACCESS_KEY_ID"
        raise UsageError("`--access-key` and `--secret-key-ref` go together.", hint=f"Add {code(missing)}.")
    check_bucket_auth(fields)
    timeout, interval = durations(fields)
    source = BucketSource(
        url=url,
        bucket_name=name,
        access_key=access_key(fields),
        insecure=bool(fields.switch("bucket_insecure")),
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=local_auth_ref(fields),
    )
    return source, credentials(fields)


def check_bucket_auth(fields: SourceFields) -> None:
    if fields.given("local_auth_ref") and fields.given("secret_key_ref"):
        raise UsageError("`--local-auth-ref` and `--secret-key-ref` both give credentials.", hint="Keep one of them.")


def check_blob_auth(fields: SourceFields, *, create: bool) -> None:
    """One way to authenticate, as az allows; a service principal complete on create."""
    methods = [d for d in ("account_key_ref", "sas_token_ref", "mi_client_id", "local_auth_ref") if fields.given(d)]
    principal = [d for d in SERVICE_PRINCIPAL if fields.given(d)]
    if principal:
        methods.insert(2, principal[0])
    if len(methods) > 1:
        raise UsageError(
            f"{code(fields.spelled(methods[0]))} and {code(fields.spelled(methods[1]))} are two ways to authenticate.",
            hint=f"Azure Blob sources take one of {_BLOB_METHODS}.",
        )
    if fields.given("sp_client_secret_ref") and fields.given("sp_client_cert_ref"):
        raise UsageError(
            "`--sp-client-secret-ref` and `--sp-client-cert-ref` are two ways for a service principal to sign in.",
            hint="Keep one of them.",
        )
    if fields.given("sp_client_secret_ref") and (
        fields.given("sp_client_cert_password_ref") or fields.given("sp_client_cert_send_chain")
    ):
        extra = (
            "sp_client_cert_password_ref"
            if fields.given("sp_client_cert_password_ref")
            else "sp_client_cert_send_chain"
        )
        raise UsageError(
            f"{code(fields.spelled(extra))} goes with a certificate (`--sp-client-cert-ref`), not a client secret.",
            hint=f"Leave {code(fields.spelled(extra))} out.",
        )
    if not create or not principal:
        return
    missing = [f"--{d.replace('_', '-')}" for d in ("sp_client_id",) if not fields.given(d)]
    missing += ["--tenant-id"] if not fields.given("sp_tenant_id") else []
    if not (fields.given("sp_client_secret_ref") or fields.given("sp_client_cert_ref")):
        missing.append("--sp-client-secret-ref REF (or --sp-client-cert-ref REF)")
    if missing:
        raise UsageError(
            "A service principal needs its client id, its tenant and a secret or certificate.",
            hint="Add " + ", ".join(code(m) for m in missing) + ".",
            usage=True,
        )


def guid_field(fields: SourceFields, dest: str) -> str | None:
    value = fields.value(dest)
    return guid(value, code(fields.spelled(dest))) if value is not None else None


def azure_blob(fields: SourceFields) -> tuple[AzureBlobSource, CredentialRefs]:
    """``config create --kind azblob``."""
    url = http_url(required_url(fields), code(fields.spelled("url")))
    name = container_name(fields)
    if name is None:
        raise UsageError("Which container? `--container-name CONTAINER` is required with `--kind azblob`.", usage=True)
    check_blob_auth(fields, create=True)
    timeout, interval = durations(fields)
    source = AzureBlobSource(
        url=url,
        container_name=name,
        managed_identity_client_id=guid_field(fields, "mi_client_id"),
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=local_auth_ref(fields),
        sp_client_id=guid_field(fields, "sp_client_id"),
        sp_tenant_id=guid_field(fields, "sp_tenant_id"),
        sp_client_cert_send_chain=bool(fields.switch("sp_client_cert_send_chain")),
    )
    return source, credentials(fields)


def oci_workload_identity(fields: SourceFields) -> bool | None:
    """``--provider azure|generic`` of an OCI source: whether it uses the workload identity (None: not given)."""
    value = fields.value("provider")
    if value is None:
        return None
    provider = choice(value, code(fields.spelled("provider")), {"azure": "Azure", "generic": "Generic"})
    if provider == "Azure" and fields.given("local_auth_ref"):
        raise UsageError(
            "`--provider azure` authenticates with the cluster's workload identity; it takes no `--local-auth-ref`."
        )
    return provider == "Azure"


def check_oci_tls(fields: SourceFields) -> None:
    if fields.given("tls_client_cert_ref") != fields.given("tls_private_key_ref"):
        missing = "--tls-private-key-ref REF" if fields.given("tls_client_cert_ref") else "--tls-client-cert-ref REF"
        raise UsageError(
            "`--tls-client-cert-ref` and `--tls-private-key-ref` go together.", hint=f"Add {code(missing)}."
        )
    tls = [d for d in ("tls_client_cert_ref", "tls_ca_cert_ref") if fields.given(d)]
    if tls and fields.switch("insecure"):
        raise UsageError(
            f"`--insecure` is plain HTTP, so {code(fields.spelled(tls[0]))} would not be used.", hint="Keep one."
        )


def oci_version(fields: SourceFields, *, required: bool) -> tuple[str, str] | None:
    """(which of tag/semver/digest, its checked value)."""
    found = one_given(fields, _OCI_REFS, required=required)
    if found is None:
        return None
    dest, value = found
    what = code(fields.spelled(dest))
    if dest == "tag" and not _OCI_TAG.match(value):
        raise UsageError(f"{what} is not a valid OCI tag: {shown(value)}.")
    if dest == "semver":
        return dest, semver_range(value, what)
    if dest == "digest":
        return dest, oci_digest(value, what)
    return dest, value


def oci(fields: SourceFields) -> tuple[OciSource, CredentialRefs]:
    """``config create --kind oci`` (or an ``oci://`` URL)."""
    url = oci_url(required_url(fields), code(fields.spelled("url")))
    found = oci_version(fields, required=True)
    assert found is not None
    dest, value = found
    check_oci_tls(fields)
    timeout, interval = durations(fields)
    source = OciSource(
        url=url,
        tag=value if dest == "tag" else None,
        semver=value if dest == "semver" else None,
        digest=value if dest == "digest" else None,
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=local_auth_ref(fields),
        use_workload_identity=bool(oci_workload_identity(fields)),
        insecure=bool(fields.switch("insecure")),
    )
    return source, credentials(fields)
