"""`/flux reconcile NAME -c CLUSTER [--with-source] [--kustomization K]`: Flux reconciles a configuration now.

The configuration is read from ARM (its namespace, source kind, kustomizations and their ``dependsOn``); then,
through the cluster's Kubernetes API, the source is asked to reconcile and followed until Flux fetched it,
then each Kustomization in ``dependsOn`` order (or only ``--kustomization K``, its source first with
``--with-source``). One message, one step per object: requested, handled, then the revision it fetched or
applied, or Flux's reason for failing. The first object that fails ends the job Failed with its message and
its Warning events since the request; the objects after it are not asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot import errors
from bot.cluster_objects import KUSTOMIZATION, FluxEvent, FluxObject, ObjectRef
from bot.commands import Reconcile
from bot.kustomization_order import in_dependency_order
from bot.models import Compliance, FluxConfigState
from bot.ports import ClusterApi
from bot.render.wording import interval
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.reconcile_requests import Requests, kustomization_object, source_object
from bot.views import ErrorInfo, Phase, StepState

#: how many of a failing object's Warning events its error shows (the newest)
EVENTS_SHOWN = 3
#: the setting that gives fluxops cluster access (workers/ reads it; named here for the people reading errors)
CLUSTER_ACCESS_SETTING = "FLUXOPS_CLUSTER_ACCESS"


def reconcile(job: Job, command: Reconcile, where: ResolvedCluster) -> None:
    cluster = where.cluster.ref
    label = where.label
    state = job.ports.flux.get(cluster, command.name)
    if state.spec is not None and (state.spec.suspend or state.compliance_state == Compliance.SUSPENDED):
        raise errors.InvalidRequest(
            f"flux configuration '{command.name}' on {label} is suspended, so Flux does not reconcile it",
            recommendation=f"resume it first: `/flux resume {command.name} -c {label}`",
        )
    objects = _objects(state, command, label)
    api = job.ports.cluster_api
    if api is None:
        raise no_cluster_access(state, label, job.ports.pace.wall_clock())
    job.show(phase=Phase.RUNNING, note=f"asking Flux on {label} to reconcile {_count(len(objects))} now")
    requests = Requests(job, api, cluster)
    for index, ref in enumerate(objects):
        answer = _one(job, requests, index, ref)
        if answer is not None:
            _failed(job, api, command, where, ref, answer, objects[index + 1 :])
            return
    job.show(phase=Phase.SUCCEEDED, note=f"Flux on {label} reconciled {_count(len(objects))}: all Ready.")


def _count(n: int) -> str:
    return f"{n} object{'s' if n != 1 else ''}"


def _objects(state: FluxConfigState, command: Reconcile, label: str) -> list[ObjectRef]:
    """What is asked, in order: the source (unless one kustomization alone), then the Kustomizations."""
    if state.spec is None:
        raise errors.InvalidRequest(
            f"flux configuration '{command.name}' on {label} has a source of kind {state.source_kind}, which "
            "fluxops does not model",
            recommendation="reconcile it with `flux reconcile` on the cluster",
        )
    kustomizations = in_dependency_order(state.spec.kustomizations)
    if command.kustomization is not None:
        names = [k.name for k in kustomizations]
        if command.kustomization not in names:
            has = ", ".join(f"`{n}`" for n in names) or "none"
            raise errors.NotFound(
                f"flux configuration '{command.name}' on {label} has no kustomization '{command.kustomization}' "
                f"(it has {has})",
                recommendation=f"`/flux kustomization list --config {command.name} -c {label}` lists them",
            )
        kustomizations = [k for k in kustomizations if k.name == command.kustomization]
    source = [source_object(state)] if command.includes_source else []
    return source + [kustomization_object(state, k.name) for k in kustomizations]


@dataclass(frozen=True)
class _Failure:
    """Why one object did not end Ready: Flux's message, or that it did not answer in time."""

    message: str
    obj: FluxObject | None


