"""Fetching the non-Git sources (Bucket, AzureBlob, OCIRepository) from the sandbox's source servers.

:func:`prepare_fetch` reads what the fetch needs on the loop (the world belongs to it) and returns the blocking
fetch to run in a worker thread, with what the fetch log and the source's Ready condition need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sandbox.fluxsim.blob_fetch import blob_credentials, fetch_blob
from sandbox.fluxsim.bucket_fetch import bucket_credentials, fetch_bucket
from sandbox.fluxsim.oci_fetch import fetch_oci, oci_credentials
from sandbox.fluxsim.sources import SOURCE_KEYS
from sandbox.fluxsim.state import Artifact, mapping
from sandbox.source_servers import SourceAccess
from sandbox.world import Cluster, FluxConfigRecord

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class PreparedFetch:
    url: str
    auth_method: str  # for the fetch log: never a key, only how the fetch authenticated
    run: Callable[[], Artifact | str]
    #: the Ready reason when the failure is about credentials (a Secret missing or malformed)
    auth_error: bool = False


def ready_message(kind: str, artifact: Artifact) -> str:
    """source-controller's Ready message for a stored artifact."""
    if kind == "OCIRepository":
        return f"stored artifact for digest '{artifact.revision}'"
    return f"stored artifact: revision '{artifact.revision}'"


def _timeout(spec: dict[str, object]) -> float:
    value = spec.get("timeoutInSeconds")
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_TIMEOUT


def prepare_fetch(kind: str, cluster: Cluster, record: FluxConfigRecord, access: SourceAccess | None) -> PreparedFetch:
    props = record.properties
    if access is None or kind in access.missing:
        why = access.missing[kind] if access else "the sandbox was started without its source servers"
        spec = mapping(props.get(SOURCE_KEYS.get(kind, "")))
        message = f"{kind} sources cannot be fetched in this sandbox: {why}"
        return PreparedFetch(str(spec.get("url") or ""), "none", lambda: message)
    ca_file: Path | None = access.ca_file
    if kind == "Bucket":
        spec = mapping(props.get("bucket"))
        url, name = str(spec.get("url") or ""), str(spec.get("bucketName") or "")
        bucket_creds = bucket_credentials(cluster, record)
        method = "access-key" if bucket_creds.access_key else "anonymous"
        return PreparedFetch(
            url,
            method,
            lambda: fetch_bucket(url=url, bucket=name, creds=bucket_creds, ca_file=ca_file, timeout=_timeout(spec)),
            auth_error=bucket_creds.error is not None,
        )
    if kind == "AzureBlob":
        spec = mapping(props.get("azureBlob"))
        url, name = str(spec.get("url") or ""), str(spec.get("containerName") or "")
        blob_creds = blob_credentials(cluster, record)
        method = (
            "service-principal" if blob_creds.client_id
            else "managed-identity" if blob_creds.managed_identity
            else "account-key" if blob_creds.account_key
            else "sas-token" if blob_creds.sas_token
            else "anonymous"
        )  # fmt: skip
        principal = access.principal
        service_key = access.blob.account_key if access.blob else None
        return PreparedFetch(
            url,
            method,
            lambda: fetch_blob(
                url=url,
                container=name,
                creds=blob_creds,
                principal=principal,
                service_key=service_key,
                ca_file=ca_file,
                timeout=_timeout(spec),
            ),
            auth_error=blob_creds.error is not None,
        )
    spec = mapping(props.get("ociRepository"))
    url = str(spec.get("url") or "")
    oci_creds = oci_credentials(cluster, record)
    method = "workload-identity" if oci_creds.bearer else "basic" if oci_creds.username else "anonymous"
    return PreparedFetch(
        url,
        method,
        lambda: fetch_oci(url=url, spec=spec, creds=oci_creds, ca_file=ca_file, timeout=_timeout(spec)),
        auth_error=oci_creds.error is not None,
    )
