"""The credentials fluxops holds for the sandbox's source servers: files in the sandbox's credential folder,
named in its policy (`--secret-key-ref sandbox-s3`, `--account-key-ref sandbox-blob-key`,
`--sas-token-ref sandbox-blob-sas`, the service principal's secret `sandbox-sp-secret`), each scoped to its
server's ``host:port/path`` as the policy's repository globs name a source; and what a person needs to type
the rest (the access key id, the service principal's ids), for the start-up banner and ``sandbox.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.source_servers.cluster_secrets import BLOB_SECRET, BUCKET_SECRET, REGISTRY_SECRET
from sandbox.source_servers.servers import SourceAccess

S3_CREDENTIAL = "sandbox-s3"
BLOB_KEY_CREDENTIAL = "sandbox-blob-key"
BLOB_SAS_CREDENTIAL = "sandbox-blob-sas"
SP_CREDENTIAL = "sandbox-sp-secret"
#: stand-ins for the servers' host:port in the sandbox policy text (the ports are known only once they run)
S3_HOST_TOKEN = "sandbox-s3.invalid"
BLOB_HOST_TOKEN = "sandbox-blob.invalid"


def policy_credentials(state_dir_token: str) -> str:
    """The policy's ``credentials`` entries for the source servers (indented for the credentials mapping)."""
    entries = (
        (S3_CREDENTIAL, f"{S3_HOST_TOKEN}/*"),
        (BLOB_KEY_CREDENTIAL, f"{BLOB_HOST_TOKEN}/*"),
        (BLOB_SAS_CREDENTIAL, f"{BLOB_HOST_TOKEN}/*"),
        (SP_CREDENTIAL, f"{BLOB_HOST_TOKEN}/*"),
    )
    return "".join(
        f"  {name}:\n    file: {state_dir_token}/credentials/{name}\n    repositories: [{glob}]\n"
        '    clusters: {names: ["*"]}\n'
        for name, glob in entries
    )


def host_tokens(access: SourceAccess | None) -> dict[str, str]:
    """Each stand-in host of the policy text -> the running server's ``host:port``."""
    if access is None:
        return {}
    tokens = {}
    if access.s3 is not None:
        tokens[S3_HOST_TOKEN] = access.s3.url.removeprefix("https://")
    if access.blob is not None:
        tokens[BLOB_HOST_TOKEN] = access.blob.url.removeprefix("https://").split("/")[0]
    return tokens


def write_credentials(folder: Path, access: SourceAccess | None) -> None:
    """The credential files (mode 0600), as a mounted secret would be."""
    if access is None:
        return
    values = {SP_CREDENTIAL: access.principal.client_secret}
    if access.s3 is not None:
        values[S3_CREDENTIAL] = access.s3.secret_access_key
    if access.blob is not None:
        values[BLOB_KEY_CREDENTIAL] = access.blob.account_key
        values[BLOB_SAS_CREDENTIAL] = access.blob.sas_token
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        path = folder / name
        path.write_text(value + "\n")
        path.chmod(0o600)


def describe(access: SourceAccess | None) -> dict[str, Any]:
    """Where the sources are and how to name their credentials: no secret values."""
    if access is None:
        return {}
    out: dict[str, Any] = {"ca_file": str(access.ca_file), "missing": dict(access.missing)}
    if access.s3 is not None:
        out["bucket"] = {
            "url": access.s3.url,
            "bucket": access.s3.bucket,
            "access_key": access.s3.access_key_id,
            "secret_key_ref": S3_CREDENTIAL,
            "local_auth_ref": BUCKET_SECRET,
        }
    if access.blob is not None:
        out["azure_blob"] = {
            "url": access.blob.url,
            "container": access.blob.container,
            "account_key_ref": BLOB_KEY_CREDENTIAL,
            "sas_token_ref": BLOB_SAS_CREDENTIAL,
            "sp_client_id": access.principal.client_id,
            "tenant_id": access.principal.tenant_id,
            "sp_client_secret_ref": SP_CREDENTIAL,
            "mi_client_id": access.principal.managed_identity_client_id,
            "local_auth_ref": BLOB_SECRET,
        }
    if access.registry is not None:
        out["oci"] = {
            "url": access.registry.url,
            "public_url": access.registry.public_url,
            "tags": dict(access.registry.tags),
            "local_auth_ref": REGISTRY_SECRET,
        }
    return out
