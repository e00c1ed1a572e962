"""Whether a watched configuration is broken, and how: read from what ARM reports, nothing else.

Broken means one of: provisioning Failed (ARM could not apply the configuration), its source object failing
(the repository, bucket or registry cannot be read), Flux objects failing (Non-Compliant), or a HelmRelease
reporting drift (a condition whose reason or type names drift, as helm-controller's drift detection reports
it). Suspended, Pending and Unknown are not broken: they are waited out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from bot.alert_views import AlertKind, FailingObject
from bot.flux_status import failing
from bot.models import Compliance, Condition, FluxConfigState, ObjectStatus, arm_time

#: Flux kinds of a configuration's source object
SOURCE_KINDS = frozenset({"GitRepository", "Bucket", "OCIRepository", "HelmRepository", "HelmChart"})


@dataclass(frozen=True)
class Trouble:
    """What is broken in one configuration now."""

    kind: AlertKind
    headline: str
    objects: tuple[FailingObject, ...] = ()
    detail: str = ""
    #: the earliest time Flux says a failing object turned failing (epoch seconds), when it says
    flux_since: float | None = None

    @property
    def fingerprint(self) -> str:
        """Equal for the same trouble: the alert is edited only when this changes (or to remind)."""
        payload = [self.kind.value, self.headline, self.detail, [list(vars(o).values()) for o in self.objects]]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]


def _object(obj: ObjectStatus, default_namespace: str) -> FailingObject:
    ready = obj.ready
    drift = _drift(obj)
    condition = drift if drift is not None and (ready is None or ready.status != "False") else ready
    return FailingObject(
        kind=obj.kind,
        name=obj.name,
        namespace=obj.namespace or default_namespace,
        reason=condition.reason if condition is not None else "",
        message=condition.message if condition is not None else "not ready",
    )


def _drift(obj: ObjectStatus) -> Condition | None:
    """The condition saying the object drifted: a ``Drifted``-like condition that is True, or a Ready one that
    is not True for a drift reason."""
    for condition in obj.conditions:
        if "drift" not in f"{condition.type} {condition.reason}".lower():
            continue
        if (condition.type == "Ready") == (condition.status == "True"):
            continue
        return condition
    return None


def _since(objects: list[ObjectStatus]) -> float | None:
    times = []
    for obj in objects:
        ready = obj.ready
        moment = arm_time(ready.last_transition_time) if ready is not None else None
        if moment is not None:
            times.append(moment.timestamp())
    return min(times) if times else None


def assess(state: FluxConfigState) -> Trouble | None:
    """The trouble ``state`` shows, worst first; None when the configuration is not broken."""
    namespace = state.spec.namespace if state.spec is not None else "flux-system"
    if state.provisioning_state == "Failed":
        return Trouble(
            AlertKind.PROVISIONING,
            "Azure reports provisioning Failed",
            detail=state.error_message or "ARM gave no message",
        )
    if state.compliance_state == Compliance.SUSPENDED:
        return None
    broken = [o for o in state.statuses if failing(o)]
    sources = [o for o in broken if o.kind in SOURCE_KINDS]
    if sources:
        first = sources[0]
        return Trouble(
            AlertKind.SOURCE,
            f"its source {first.kind} {first.name} cannot be fetched",
            objects=tuple(_object(o, namespace) for o in broken),
            flux_since=_since(sources),
        )
    if broken:
        names = ", ".join(f"{o.kind} {o.name}" for o in broken[:3]) + (" and more" if len(broken) > 3 else "")
        return Trouble(
            AlertKind.NON_COMPLIANT,
            f"Non-Compliant: {names} {'is' if len(broken) == 1 else 'are'} failing",
            objects=tuple(_object(o, namespace) for o in broken),
            flux_since=_since(broken),
        )
    if state.compliance_state == Compliance.NON_COMPLIANT:
        return Trouble(AlertKind.NON_COMPLIANT, "Non-Compliant", detail=state.error_message or "")
    drifted = [o for o in state.statuses if _drift(o) is not None]
    if drifted:
        return Trouble(
            AlertKind.DRIFT,
            f"drift detected in {', '.join(f'{o.kind} {o.name}' for o in drifted[:3])}",
            objects=tuple(_object(o, namespace) for o in drifted),
        )
    return None
