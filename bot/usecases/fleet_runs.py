"""`/flux fleet apply` and `/flux fleet extension update`: the plan (which clusters the selector matches, the
waves with their clusters, creates vs updates), the confirmation that shows it, then the run.

The plan is made once, before the confirmation, and saved in the job record; the confirmed run executes that
plan (a cluster tagged since is not written). What comes back from the job record is checked again: every
cluster must still be one the person may change, else nothing runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

from bot import errors
from bot.commands import FleetApply, FleetExtensionUpdate
from bot.decision import Decision
from bot.fleet import CreateConfig, InstallExtension, Operation, UpdateConfig, UpdateExtension
from bot.fleet_decision import authorize_fleet, names, nothing_matched, selector_text
from bot.flux_patch import changes_config, changes_extension
from bot.inventory import matches_selector
from bot.models import ExtensionSpec, ExtensionState, FluxConfigState
from bot.rollout import snapshot
from bot.rollout.engine import Rollout
from bot.rollout.plan import RolloutPlan, Target
from bot.rollout.progress import PLAN_FIELD
from bot.rollout.report import RunReport
from bot.rollout.waves import wave_sizes
from bot.usecases import fleet_freeze, fleet_io
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.job_approvals import check_approvals
from bot.views import ConfirmView, Phase, ThrottleInfo

FleetCommand = FleetApply | FleetExtensionUpdate

_CREATE, _INSTALL_AND_CREATE, _UPDATE, _EXTENSION = "create", "install+create", "update", "extension"
_AGAIN = "start the fleet run again"


@dataclass(frozen=True)
class _Planned:
    targets: list[tuple[ResolvedCluster, str]]  # (cluster, action) in run order
    unchanged: int
    left_alone: list[str]  # matched clusters the run cannot change (no flux extension to update)


def title(command: FleetCommand) -> str:
    what = f"fleet apply {command.name}" if isinstance(command, FleetApply) else "fleet extension update"
    return f"{what} to {selector_text(command.selector)}"


# -- who may --------------------------------------------------------------------------------------


def matched(job: Job, command: FleetCommand) -> list[ResolvedCluster]:
    """The clusters the selector matches among those the person may see; refused unless they may change all
    (the decision intake made, made again on the inventory as it is now)."""
    found = [
        where
        for where in job.ports.clusters.all()
        if matches_selector(where.cluster, where.alias, command.selector) and job.may_see(where.cluster, where.alias)
    ]
    if not found:
        raise nothing_matched(command.selector)
    check_roles(job, command, found)
    return sorted(found, key=lambda w: w.label.lower())


def check_roles(job: Job, command: FleetCommand, clusters: Sequence[ResolvedCluster]) -> None:
    identity = job.identity
    if identity is not None:
        authorize_fleet(job.ports.policy, identity, command, clusters)


# -- the plan -------------------------------------------------------------------------------------


def _configs(job: Job, name: str, clusters: Sequence[ResolvedCluster]) -> dict[str, FluxConfigState]:
    ports = job.ports
    if ports.fleet.index is not None:
        wanted = {w.cluster.ref.arm_id.lower() for w in clusters}
        return {
            s.cluster.arm_id.lower(): s
            for s in ports.fleet.index.configurations(name=name)
            if s.cluster.arm_id.lower() in wanted
        }
    found = {}
    for where in clusters:
        try:
            found[where.cluster.ref.arm_id.lower()] = ports.flux.get(where.cluster.ref, name)
        except errors.NotFound:
            continue
    return found


def _extensions(job: Job, clusters: Sequence[ResolvedCluster]) -> dict[str, ExtensionState]:
    ports = job.ports
    if ports.fleet.index is not None:
        return {e.cluster.arm_id.lower(): e for e in ports.fleet.index.extensions()}
    return {
        w.cluster.ref.arm_id.lower(): e
        for w in clusters
        if (e := ports.extensions.find_flux(w.cluster.ref)) is not None
    }


def plan_apply(job: Job, command: FleetApply, clusters: Sequence[ResolvedCluster]) -> _Planned:
    existing = _configs(job, command.name, clusters)
    missing = [w for w in clusters if w.cluster.ref.arm_id.lower() not in existing]
    flux = _extensions(job, missing) if missing and command.spec is not None else {}
    secrets = not command.credentials.is_empty()  # never read back from Azure: handing them over is a change
    targets: list[tuple[ResolvedCluster, str]] = []
    unchanged = 0
    cannot = []
    for where in clusters:
        state = existing.get(where.cluster.ref.arm_id.lower())
        if state is None:
            if command.spec is None:
                cannot.append(where.label)
            else:
                has_flux = where.cluster.ref.arm_id.lower() in flux
                targets.append((where, _CREATE if has_flux else _INSTALL_AND_CREATE))
        elif state.spec is None or secrets or changes_config(state.spec, command.patch):
            targets.append((where, _UPDATE))
        else:
            unchanged += 1
    if cannot:
        raise errors.InvalidRequest(
            f"flux configuration '{command.name}' does not exist on {len(cannot)} matched cluster(s) "
            f"({names(cannot)}), and the flags do not make a whole configuration to create there",
            recommendation="add the source flags (`--url`, `--branch`, `--kustomization ...`) to create it too, "
            "or narrow `--clusters` to clusters that have it",
        )
    return _Planned(targets, unchanged, [])


def plan_extension(job: Job, command: FleetExtensionUpdate, clusters: Sequence[ResolvedCluster]) -> _Planned:
    flux = _extensions(job, clusters)
    targets: list[tuple[ResolvedCluster, str]] = []
    unchanged = 0
    left_alone = []
    for where in clusters:
        state = flux.get(where.cluster.ref.arm_id.lower())
        if state is None:
            left_alone.append(where.label)
        elif changes_extension(state, command.patch):
            targets.append((where, f"{_EXTENSION}:{state.name}"))
        else:
            unchanged += 1
    return _Planned(targets, unchanged, left_alone)


def operations(job: Job, command: FleetCommand, where: ResolvedCluster, action: str) -> tuple[Operation, ...]:
    at = (where.cluster.ref.arm_id.lower(), where.label, where.cluster.ref)
    if isinstance(command, FleetExtensionUpdate):
        kind, _, name = action.partition(":")
        if kind != _EXTENSION or not name:
            raise errors.Forbidden(f"the saved plan has an unknown step '{action[:40]}'", recommendation=_AGAIN)
        return (UpdateExtension(*at, name=name, patch=command.patch),)
    if action not in (_CREATE, _INSTALL_AND_CREATE, _UPDATE):
        raise errors.Forbidden(f"the saved plan has an unknown step '{action[:40]}'", recommendation=_AGAIN)
    if action == _UPDATE:
        return (UpdateConfig(*at, name=command.name, patch=command.patch),)
    assert command.spec is not None
    create = CreateConfig(*at, spec=replace(command.spec, name=command.name), credentials=command.credentials)
    return (InstallExtension(*at, spec=ExtensionSpec()), create) if action == _INSTALL_AND_CREATE else (create,)


def rollout_plan(job: Job, command: FleetCommand, planned: _Planned) -> RolloutPlan:
    targets = tuple(Target(w.label, w.cluster.ref, operations(job, command, w, a)) for w, a in planned.targets)
    actions = [a for _, a in planned.targets]
    return RolloutPlan(
        title=title(command),
        targets=targets,
        waves=tuple(wave_sizes(len(targets), command.waves)),
        max_parallel=command.max_parallel,
        creates=sum(1 for a in actions if a in (_CREATE, _INSTALL_AND_CREATE)),
        updates=sum(1 for a in actions if not a.startswith(_CREATE) and a != _INSTALL_AND_CREATE),
        unchanged=planned.unchanged,
    )


# -- the job --------------------------------------------------------------------------------------


def fleet_run(job: Job, command: FleetCommand) -> None:
    """Plan and ask for confirmation; once confirmed, run the saved plan to its end."""
    ports = job.ports
    job.view = replace(job.view, title=title(command))
    if not job.record.confirmed_by:
        clusters = matched(job, command)
        if isinstance(command, FleetApply):
            planned = plan_apply(job, command, clusters)
        else:
            planned = plan_extension(job, command, clusters)
        if not planned.targets:
            job.show(phase=Phase.SUCCEEDED, note=_nothing_to_do(planned, len(clusters)))
            return
        saved = {"targets": [[w.cluster.ref.arm_id, a] for w, a in planned.targets], "unchanged": planned.unchanged}
        ports.jobs.put(job.job_id, PLAN_FIELD, json.dumps(saved, separators=(",", ":")))
        job.confirm(confirm_view(job, command, rollout_plan(job, command, planned), planned.left_alone))
        return
    plan = rollout_plan(job, command, load_plan(job, command))
    ports.fleet.runs.add(job.job_id, ports.pace.wall_clock())
    report = RunReport(
        job,
        gauge=partial(_throttle, job, plan),
        save=lambda view: ports.jobs.put(job.job_id, snapshot.VIEW_FIELD, snapshot.encode(view)),
        interval=max(1.0, ports.pace.watch.first),
    )
    credentials = command.credentials if isinstance(command, FleetApply) else None
    rollout = Rollout(
        job,
        plan,
        write=partial(fleet_io.write, ports, credentials=credentials),
        observe=partial(fleet_io.observe, ports),
        check=partial(fleet_io.observe, ports, bulk=False),
        report=report,
        gate=fleet_freeze.gate(job, command.break_glass, plan.title),
    )
    phase = rollout.run()
    # the run's message is its FleetRunView: the job's own view only records the end (for the audit)
    job.record_end(phase)


def _nothing_to_do(planned: _Planned, matched_count: int) -> str:
    alone = f"; left alone (no flux extension): {names(planned.left_alone)}" if planned.left_alone else ""
    return f"Nothing to do: the {planned.unchanged} of {matched_count} matched clusters are already as asked{alone}."


def load_plan(job: Job, command: FleetCommand) -> _Planned:
    """The plan saved before the confirmation, every cluster checked again (it comes back from Redis)."""
    try:
        raw = json.loads(job.ports.jobs.get(job.job_id, PLAN_FIELD) or "")
        items = [(str(arm_id), str(action)) for arm_id, action in raw["targets"]]
        unchanged = int(raw["unchanged"])
    except (ValueError, TypeError, KeyError) as problem:
        raise errors.Forbidden(f"the run's saved plan cannot be read ({problem})", recommendation=_AGAIN) from None
    known = {w.cluster.ref.arm_id.lower(): w for w in job.ports.clusters.all()}
    if len({arm_id.lower() for arm_id, _ in items}) != len(items):
        raise errors.Forbidden("the run's saved plan names a cluster twice", recommendation=_AGAIN)
    targets = []
    for arm_id, action in items:
        where = known.get(arm_id.lower())
        if where is None or not matches_selector(where.cluster, where.alias, command.selector):
            raise errors.Forbidden(
                f"cluster {arm_id.rsplit('/', 1)[-1]} of the saved plan is no longer in fluxops' inventory or "
                f"no longer matches `{selector_text(command.selector)}`",
                recommendation=_AGAIN,
            )
        if not job.may_see(where.cluster, where.alias):
            raise errors.Forbidden("the saved plan names a cluster you may not see", recommendation=_AGAIN)
        targets.append((where, action))
    clusters = [w for w, _ in targets]
    check_roles(job, command, clusters)
    if job.record.decision:  # the approvals the policy asks for today, on every cluster of the run
        decision = Decision.from_json(job.record.decision)
        for where in clusters:
            check_approvals(job.record, decision, job.ports, where)
    return _Planned(targets, unchanged, [])


def confirm_view(job: Job, command: FleetCommand, plan: RolloutPlan, left_alone: Sequence[str]) -> ConfirmView:
    count = len(plan.targets)
    what = (
        f"Apply flux configuration {command.name}" if isinstance(command, FleetApply) else "Update the flux extension"
    )
    summary = (
        f"{what} on {count} cluster(s) matching `{selector_text(command.selector)}`: {plan.creates} create(s), "
        f"{plan.updates} update(s); {plan.unchanged} already as asked."
    )
    lines = []
    start = 0
    for number, size in enumerate(plan.waves):
        labels = [t.label for t in plan.targets[start : start + size]]
        start += size
        lines.append(f"Wave {number + 1} ({size} cluster{'s' if size != 1 else ''}): {names(labels)}")
    lines.append(
        f"At most {plan.max_parallel} clusters in flight. Each wave must end "
        f"{'Compliant' if isinstance(command, FleetApply) else 'Succeeded'} before the next starts; the first "
        "failed, Non-Compliant or timed-out cluster halts the run and the rest stay untouched."
    )
    if left_alone:
        lines.append(f"Left alone (no flux extension): {names(list(left_alone))}")
    return ConfirmView(
        job_id=job.job_id,
        actor=job.record.actor,
        title=plan.title,
        summary=summary,
        consequences=tuple(lines),
        confirm_label="Start the rollout",
        approver=f"an {command.role.value} of every matched cluster",
    )


def _throttle(job: Job, plan: RolloutPlan) -> ThrottleInfo | None:
    gauge = job.ports.fleet.throttle
    if gauge is None:
        return None
    subscriptions = sorted({t.cluster.subscription_id.lower() for t in plan.targets})
    infos = [info for sub in subscriptions if (info := gauge.writes(sub)) is not None]
    if not infos:
        return None
    remaining = [i.remaining for i in infos if i.remaining is not None]
    return ThrottleInfo(
        remaining=min(remaining) if remaining else None,
        shut_seconds=max(i.shut_seconds for i in infos),
        throttled=sum(i.throttled for i in infos),
    )
