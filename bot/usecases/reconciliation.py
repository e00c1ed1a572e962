"""Following reconciliation after a write, until Flux on the cluster says how it went."""

from __future__ import annotations

from bot.models import ClusterRef, Compliance, FluxConfigState, Provisioning
from bot.usecases.context import Job
from bot.usecases.failure_events import failure_events
from bot.views import ErrorInfo, EventList, Phase


def failing_objects(state: FluxConfigState) -> list[str]:
    """One line per Flux object that is not ready, with its own message."""
    lines = []
    for obj in state.statuses:
        ready = obj.ready
        if obj.compliance_state == Compliance.NON_COMPLIANT or (ready is not None and ready.status == "False"):
            message = ready.message if ready is not None else "not ready"
            lines.append(f"{obj.kind} {obj.name}: {message}")
    return lines


def _non_compliant_recommendation(state: FluxConfigState, name: str, label: str) -> str:
    """What to do about a Non-Compliant configuration: its own source failing to fetch is a matter of the source's
    address and credentials, not of the manifests in it."""
    status = f"`/flux status {name} -c {label}` shows every object"
    source = next((o for o in state.statuses if o.name == name and o.kind == state.source_kind), None)
    if source is None and state.source_kind == "AzureBlob":  # Flux reconciles an Azure Blob as a Bucket
        source = next((o for o in state.statuses if o.name == name and o.kind == "Bucket"), None)
    if source is not None and source.compliance_state == Compliance.NON_COMPLIANT:
        return (
            "check the source's address and credentials (a `...-ref` names a credential fluxops holds: is its "
            f"secret current?) and change them with `/flux config update {name} -c {label}`; {status}"
        )
    return (
        "fix the repository (paths, manifests) and push, or change the configuration with "
        f"`/flux config update {name} -c {label}`; {status}"
    )


def _failed(job: Job, phase: Phase, error: ErrorInfo, events: EventList | None = None) -> None:
    """End the job with ``error`` (and the failing objects' ``events``) in its message, and tell the person who
    asked, privately."""
    job.show(phase=phase, note="", error=error, failure_events=events)
    job.reporter.private(job.view)


def watch_reconciliation(
    job: Job, cluster: ClusterRef, name: str, label: str, *, expect: Compliance = Compliance.COMPLIANT
) -> None:
    """Poll the configuration with backoff, editing the job's message at each change, until it settles.

    A job told not to wait (``--no-wait``) ends here instead, its write accepted by Azure."""
    if job.no_wait is not None:
        job.show(phase=Phase.SUCCEEDED)
        return
    ports = job.ports
    policy = ports.pace.watch
    doing = f"reconciling flux configuration '{name}' on cluster '{label}'"
    job.show(phase=Phase.WATCHING, note="waiting for Flux on the cluster to apply it")
    watched_from = ports.pace.clock()
    deadline = watched_from + policy.timeout
    delay = policy.first
    last: FluxConfigState | None = None
    while True:
        ports.pace.heartbeat(job.job_id)
        state = ports.flux.get(cluster, name)
        if state != last:
            job.show(config=state)
            last = state
        settled = state.provisioning_state == Provisioning.SUCCEEDED
        if state.provisioning_state in ("Failed", "Canceled"):
            _failed(
                job,
                Phase.FAILED,
                ErrorInfo(
                    doing=doing,
                    message=f"Azure reports provisioning {state.provisioning_state}: "
                    f"{state.error_message or 'no message'}",
                    recommendation=f"check the extension with `/flux extension show -c {label}` and try again",
                ),
            )
            return
        if settled and state.compliance_state == expect:
            if expect == Compliance.COMPLIANT:
                ports.pace.compliant_after(ports.pace.clock() - watched_from)
            job.show(phase=Phase.SUCCEEDED, note="")
            return
        if settled and expect != Compliance.SUSPENDED and state.compliance_state == Compliance.NON_COMPLIANT:
            failing = failing_objects(state)
            _failed(
                job,
                Phase.FAILED,
                ErrorInfo(
                    doing=doing,
                    message="Flux reports Non-Compliant: " + ("; ".join(failing) or "no object says why"),
                    recommendation=_non_compliant_recommendation(state, name, label),
                ),
                failure_events(ports, cluster, state),
            )
            return
        if ports.pace.clock() >= deadline:
            _failed(
                job,
                Phase.TIMED_OUT,
                ErrorInfo(
                    doing=doing,
                    message=f"still {state.compliance_state or 'Unknown'} after {int(policy.timeout)} s",
                    recommendation=f"the change is in Azure; follow it with `/flux status {name} -c {label}`",
                ),
            )
            return
        ports.pace.sleep(delay)
        delay = min(delay * policy.factor, policy.longest)
