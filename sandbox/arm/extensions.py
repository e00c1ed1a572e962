"""extensions (2025-03-01): defaults, validation and the microsoft.flux release catalogue."""

from __future__ import annotations

import re
from typing import Any

from sandbox.arm.errors import ArmError, bad_request
from sandbox.merge_patch import merge_patch

FLUX_TYPE = "microsoft.flux"
#: a Kubernetes namespace name (DNS-1123 label)
NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")

#: Released microsoft.flux versions per release train, oldest first. Only the newest and the
#: two before it (N-2) are supported; older ones still install, as they do on Azure.
FLUX_RELEASES: dict[str, list[str]] = {
    "stable": ["1.13.4", "1.14.3", "1.15.1", "1.16.2", "1.17.3"],
    "preview": ["1.17.3", "1.18.0"],
}

SPEC_KEYS = (
    "extensionType",
    "autoUpgradeMinorVersion",
    "autoUpgradeMode",
    "releaseTrain",
    "version",
    "scope",
    "configurationSettings",
)
PATCH_KEYS = (
    "autoUpgradeMinorVersion",
    "autoUpgradeMode",
    "releaseTrain",
    "version",
    "configurationSettings",
)


def supported_versions(release_train: str = "stable") -> list[str]:
    """The newest released version and the two before it, newest first."""
    return list(reversed(FLUX_RELEASES.get(release_train.lower(), [])[-3:]))


def string_map(where: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad_request(f"'{where}' must be an object of string values (settings are name=value strings).")
    return dict(value)


def scope(value: Any, release_namespace: str) -> dict[str, Any]:
    """The ``scope`` of an extension: cluster (in its release namespace, ``release_namespace`` when not given) or
    namespace (in its target namespace), not both, as the 2025-03-01 spec says."""
    if value is None:
        return {"cluster": {"releaseNamespace": release_namespace}}
    if not isinstance(value, dict) or len(value.keys() & {"cluster", "namespace"}) != 1 or len(value) != 1:
        raise bad_request("'scope' is either {'cluster': {...}} or {'namespace': {...}}, not both.")
    ((kind, inner),) = value.items()
    inner = {} if inner is None else inner
    key = "releaseNamespace" if kind == "cluster" else "targetNamespace"
    if not isinstance(inner, dict) or set(inner) - {key}:
        raise bad_request(f"'scope.{kind}' takes '{key}' only.")
    namespace = inner.get(key)
    if namespace is not None and not (isinstance(namespace, str) and NAMESPACE.fullmatch(namespace)):
        raise bad_request(f"'scope.{kind}.{key}' must be a Kubernetes namespace name, not {namespace!r}.")
    if kind == "cluster":
        return {"cluster": {"releaseNamespace": namespace or release_namespace}}
    return {"namespace": {"targetNamespace": namespace}} if namespace else {"namespace": {}}


def normalise(spec: dict[str, Any], *, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults and checks for a whole extension spec (after merging a patch, for updates)."""
    ext_type = spec.get("extensionType")
    if not isinstance(ext_type, str) or not ext_type:
        raise bad_request("extensionType is required (for Flux: 'microsoft.flux').", code="InvalidParameter")
    if existing is not None and existing["extensionType"].lower() != ext_type.lower():
        raise bad_request("extensionType cannot be changed after the extension is created.")
    out: dict[str, Any] = {key: spec.get(key) for key in SPEC_KEYS}
    out["autoUpgradeMinorVersion"] = (
        True if out["autoUpgradeMinorVersion"] is None else bool(out["autoUpgradeMinorVersion"])
    )
    out["autoUpgradeMode"] = out["autoUpgradeMode"] or "compatible"
    train = out["releaseTrain"] or "Stable"
    out["releaseTrain"] = train
    if out["version"] and out["autoUpgradeMinorVersion"]:
        raise bad_request(
            "version can only be set when autoUpgradeMinorVersion is false: pin a version by turning "
            "auto-upgrade off, or leave version out to follow the release train.",
            code="InvalidParameter",
        )
    if ext_type.lower() == FLUX_TYPE:
        releases = FLUX_RELEASES.get(str(train).lower())
        if releases is None:
            raise bad_request(f"releaseTrain '{train}' is not offered for microsoft.flux (Stable or Preview).")
        if out["version"] and out["version"] not in releases:
            raise ArmError(
                400,
                "ExtensionVersionNotFound",
                f"microsoft.flux version '{out['version']}' is not released on the {train} train "
                f"(released: {', '.join(reversed(releases))}).",
            )
        out["scope"] = scope(out["scope"], "flux-system")
        if "namespace" in out["scope"]:
            raise bad_request("microsoft.flux can only be installed with cluster scope.")
    else:
        out["scope"] = scope(out["scope"], "kube-system")
    if existing is not None and existing.get("scope") and existing["scope"] != out["scope"]:
        raise bad_request("scope cannot be changed after the extension is created.")
    out["configurationSettings"] = string_map("configurationSettings", out["configurationSettings"])
    return out


def apply_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(patch) - set(PATCH_KEYS) - {"configurationProtectedSettings"})
    if unknown:
        raise bad_request(f"These properties cannot be patched: {', '.join(unknown)}.")
    merged = merge_patch(current, {k: v for k, v in patch.items() if k != "configurationProtectedSettings"})
    # Turning auto-upgrade on drops a pinned version, as the service does.
    if patch.get("autoUpgradeMinorVersion") is True and "version" not in patch:
        merged.pop("version", None)
    return normalise(merged, existing=current)


def installed_version(spec: dict[str, Any]) -> str | None:
    if spec["extensionType"].lower() != FLUX_TYPE:
        return str(spec["version"]) if spec.get("version") else "1.0.0"
    if spec.get("version"):
        return str(spec["version"])
    return FLUX_RELEASES[str(spec["releaseTrain"]).lower()][-1]