def _one(job: Job, requests: Requests, index: int, ref: ObjectRef) -> _Failure | None:
    """Ask ``ref`` to reconcile and follow it; None when it ended Ready."""
    asking = f"{ref}: reconcile requested"
    job.step(asking)
    requested = requests.ask(ref, f"reconcile:{index}")
    waiting = asking

    def handled(obj: FluxObject) -> None:
        nonlocal waiting
        text = f"{ref}: handled, reconciling"
        job.finish_step(waiting, text, StepState.RUNNING)
        waiting = text

    answer = requests.follow(ref, requested, handled=handled)
    if answer.obj is None:
        timeout = int(job.ports.pace.watch.timeout)
        if waiting == asking:
            job.finish_step(waiting, f"{ref}: not handled within {timeout} s", StepState.FAILED)
            why = f"Flux did not handle the reconcile request within {timeout} s (its controller may be down or busy)"
        else:
            job.finish_step(waiting, f"{ref}: still reconciling after {timeout} s", StepState.FAILED)
            why = f"Flux handled the request but was still reconciling after {timeout} s"
        return _Failure(why, None)
    if answer.ready:
        job.finish_step(waiting, f"{ref}: {_done_text(answer.obj)}")
        return None
    job.finish_step(waiting, f"{ref}: {answer.failure}", StepState.FAILED)
    return _Failure(answer.failure, answer.obj)


def _done_text(obj: FluxObject) -> str:
    verb = "applied" if obj.ref.kind == KUSTOMIZATION else ("fetched" if obj.ref.kind != "HelmRelease" else "released")
    return f"Ready, {verb} {obj.revision}" if obj.revision else "Ready"


def _failed(
    job: Job,
    api: ClusterApi,
    command: Reconcile,
    where: ResolvedCluster,
    ref: ObjectRef,
    failure: _Failure,
    skipped: list[ObjectRef],
) -> None:
    message = f"{ref} is not Ready: {failure.message}"
    events = failure_events(api, where, ref, failure)
    if events:
        message += "\nFlux events:\n" + "\n".join(f"• {line}" for line in events)
    if skipped:
        message += "\nNot asked, as they come after it: " + ", ".join(str(r) for r in skipped) + "."
    error = ErrorInfo(
        doing=f"reconciling flux configuration '{command.name}' on {where.label}",
        message=message,
        recommendation=f"fix what Flux reports, then `/flux reconcile {command.name} -c {where.label}` again; "
        f"`/flux status {command.name} -c {where.label}` shows every object",
    )
    job.show(phase=Phase.FAILED, note="", error=error)
    job.reporter.private(job.view)


def failure_events(api: ClusterApi, where: ResolvedCluster, ref: ObjectRef, failure: _Failure) -> list[str]:
    """The newest Warning events about ``ref``, one line each ("" when the API will not say).

    A seam for the events work (`/flux events`): its renderer may replace these lines."""
    if failure.obj is None:
        return []
    try:
        found = api.events(where.cluster.ref, namespace=ref.namespace, involved=[ref])
    except errors.FluxopsError:
        return []  # the failure itself is what matters; events are a bonus
    warnings = [e for e in found if e.type == "Warning"][-EVENTS_SHOWN:]
    return [event_line(e) for e in warnings]


def event_line(event: FluxEvent) -> str:
    """ "BuildFailed (2 times, last 2025-06-15T15:06:40Z): kustomize build failed: ..." """
    details = [f"{event.count} times"] if event.count > 1 else []
    details += [f"last {event.last_seen}"] if event.last_seen else []
    when = f" ({', '.join(details)})" if details else ""
    return f"{event.reason}{when}: {event.message}"


def no_cluster_access(state: FluxConfigState, label: str, now: float) -> errors.ConfigurationError:
    """fluxops cannot reach clusters' Kubernetes APIs: how to turn it on, and when Flux reconciles anyway."""
    spec = state.spec
    every = spec.source.sync_interval_seconds if spec is not None else 600
    by = datetime.fromtimestamp(now + every, UTC).strftime("%H:%M UTC")
    return errors.ConfigurationError(
        f"fluxops runs without cluster access ({CLUSTER_ACCESS_SETTING}=off), so it cannot ask Flux on {label} to "
        f"reconcile '{state.name}' now",
        recommendation=f"set {CLUSTER_ACCESS_SETTING}=on (the default) in the worker's environment: fluxops then "
        "gets each cluster's credentials from ARM as `az aks get-credentials` and `az connectedk8s proxy` do, and "
        "needs a Kubernetes role there that may patch Flux objects. Meanwhile Flux fetches the source by itself "
        f"every {interval(every)}: a new commit is applied by {by} at the latest",
    )
