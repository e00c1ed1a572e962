"""Fetching an AzureBlob source (a Flux Bucket with ``provider: azure``) with azure-storage-blob, as
source-controller's azure provider does: confirm the container exists, list it, download every blob.

Credentials, in source-controller's order: a service principal (secret or certificate), a managed identity,
the account key, a SAS token; from a localAuthRef Secret or from the configuration. The sandbox's azurite runs
without OAuth, so a service principal or managed identity is checked against the sandbox's Entra directory
(:class:`~sandbox.source_servers.ServicePrincipal`) and, once accepted, the container is read with the
account's key on its behalf.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError, HttpResponseError
from azure.storage.blob import ContainerClient

from sandbox.fluxsim.fetched_tree import index_artifact
from sandbox.fluxsim.sources import local_secret, protected_text
from sandbox.fluxsim.state import Artifact, mapping
from sandbox.source_servers import ServicePrincipal
from sandbox.world import Cluster, FluxConfigRecord

#: the secrets of an azureBlob source: ARM keeps them (base64) with the protected settings, never returns them
SECRET_SETTINGS = ("accountKey", "sasToken", "clientSecret", "clientCertificate", "clientCertificatePassword")


@dataclass(frozen=True)
class BlobCredentials:
    account_key: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_certificate: str | None = field(default=None, repr=False)
    managed_identity: str | None = None  # a user-assigned identity's client id
    error: str | None = None


def blob_credentials(cluster: Cluster, record: FluxConfigRecord) -> BlobCredentials:
    blob = mapping(record.properties.get("azureBlob"))
    secret_name = blob.get("localAuthRef")
    if secret_name:
        data = local_secret(cluster, record, str(secret_name))
        if isinstance(data, str):
            return BlobCredentials(error=data)
        if not any(data.get(k) for k in ("clientId", "accountKey", "sasKey", "authorityHost")):
            return BlobCredentials(
                error=f"invalid '{secret_name}' secret data: requires a 'clientId' or 'accountKey' field, a combination"
                " of 'tenantId', 'clientId' and 'clientSecret', or 'tenantId', 'clientId' and 'clientCertificate'"
            )
        tenant = data.get("tenantId")
        return BlobCredentials(
            account_key=data.get("accountKey"),
            sas_token=data.get("sasKey"),
            tenant_id=tenant,
            client_id=data.get("clientId") if tenant else None,
            client_secret=data.get("clientSecret"),
            client_certificate=data.get("clientCertificate"),
            managed_identity=None if tenant else data.get("clientId"),
        )
    sp = mapping(blob.get("servicePrincipal"))
    mi = mapping(blob.get("managedIdentity"))
    return BlobCredentials(
        account_key=protected_text(record, "accountKey"),
        sas_token=protected_text(record, "sasToken"),
        tenant_id=sp.get("tenantId") or None,
        client_id=sp.get("clientId") or None,
        client_secret=protected_text(record, "clientSecret"),
        client_certificate=protected_text(record, "clientCertificate"),
        managed_identity=mi.get("clientId") or None,
    )


def _principal_error(creds: BlobCredentials, principal: ServicePrincipal) -> str | None:
    """None when the sandbox's directory accepts the service principal / managed identity; else azidentity's error."""
    if creds.client_id:
        kind = "ClientSecretCredential" if creds.client_secret else "ClientCertificateCredential"
        if creds.tenant_id != principal.tenant_id:
            return f"{kind}: authentication failed: AADSTS90002: Tenant '{creds.tenant_id}' not found."
        if creds.client_id != principal.client_id:
            return (
                f"{kind}: authentication failed: AADSTS700016: Application with identifier '{creds.client_id}' "
                f"was not found in the directory '{creds.tenant_id}'."
            )
        if creds.client_secret is not None and creds.client_secret != principal.client_secret:
            return (
                f"{kind}: authentication failed: AADSTS7000215: Invalid client secret provided. Ensure the secret "
                f"being sent in the request is the client secret value, not the client secret ID, for a secret "
                f"added to app '{creds.client_id}'."
            )
        if creds.client_secret is None and not creds.client_certificate:
            return f"{kind}: authentication failed: no client secret or certificate for '{creds.client_id}'"
        return None
    if creds.managed_identity and creds.managed_identity != principal.managed_identity_client_id:
        return (
            "ManagedIdentityCredential: authentication failed: Identity not found: no user-assigned identity with "
            f"client id '{creds.managed_identity}' is assigned to the cluster"
        )
    return None


def _code(exc: HttpResponseError) -> str:
    """The service's error code (``x-ms-error-code``) as it is sent: the SDK may hand it as a StorageErrorCode enum,
    whose ``str`` is the enum's name (``StorageErrorCode.AUTHORIZATION_FAILURE``), not the code."""
    code = getattr(exc, "error_code", None) or ""
    return str(getattr(code, "value", code))


