"""`/flux reconcile NAME -c CLUSTER [--with-source] [--kustomization K]`: Flux reconciles a configuration now.

The configuration is read from ARM (its namespace, source kind, kustomizations and their ``dependsOn``); then,
through the cluster's Kubernetes API, the source is asked to reconcile and followed until Flux fetched it,
then each Kustomization in ``dependsOn`` order (or only ``--kustomization K``, its source first with
``--with-source``). One message, one step per object: requested, handled, then the revision it fetched or
applied, or Flux's reason for failing. The first object that fails ends the job Failed with its message and
its newest Warning events (shown as every Non-Compliant result shows them); the objects after it are not asked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot import errors
from bot.cluster_objects import KUSTOMIZATION, FluxObject, ObjectRef
from bot.commands import Reconcile
from bot.kustomization_order import in_dependency_order
from bot.models import Compliance, FluxConfigState
from bot.ports import ClusterApi
from bot.render.wording import interval
from bot.usecases.configs import lock_key
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.failure_events import WARNING, newest_per_object, read_events, rfc3339
from bot.usecases.reconcile_requests import Requests, kustomization_object, source_object
from bot.views import ErrorInfo, EventList, Phase, StepState

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
    # the configuration's lock, as every change to it takes: two reconciles of it (or one during an update or a
    # key switch) do not interleave their requests
    with job.ports.locks.hold(lock_key(cluster, command.name), job.job_id):
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


def _one(job: Job, requests: Requests, index: int, ref: ObjectRef) -> str | None:
    """Ask ``ref`` to reconcile and follow it: None when it ended Ready, else why it did not."""
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
        return why
    if answer.ready:
        job.finish_step(waiting, f"{ref}: {_done_text(answer.obj)}")
        return None
    job.finish_step(waiting, f"{ref}: {answer.failure}", StepState.FAILED)
    return answer.failure


def _done_text(obj: FluxObject) -> str:
    verb = "applied" if obj.ref.kind == KUSTOMIZATION else ("fetched" if obj.ref.kind != "HelmRelease" else "released")
    return f"Ready, {verb} {obj.revision}" if obj.revision else "Ready"


def _failed(
    job: Job,
    api: ClusterApi,
    command: Reconcile,
    where: ResolvedCluster,
    ref: ObjectRef,
    failure: str,
    skipped: list[ObjectRef],
) -> None:
    message = f"{ref} is not Ready: {failure}"
    if skipped:
        message += "\nNot asked, as they come after it: " + ", ".join(str(r) for r in skipped) + "."
    error = ErrorInfo(
        doing=f"reconciling flux configuration '{command.name}' on {where.label}",
        message=message,
        recommendation=f"fix what Flux reports, then `/flux reconcile {command.name} -c {where.label}` again; "
        f"`/flux status {command.name} -c {where.label}` shows every object and `/flux events {command.name} -c "
        f"{where.label}` what Flux's controllers said",
    )
    job.show(phase=Phase.FAILED, note="", error=error, failure_events=failure_events(job, api, where, ref))
    job.reporter.private(job.view)


def failure_events(job: Job, api: ClusterApi, where: ResolvedCluster, ref: ObjectRef) -> EventList | None:
    """The newest Warning events about ``ref`` (bot.usecases.failure_events' rules); None when there are none. A
    read that fails says so in the list: it never hides the failure itself."""
    as_of = rfc3339(job.ports.pace.wall_clock())
    try:
        found = read_events(api, where.cluster.ref, [ref])
    except errors.FluxopsError as error:
        return EventList(as_of=as_of, problem=f"Flux's events could not be read: {error.user_text()}")
    warnings = newest_per_object(e for e in found if e.type == WARNING)
    return EventList(events=warnings, as_of=as_of) if warnings else None


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
