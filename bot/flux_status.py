"""Reading what Flux reports through ARM: the commit a configuration synced, whether an object is failing, and
whether a Kustomization applied a given commit. Shared by the push trace and fleet rollouts."""

from __future__ import annotations

import re

from bot.models import Compliance, FluxConfigState, ObjectStatus

_SHA = re.compile(r"\b[0-9a-f]{40}\b")


def synced_sha(state: FluxConfigState) -> str | None:
    """The full commit id in ``sourceSyncedCommitId`` ("main/<sha>" or "main@sha1:<sha>")."""
    found = _SHA.findall((state.source_synced_commit or "").lower())
    return found[-1] if found else None


def failing(obj: ObjectStatus) -> bool:
    ready = obj.ready
    return obj.compliance_state == Compliance.NON_COMPLIANT or (ready is not None and ready.status == "False")


def applied(obj: ObjectStatus, sha: str) -> bool:
    """The object is Ready and says it applied commit ``sha``."""
    ready = obj.ready
    return ready is not None and ready.status == "True" and (sha in ready.message or sha[:12] in ready.message)


def failure_line(obj: ObjectStatus) -> str:
    ready = obj.ready
    return f"{obj.kind} {obj.name}: {ready.message if ready is not None else 'not ready'}"
