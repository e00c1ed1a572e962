"""What the simulated agent writes back into a flux configuration: statuses and the compliance roll-up."""

from __future__ import annotations

import time
from collections.abc import Mapping

from sandbox.fluxsim.state import Build, ConfigState, ObjectStatus
from sandbox.world import FluxConfigRecord, utc_now_iso


def publish(state: ConfigState) -> None:
    """Write statuses and the compliance roll-up into the record's properties."""
    props = state.record.properties
    objects = [
        state.source,
        *state.kustomizations.values(),
        *(o for ks in state.kustomizations for o in state.releases.get(ks, [])),
    ]
    failed = next((o for o in objects if o.status == "False"), None)
    if props.get("suspend"):
        compliance = "Suspended"
    elif failed is not None:
        compliance = "Non-Compliant"
    elif any(o.status != "True" for o in objects):
        compliance = "Pending"
    else:
        compliance = "Compliant"
    props["statuses"] = [o.entry() for o in objects]
    props["complianceState"] = compliance
    props["sourceSyncedCommitId"] = state.artifact.revision if state.artifact else None
    props["sourceUpdatedAt"] = state.source_updated_at
    props["statusUpdatedAt"] = utc_now_iso(time.time())
    props["errorMessage"] = (
        f"{failed.kind} '{failed.namespace}/{failed.name}': {failed.message}"
        if failed is not None and compliance == "Non-Compliant"
        else ""
    )


def mark_suspended(record: FluxConfigRecord) -> None:
    """Suspended: the agent leaves the last statuses as they were and reconciles nothing."""
    record.properties["complianceState"] = "Suspended"
    record.properties["statusUpdatedAt"] = utc_now_iso(time.time())


def release_statuses(
    state: ConfigState,
    build: Build,
    applied_by: ObjectStatus,
    namespace: str,
    faults: Mapping[str, str] | None = None,
) -> list[ObjectStatus]:
    """HelmRelease statuses for what a kustomization applied; a changed spec is an upgrade. A release named in
    ``faults`` (a test's injected failure: release name -> message) fails to install or upgrade with that message."""
    previous = {(o.namespace, o.name): o for objs in state.releases.values() for o in objs}
    out = []
    for release in build.releases:
        key = (release.namespace, release.name)
        digest, revision = state.helm_revisions.get(key, ("", 0))
        if digest != release.digest:
            revision += 1
            state.helm_revisions[key] = (release.digest, revision)
        obj = previous.get(key) or ObjectStatus(kind="HelmRelease", name=release.name, namespace=release.namespace)
        fault = (faults or {}).get(release.name.lower())
        if fault is not None:
            obj.set("False", "InstallFailed" if revision == 1 else "UpgradeFailed", fault)
        else:
            obj.set(
                "True",
                "InstallSucceeded" if revision == 1 else "UpgradeSucceeded",
                "Release reconciliation succeeded",
            )
        by = {"name": applied_by.name, "namespace": applied_by.namespace}
        helm = {
            "lastRevisionApplied": revision,
            "helmChartRef": {"name": f"{release.namespace}-{release.name}", "namespace": namespace},
            "failureCount": 0,
            "installFailureCount": 0,
            "upgradeFailureCount": 0,
        }
        # Assigned only when changed: an assignment makes the status render again at the next publish.
        if obj.applied_by != by:
            obj.applied_by = by
        if obj.helm != helm:
            obj.helm = helm
        out.append(obj)
    return out
