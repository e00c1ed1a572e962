"""fluxConfigurations (2025-04-01): server defaults, validation and JSON merge patch, as ARM applies them.

Bodies come in the wire shape (camelCase). ``spec`` is the user-settable part of ``properties``;
the status part (statuses, complianceState, ...) belongs to the simulated agent and the operation.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.repo_urls import is_ssh_url
from sandbox.arm.errors import ArmError, bad_request
from sandbox.arm.flux_sources import NORMALISERS

SOURCE_KEYS = {
    "GitRepository": "gitRepository",
    "Bucket": "bucket",
    "AzureBlob": "azureBlob",
    "OCIRepository": "ociRepository",
}
SPEC_KEYS = (
    "scope",
    "namespace",
    "sourceKind",
    "suspend",
    *SOURCE_KEYS.values(),
    "kustomizations",
    "waitForReconciliation",
    "reconciliationWaitDuration",
)
STATUS_KEYS = (
    "statuses",
    "repositoryPublicKey",
    "sourceSyncedCommitId",
    "sourceUpdatedAt",
    "statusUpdatedAt",
    "complianceState",
    "provisioningState",
    "errorMessage",
)
CREATE_ONLY = ("scope", "namespace")
DEFAULT_SECONDS = 600
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_REF_KINDS = ("branch", "tag", "semver", "commit")


def check_name(what: str, value: Any, limit: int = 63) -> None:
    if not isinstance(value, str) or not value or len(value) > limit or not _DNS_LABEL.match(value):
        raise bad_request(
            f"Invalid {what} '{value}': it must be a lowercase RFC 1123 label of at most {limit} characters "
            "(letters, digits and '-', starting and ending with a letter or digit).",
            code="InvalidParameter",
        )


def _positive_int(where: str, value: Any) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
        raise bad_request(f"'{where}' must be a positive whole number of seconds, not {value!r}.")


def _url_ok(url: Any, kind: str) -> bool:
    if not isinstance(url, str) or not url:
        return False
    if kind == "GitRepository":
        return url.startswith(("http://", "https://", "ssh://", "git@"))
    if kind == "OCIRepository":
        return url.startswith("oci://")
    return url.startswith(("http://", "https://"))


def validate_protected(protected: Any) -> dict[str, str]:
    """configurationProtectedSettings: string values, base64-encoded as ARM requires."""
    if protected is None:
        return {}
    if not isinstance(protected, dict):
        raise bad_request("'configurationProtectedSettings' must be an object of string values.")
    out: dict[str, str] = {}
    for key, value in protected.items():
        if not isinstance(value, str):
            raise bad_request(f"configurationProtectedSettings['{key}'] must be a base64 string.")
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(
                f"configurationProtectedSettings['{key}'] is not valid base64: protected settings of a "
                "flux configuration are sent base64-encoded."
            ) from None
        out[key] = value
    return out


def _normalise_source(kind: str, source: dict[str, Any], protected: dict[str, str]) -> dict[str, Any]:
    out = dict(source)
    if not _url_ok(out.get("url"), kind):
        schemes = {
            "GitRepository": "http://, https://, ssh:// or git@",
            "OCIRepository": "oci://",
        }.get(kind, "http:// or https://")
        raise bad_request(f"{SOURCE_KEYS[kind]}.url '{out.get('url')}' is not valid: it must start with {schemes}.")
    if SOURCE_KEYS[kind] in NORMALISERS:
        out = NORMALISERS[SOURCE_KEYS[kind]](out, protected)
    for key in ("timeoutInSeconds", "syncIntervalInSeconds"):
        if out.get(key) is None:
            out[key] = DEFAULT_SECONDS
    _positive_int(f"{SOURCE_KEYS[kind]}.timeoutInSeconds", out["timeoutInSeconds"])
    _positive_int(f"{SOURCE_KEYS[kind]}.syncIntervalInSeconds", out["syncIntervalInSeconds"])
    if kind == "GitRepository":
        ref = out.get("repositoryRef") or {}
        if not isinstance(ref, dict):
            raise bad_request("gitRepository.repositoryRef must be an object.")
        given = [k for k in _REF_KINDS if ref.get(k) not in (None, "")]
        if len(given) != 1:
            raise bad_request(
                "gitRepository.repositoryRef must set exactly one of branch, tag, semver or commit "
                f"(got {', '.join(given) or 'none'}).",
                code="InvalidParameter",
            )
        out["repositoryRef"] = {k: ref.get(k) if k in given else None for k in _REF_KINDS}
        if out.get("sshKnownHosts") and not is_ssh_url(out["url"]):
            raise bad_request("gitRepository.sshKnownHosts is only valid with an SSH repository URL.")
    return out


def _normalise_kustomizations(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise bad_request("'kustomizations' must be an object keyed by kustomization name.")
    out: dict[str, Any] = {}
    for name, body in raw.items():
        check_name("kustomization name", name, limit=30)
        if not isinstance(body, dict):
            raise bad_request(f"kustomization '{name}' must be an object.")
        k = {
            "name": name,
            "path": "",
            "dependsOn": [],
            "timeoutInSeconds": DEFAULT_SECONDS,
            "syncIntervalInSeconds": DEFAULT_SECONDS,
            "retryIntervalInSeconds": None,
            "prune": False,
            "force": False,
            "wait": True,
            "postBuild": None,
        }
        k.update({key: value for key, value in body.items() if value is not None or key == "postBuild"})
        k["name"] = name
        if k["dependsOn"] is None:
            k["dependsOn"] = []
        for field in ("timeoutInSeconds", "syncIntervalInSeconds", "retryIntervalInSeconds"):
            _positive_int(f"kustomizations.{name}.{field}", k[field])
        for field in ("prune", "force", "wait"):
            if not isinstance(k[field], bool):
                raise bad_request(f"kustomizations.{name}.{field} must be true or false.")
        if not isinstance(k["dependsOn"], list) or not all(isinstance(d, str) for d in k["dependsOn"]):
            raise bad_request(f"kustomizations.{name}.dependsOn must be a list of kustomization names.")
        out[name] = k
    for name, k in out.items():
        for dep in k["dependsOn"]:
            if dep not in out:
                raise bad_request(
                    f"kustomization '{name}' depends on '{dep}', which is not a kustomization of this "
                    f"configuration (have: {', '.join(sorted(out)) or 'none'}).",
                    code="InvalidParameter",
                )
    _check_acyclic(out)
    return out


def _check_acyclic(kustomizations: dict[str, Any]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise bad_request(f"kustomization dependsOn forms a cycle: {' -> '.join([*trail, name])}.")
        state[name] = 1
        for dep in kustomizations[name]["dependsOn"]:
            visit(dep, [*trail, name])
        state[name] = 2

    for name in kustomizations:
        visit(name, [])


def normalise_spec(spec: dict[str, Any], protected: dict[str, str]) -> dict[str, Any]:
    """Apply server defaults and validate a whole spec (create, or the result of a patch)."""
    unknown = sorted(set(spec) - set(SPEC_KEYS) - set(STATUS_KEYS) - {"configurationProtectedSettings"})
    if unknown:
        raise bad_request(f"Unknown properties: {', '.join(unknown)}.", code="InvalidRequestContent")
    out: dict[str, Any] = {k: spec.get(k) for k in SPEC_KEYS}
    out["scope"] = out["scope"] or "cluster"
    if out["scope"] not in ("cluster", "namespace"):
        raise bad_request(f"scope must be 'cluster' or 'namespace', not '{out['scope']}'.")
    out["namespace"] = out["namespace"] or "default"
    check_name("namespace", out["namespace"])
    out["suspend"] = bool(out["suspend"]) if out["suspend"] is not None else False
    given_sources = [kind for kind, key in SOURCE_KEYS.items() if out.get(key) is not None]
    kind = out["sourceKind"] or (given_sources[0] if len(given_sources) == 1 else "GitRepository")
    if kind not in SOURCE_KEYS:
        raise bad_request(f"sourceKind must be one of {', '.join(SOURCE_KEYS)}, not '{kind}'.")
    out["sourceKind"] = kind
    extra = [k for k in given_sources if k != kind]
    if extra:
        raise bad_request(
            f"sourceKind is {kind} but {', '.join(SOURCE_KEYS[k] for k in extra)} is also set: "
            "a flux configuration has exactly one source."
        )
    source = out.get(SOURCE_KEYS[kind])
    if not isinstance(source, dict):
        raise bad_request(f"sourceKind {kind} needs the '{SOURCE_KEYS[kind]}' object with at least a url.")
    out[SOURCE_KEYS[kind]] = _normalise_source(kind, source, protected)
    for other in SOURCE_KEYS.values():
        if other != SOURCE_KEYS[kind]:
            out[other] = None
    if kind == "GitRepository" and out["gitRepository"].get("httpsUser") and "httpsKey" not in protected:
        raise bad_request(
            "gitRepository.httpsUser is set but configurationProtectedSettings has no httpsKey: "
            "HTTPS user and key go together."
        )
    out["kustomizations"] = _normalise_kustomizations(out["kustomizations"])
    return out


def check_create_only(current: dict[str, Any], new: dict[str, Any]) -> None:
    for key in CREATE_ONLY:
        if current.get(key) != new.get(key):
            raise ArmError(
                400,
                "InvalidParameter",
                f"'{key}' cannot be changed after the flux configuration is created "
                f"(it is '{current.get(key)}'); delete and recreate the configuration to change it.",
            )


def generated_ssh_key() -> tuple[str, str]:
    """What the flux agent does for an SSH source without a key: make one, publish the public half.

    Returns (base64 of the OpenSSH private key, OpenSSH public key line).
    """
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return base64.b64encode(private).decode(), public.decode()


def initial_status(state: str) -> dict[str, Any]:
    return {
        "statuses": [],
        "repositoryPublicKey": "",
        "sourceSyncedCommitId": None,
        "sourceUpdatedAt": None,
        "statusUpdatedAt": None,
        "complianceState": "Pending",
        "provisioningState": state,
        "errorMessage": "",
    }