_BASE64 = frozenset(string.ascii_letters + string.digits + "+/")


def _account_key_error(key: str) -> str | None:
    """Go's base64 decoding error for an account key that is not standard base64 (a SAS token given as the key,
    say), as azblob.NewSharedKeyCredential reports it before any request; None for a well-formed key."""
    end = next((i for i, char in enumerate(key) if char not in _BASE64), len(key))
    padding = key[end:]
    if len(key) % 4 == 0 and padding in ("", "=", "=="):
        return None
    return f"decode account key: illegal base64 data at input byte {end}"


def _response_error(exc: AzureError, method: str, url: str) -> str:
    """An Azure SDK error as Go's azcore prints it, on one line; the URL without its query (a SAS is a secret)."""
    if isinstance(exc, HttpResponseError) and exc.status_code:
        code = _code(exc) or ""
        reason = (exc.reason or "").strip()
        detail = str(exc.message or "").splitlines()[0] if exc.message else reason
        return f"{method} {url}: RESPONSE {exc.status_code}: {exc.status_code} {detail}; ERROR CODE: {code}"
    return f"{method} {url}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def fetch_blob(
    *,
    url: str,
    container: str,
    creds: BlobCredentials,
    principal: ServicePrincipal | None,
    service_key: str | None,
    ca_file: Path | None,
    timeout: float,
) -> Artifact | str:
    """The container's blobs as an artifact, or source-controller's error (blocking: run in a thread).

    ``service_key``: the account key the sandbox reads with for an accepted service principal or identity."""
    if creds.error:
        return creds.error
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"invalid endpoint '{url}': the URL must be http:// or https:// and name a host"
    account = parts.path.strip("/").split("/")[0] or parts.netloc.split(".")[0]
    credential: Any = None
    if creds.client_id or creds.managed_identity:
        refused = _principal_error(creds, principal) if principal else "the sandbox has no Entra directory"
        if refused:
            return f"failed to confirm existence of '{container}' bucket: {refused}"
        credential = {"account_name": account, "account_key": service_key or ""}
    elif creds.account_key:
        malformed = _account_key_error(creds.account_key)
        if malformed:
            return f"failed to construct Azure client for '{container}' bucket: {malformed}"
        credential = {"account_name": account, "account_key": creds.account_key}
    elif creds.sas_token:
        credential = creds.sas_token.lstrip("?")
    client = ContainerClient(
        f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}",
        container,
        credential=credential,
        connection_verify=str(ca_file) if ca_file else True,
        connection_timeout=timeout,
        read_timeout=timeout,
        retry_total=0,
    )
    listing = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/{container}"
    try:
        next(iter(client.list_blobs(results_per_page=1).by_page()), None)
    except HttpResponseError as exc:
        if _code(exc) == "ContainerNotFound":
            return f"bucket '{container}' not found"
        error = _response_error(exc, "GET", listing)
        if _code(exc) == "AuthenticationFailed" and credential == creds.sas_token:
            return (
                f"failed to confirm existence of '{container}' bucket: the specified bucket name may be incorrect, "
                f"nonexistent, or the caller might lack sufficient permissions to access it: {error}"
            )
        return f"failed to confirm existence of '{container}' bucket: {error}"
    except AzureError as exc:
        return f"failed to confirm existence of '{container}' bucket: {_response_error(exc, 'GET', listing)}"
    files: dict[str, bytes] = {}
    etags: dict[str, str] = {}
    try:
        for item in client.list_blobs():
            etags[item.name] = str(item.etag).strip('"')
            files[item.name] = client.download_blob(item.name).readall()
    except AzureError as exc:
        return f"listing objects from bucket '{container}' failed: {_response_error(exc, 'GET', listing)}"
    return index_artifact(f"blob/{parts.netloc}/{account}/{container}", files, etags)
