"""The Bucket, AzureBlob and OCIRepository source blocks of a flux configuration (2025-04-01), as ARM takes them:
their fields, server defaults and validation, and their secrets.

ARM never returns a secret: az sends an Azure Blob source's account key, SAS token and service principal
secret inside the ``azureBlob`` block (and a bucket's secret key as the protected setting ``bucketSecretKey``).
The emulator keeps such inline secrets with the protected settings (base64, under the keys below) and
answers them as null; the same keys may also be given in ``configurationProtectedSettings`` directly.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from sandbox.arm.errors import bad_request

#: the fields of each block (azure-mgmt-kubernetesconfiguration-fluxconfigurations 1.0.0, API 2025-04-01)
FIELDS = {
    "bucket": (
        "url", "bucketName", "insecure", "timeoutInSeconds", "syncIntervalInSeconds", "accessKey", "localAuthRef",
    ),
    "azureBlob": (
        "url", "containerName", "timeoutInSeconds", "syncIntervalInSeconds", "servicePrincipal", "accountKey",
        "sasToken", "managedIdentity", "localAuthRef",
    ),
    "ociRepository": (
        "url", "timeoutInSeconds", "syncIntervalInSeconds", "repositoryRef", "layerSelector", "verify", "insecure",
        "useWorkloadIdentity", "serviceAccountName", "tlsConfig", "localAuthRef",
    ),
}  # fmt: skip
_SERVICE_PRINCIPAL = (
    "clientId", "tenantId", "clientSecret", "clientCertificate", "clientCertificatePassword",
    "clientCertificateSendChain",
)  # fmt: skip
#: (path inside the block, protected setting it is kept under)
INLINE_SECRETS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "azureBlob": (
        (("accountKey",), "accountKey"),
        (("sasToken",), "sasToken"),
        (("servicePrincipal", "clientSecret"), "clientSecret"),
        (("servicePrincipal", "clientCertificate"), "clientCertificate"),
        (("servicePrincipal", "clientCertificatePassword"), "clientCertificatePassword"),
    ),
    "ociRepository": ((("tlsConfig", "privateKey"), "tlsPrivateKey"),),
}
#: the protected settings that authenticate an Azure Blob source (one method at a time)
BLOB_SECRET_SETTINGS = ("accountKey", "sasToken", "clientSecret", "clientCertificate", "clientCertificatePassword")
BUCKET_SECRET_KEY = "bucketSecretKey"
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CONTAINER_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _object(where: str, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"'{where}' must be an object.")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise bad_request(
            f"Unknown properties in '{where}': {', '.join(unknown)} (it takes {', '.join(allowed)}).",
            code="InvalidRequestContent",
        )
    return value


def take_inline_secrets(key: str, block: dict[str, Any], protected: dict[str, str]) -> dict[str, Any]:
    """``block`` with its secret fields moved into ``protected`` (base64; in place) and set to null."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in block.items()}
    for path, setting in INLINE_SECRETS.get(key, ()):
        holder: Any = out
        for part in path[:-1]:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or holder.get(path[-1]) in (None, ""):
            continue
        value = holder[path[-1]]
        if not isinstance(value, str):
            raise bad_request(f"'{key}.{'.'.join(path)}' must be a string.")
        protected[setting] = base64.b64encode(value.encode()).decode()
        holder[path[-1]] = None
    return out


def normalise_bucket(source: dict[str, Any], protected: dict[str, str]) -> dict[str, Any]:
    _object("bucket", source, FIELDS["bucket"])
    name = source.get("bucketName")
    if not isinstance(name, str) or not _BUCKET_NAME.match(name):
        raise bad_request(
            f"bucket.bucketName '{name}' is not valid: 3 to 63 lowercase letters, digits, '.' and '-', "
            "starting and ending with a letter or digit.",
            code="InvalidParameter",
        )
    out = {**dict.fromkeys(FIELDS["bucket"]), **source, "insecure": bool(source.get("insecure") or False)}
    if out["accessKey"] and BUCKET_SECRET_KEY not in protected and not out["localAuthRef"]:
        raise bad_request(
            f"bucket.accessKey is set but configurationProtectedSettings has no {BUCKET_SECRET_KEY}: "
            "the access key and its secret key go together."
        )
    if out["localAuthRef"] and (out["accessKey"] or BUCKET_SECRET_KEY in protected):
        raise bad_request("bucket.localAuthRef and an access key are two ways to authenticate: give one.")
    return out


def normalise_azure_blob(source: dict[str, Any], protected: dict[str, str]) -> dict[str, Any]:
    _object("azureBlob", source, FIELDS["azureBlob"])
    name = source.get("containerName")
    if not isinstance(name, str) or not _CONTAINER_NAME.match(name):
        raise bad_request(
            f"azureBlob.containerName '{name}' is not valid: 3 to 63 lowercase letters, digits and single "
            "'-', starting and ending with a letter or digit.",
            code="InvalidParameter",
        )
    out = {**dict.fromkeys(FIELDS["azureBlob"]), **source}
    sp = _object("azureBlob.servicePrincipal", out["servicePrincipal"], _SERVICE_PRINCIPAL)
    mi = _object("azureBlob.managedIdentity", out["managedIdentity"], ("clientId",))
    if out["servicePrincipal"] is not None:
        if not sp.get("clientId") or not sp.get("tenantId"):
            raise bad_request("azureBlob.servicePrincipal needs clientId and tenantId.", code="InvalidParameter")
        if "clientSecret" not in protected and "clientCertificate" not in protected:
            raise bad_request(
                "azureBlob.servicePrincipal needs a clientSecret or a clientCertificate.", code="InvalidParameter"
            )
        out["servicePrincipal"] = {**dict.fromkeys(_SERVICE_PRINCIPAL), **sp}
    if out["managedIdentity"] is not None and not mi.get("clientId"):
        raise bad_request("azureBlob.managedIdentity needs its clientId.", code="InvalidParameter")
    methods = [
        m
        for m, given in (
            ("accountKey", "accountKey" in protected),
            ("sasToken", "sasToken" in protected),
            ("servicePrincipal", out["servicePrincipal"] is not None),
            ("managedIdentity", out["managedIdentity"] is not None),
            ("localAuthRef", bool(out["localAuthRef"])),
        )
        if given
    ]
    if len(methods) > 1:
        raise bad_request(
            f"azureBlob has {' and '.join(methods)}: an Azure Blob source authenticates one way; give one of "
            "accountKey, sasToken, servicePrincipal, managedIdentity or localAuthRef.",
            code="InvalidParameter",
        )
    return out


def normalise_oci(source: dict[str, Any], protected: dict[str, str]) -> dict[str, Any]:
    _object("ociRepository", source, FIELDS["ociRepository"])
    out = {**dict.fromkeys(FIELDS["ociRepository"]), **source}
    ref = _object("ociRepository.repositoryRef", out["repositoryRef"], ("tag", "semver", "digest"))
    given = [k for k in ("tag", "semver", "digest") if ref.get(k) not in (None, "")]
    if len(given) > 1:
        raise bad_request(
            f"ociRepository.repositoryRef sets {' and '.join(given)}: give one of tag, semver or digest.",
            code="InvalidParameter",
        )
    if "digest" in given and not _DIGEST.match(str(ref["digest"])):
        raise bad_request(
            f"ociRepository.repositoryRef.digest '{ref['digest']}' is not valid: "
            "it must be 'sha256:' and 64 hex digits.",
            code="InvalidParameter",
        )
    if out["repositoryRef"] is not None:
        out["repositoryRef"] = {k: ref.get(k) if k in given else None for k in ("tag", "semver", "digest")}
    layer = _object("ociRepository.layerSelector", out["layerSelector"], ("mediaType", "operation"))
    if layer.get("operation") not in (None, "extract", "copy"):
        raise bad_request(
            f"ociRepository.layerSelector.operation must be 'extract' or 'copy', not '{layer['operation']}'."
        )
    _object("ociRepository.tlsConfig", out["tlsConfig"], ("clientCertificate", "privateKey", "caCertificate"))
    _object("ociRepository.verify", out["verify"], ("provider", "verificationConfig", "matchOidcIdentity"))
    for flag in ("insecure", "useWorkloadIdentity"):
        if out[flag] is not None and not isinstance(out[flag], bool):
            raise bad_request(f"ociRepository.{flag} must be true or false.")
    if out["useWorkloadIdentity"] and out["localAuthRef"]:
        raise bad_request("ociRepository.useWorkloadIdentity and localAuthRef are two ways to authenticate: give one.")
    return out


NORMALISERS = {"bucket": normalise_bucket, "azureBlob": normalise_azure_blob, "ociRepository": normalise_oci}


def _names_blob_auth(block: dict[str, Any]) -> bool:
    return any(
        block.get(k) not in (None, "")
        for k in ("accountKey", "sasToken", "servicePrincipal", "managedIdentity", "localAuthRef")
    )


def move_inline_secrets(
    props: dict[str, Any], protected: dict[str, str], *, given: dict[str, Any], asked: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``props`` with the source blocks' secrets moved into ``protected`` (in place).

    ``asked``: what the request itself said (the patch, for a PATCH; ``props`` for a PUT). When its azureBlob block
    names an authentication method, the protected secrets of another method (not given in this request's
    ``configurationProtectedSettings``) are dropped: switching from an account key to a SAS token replaces it."""
    asked = props if asked is None else asked
    out = dict(props)
    blob_asked = asked.get("azureBlob")
    if isinstance(blob_asked, dict) and _names_blob_auth(blob_asked):
        for setting in BLOB_SECRET_SETTINGS:
            if setting not in given:
                protected.pop(setting, None)
    for key in INLINE_SECRETS:
        if isinstance(out.get(key), dict):
            out[key] = take_inline_secrets(key, out[key], protected)
    return out


REDACTED = "<redacted>"


def redacted(body: Any) -> Any:
    """A request body as the request log keeps it: every protected setting's value, and every inline source
    secret, replaced by ``<redacted>`` (which keys were sent stays visible)."""
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        return body
    props = dict(body["properties"])
    protected = props.get("configurationProtectedSettings")
    if isinstance(protected, dict):
        props["configurationProtectedSettings"] = {k: REDACTED if v is not None else None for k, v in protected.items()}
    for key in INLINE_SECRETS:
        if isinstance(props.get(key), dict):
            secrets_out: dict[str, str] = {}
            block = take_inline_secrets(key, props[key], secrets_out)
            for path, setting in INLINE_SECRETS[key]:
                if setting in secrets_out:
                    holder = block
                    for part in path[:-1]:
                        holder = holder[part]
                    holder[path[-1]] = REDACTED
            props[key] = block
    return {**body, "properties": props}
