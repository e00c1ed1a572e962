"""Push trace: from a push to the last final commit status, as fluxops' overhead above the simulated Flux's own time.

For each size N (``--clusters 1,100,1000``) a whole sandbox runs: the ARM emulator with N generated clusters
(``fleet-0000`` ...) and the simulated Flux, the fake GitHub, redis-server, and fluxops' Procfile web and worker.
One flux configuration on every generated cluster tracks ``main`` of one GitHub repository (made in the sandbox
directly: the setup is not measured) and is reconciled once. Then ``--pushes`` commits are pushed to the fake
GitHub one after the other (each once the one before has its final statuses); each delivers the signed push
webhook to the web and nudges the simulated Flux, as a notification Receiver would.

Per push, Flux's own time per cluster X is push -> the simulated Flux finished applying the commit on X (its ARM
statuses say so from then on); fluxops' overhead is the moment the last cluster finished applying -> the moment
the last final commit status reached the fake GitHub. Up to PER_TARGET_UP_TO clusters each has its own status
(``fluxops/X/<config>``) and the per-cluster overhead (X applied -> its status final) is reported too; above
that the push has one status, ``fluxops/<branch>/<config>``. Both moments are taken in this process
(``time.perf_counter``) by hooks on the sandbox's objects. Reported per size: the overhead's p50 and p95 over the
pushes, the per-cluster overhead's p50 and p95 (per-cluster statuses only), Flux's p50, the push -> last final
status and its ratio to the push -> Flux's last apply (the last push's). A push that does not finish within
``--timeout`` ends the size, saying how far it got.

    ./scripts/bench push_trace [--clusters 1,100,1000] [--pushes 1] [--time-scale 1] [--timeout 900]

The last line: ``push_trace: time scale S, polls A-B s; N clusters (per cluster|per configuration, P pushes):
overhead p50 X s p95 Y s[, per cluster p50 C s p95 D s], flux p50 F s, last status T s (ratio Rx), P/P
final; ...``; a size that did not finish says ``... K/P final; last push: J/M statuses final after W s (A/N
applied by Flux)``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import percentile
from bot.usecases.push_statuses import PER_TARGET_UP_TO
from sandbox.arm.app import EmulatorConfig
from sandbox.arm.endpoints import system_data
from sandbox.arm.flux_configs import initial_status, normalise_spec
from sandbox.github.state import Status
from sandbox.runtime import SandboxOptions
from sandbox.stack import GITHUB_ORG, Stack, StackOptions
from sandbox.tutorial_repo import tutorial_files
from sandbox.world import Cluster, FluxConfigRecord

REPO = f"{GITHUB_ORG}/push-bench"
CONFIG = "push-bench"
FINAL = {"success", "failure", "error"}


def spec(url: str) -> dict[str, Any]:
    """What ``/flux config create push-bench -u URL --branch main`` with the tutorial's two kustomizations
    stores (ARM's defaults applied by the emulator's own rules)."""
    properties = {
        "scope": "cluster",
        "namespace": CONFIG,
        "sourceKind": "GitRepository",
        "gitRepository": {"url": url, "repositoryRef": {"branch": "main"}},
        "kustomizations": {
            "infra": {"path": "./infrastructure", "prune": True},
            "apps": {"path": "./apps/staging", "prune": True, "dependsOn": ["infra"]},
        },
    }
    return normalise_spec(properties, {})


class TimedStatuses(list[Status]):
    """The fake GitHub's list of commit statuses, noting when each final one for ``sha`` arrives."""

    def __init__(self, existing: list[Status]) -> None:
        super().__init__(existing)
        self.sha = ""
        self.final: dict[str, float] = {}  # context -> perf_counter
        self.states: dict[str, str] = {}
        self.pending: set[str] = set()

    def follow(self, sha: str) -> None:
        """From now on, note the statuses of ``sha`` (those already there count as they are)."""
        self.sha = sha
        self.final, self.states, self.pending = {}, {}, set()
        for status in list(self):
            self.append_noted(status)

    def append(self, status: Status) -> None:
        super().append(status)
        self.append_noted(status)

    def append_noted(self, status: Status) -> None:
        if status.sha == self.sha and status.state == "pending":
            self.pending.add(status.context)
        if status.sha == self.sha and status.state in FINAL and status.context not in self.final:
            self.final[status.context] = time.perf_counter()
            self.states[status.context] = status.state


@dataclass
class Applies:
    """When the simulated Flux finished applying which commit, per cluster name."""

    times: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def __call__(self, cluster: Cluster, name: str, sha: str) -> None:
        if name == CONFIG:
            self.times.setdefault(cluster.name, []).append((sha, time.perf_counter()))

    def first(self, cluster: str, sha: str, since: float) -> float | None:
        return next((t for s, t in self.times.get(cluster, []) if s == sha and t >= since), None)


@dataclass
class Push:
    """One push's figures."""

    overhead: float = math.nan  # the last cluster applied -> the last final status
    per_cluster: list[float] = field(default_factory=list)  # X applied -> fluxops/X/<config> final
    flux: list[float] = field(default_factory=list)
    last_status: float = math.nan
    last_flux: float = math.nan
    final: int = 0  # statuses final, of ``contexts``
    contexts: int = 0
    failed: int = 0
    waited: float = 0.0
    stopped: str = ""

    @property
    def done(self) -> bool:
        return self.contexts > 0 and self.final == self.contexts and not self.stopped


@dataclass
class Outcome:
    clusters: int
    pushes: int
    runs: list[Push] = field(default_factory=list)
    note: str = ""

    def describe(self) -> str:
        n = self.clusters
        done = [run for run in self.runs if run.done]
        how = "per cluster" if n <= PER_TARGET_UP_TO else "per configuration"
        pushes = f"{self.pushes} {'push' if self.pushes == 1 else 'pushes'}"
        head = f"{n} {'cluster' if n == 1 else 'clusters'} ({how}, {pushes})"
        overheads = [run.overhead for run in done if not math.isnan(run.overhead)]
        parts = [_p("overhead", overheads)]
        per_cluster = [x for run in self.runs for x in run.per_cluster]
        if n <= PER_TARGET_UP_TO:
            parts.append(_p("per cluster", per_cluster))
        flux = [x for run in self.runs for x in run.flux]
        parts.append(f"flux p50 {percentile(flux, 0.5):.2f} s" if flux else "flux n/a")
        last = self.runs[-1] if self.runs else Push()
        if done and last.done:
            parts.append(f"last status {last.last_status:.2f} s (ratio {last.last_status / last.last_flux:.2f}x)")
        parts.append(f"{len(done)}/{self.pushes} final")
        figures = f"{head}: {', '.join(parts)}"
        if self.runs and not last.done:
            figures += (
                f"; last push: {last.final}/{last.contexts} statuses final after {last.waited:.0f} s "
                f"({len(last.flux)}/{n} applied by Flux{', ' + last.stopped if last.stopped else ''})"
            )
        failed = sum(run.failed for run in self.runs)
        if failed:
            figures += f" ({failed} not success)"
        return figures + self.note


def _p(what: str, values: list[float]) -> str:
    if not values:
        return f"{what} n/a"
    return f"{what} p50 {percentile(values, 0.5):.2f} s p95 {percentile(values, 0.95):.2f} s"


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def wait(what: str, done: Progress, limit: float, stall: float = math.inf) -> str:
    """Poll ``done()`` every 0.1 s until it is true (""), ``limit`` s passed, or its count has not moved for
    ``stall`` s (then why it stopped), saying how it goes."""
    began = time.perf_counter()
    said = moved = began
    seen = done.moved()
    while not done():
        now = time.perf_counter()
        if done.moved() != seen:
            seen, moved = done.moved(), now
        if now - began > limit:
            return f"timed out after {limit:.0f} s"
        if now - moved > stall:
            return f"stalled: nothing new for {stall:.0f} s"
        if now - said > 15:
            log(f"    ... {what}: {done.progress()} after {now - began:.0f} s")
            said = now
        await asyncio.sleep(0.1)
    return ""


class Progress:
    def __init__(self, count: Any, total: int, moved: Any = None) -> None:
        self.count = count
        self.total = total
        self.moved = moved or count  # what shows it is still getting somewhere

    def __call__(self) -> bool:
        return bool(self.count() >= self.total)

    def progress(self) -> str:
        return f"{self.count()}/{self.total}"


async def measure(size: int, args: argparse.Namespace) -> Outcome:
    options = StackOptions(
        sandbox=SandboxOptions(
            fleet=size, step_seconds=args.step_seconds, emulator=EmulatorConfig(time_scale=args.time_scale)
        ),
        processes=("web", "worker"),
        watch_first_poll=args.first_poll,
        watch_longest_poll=args.longest_poll,
        watch_timeout=args.timeout + 60,  # the bench gives up first, saying how far it got
    )
    stack = Stack(options)
    outcome = Outcome(size, args.pushes)
    began = time.perf_counter()
    await stack.start()
    try:
        applies = Applies()
        stack.sandbox.flux.on_applied = applies
        statuses = TimedStatuses(stack.github.state.statuses)
        stack.github.state.statuses = statuses
        stack.sandbox.repos.create_repo(REPO, tutorial_files(), private=False)
        clusters = [c for c in stack.sandbox.world.clusters.values() if c.name.startswith("fleet-")]
        for cluster in clusters:
            record = FluxConfigRecord(
                name=CONFIG,
                properties={**spec(f"https://github.com/{REPO}"), **initial_status("Succeeded")},
                protected={},
                system_data=system_data(None),
            )
            cluster.flux_configs[CONFIG] = record
            stack.sandbox.flux.config_changed(cluster, CONFIG)
        ready = Progress(lambda: len(applies.times), len(clusters))
        if await wait("the first reconcile", ready, args.timeout):
            outcome.note = f" (setup: only {ready.progress()} reconciled once in {args.timeout:.0f} s)"
            return outcome
        log(
            f"  {size}: sandbox up and {len(clusters)} configurations reconciled in {time.perf_counter() - began:.0f} s"
        )
        for number in range(args.pushes):
            run = await push(stack, statuses, applies, [c.name for c in clusters], number, args)
            outcome.runs.append(run)
            log(f"  {size}: push {number + 1}: overhead {run.overhead:.2f} s, {run.final}/{run.contexts} final")
            if not run.done:
                break
        return outcome
    finally:
        await stack.stop()


async def push(
    stack: Stack, statuses: TimedStatuses, applies: Applies, clusters: list[str], number: int, args: argparse.Namespace
) -> Push:
    """Push one commit and wait for its final statuses; what it took."""
    run = Push()
    contexts = (
        [f"fluxops/{name}/{CONFIG}" for name in clusters]
        if len(clusters) <= PER_TARGET_UP_TO
        else [f"fluxops/main/{CONFIG}"]
    )
    run.contexts = len(contexts)
    pushed_at = time.perf_counter()
    text = f"# push bench {len(clusters)}, push {number + 1}\n"
    pushed = await stack.github.push(REPO, "main", {"README.md": text}, message="bench")
    assert pushed.sha is not None
    statuses.follow(pushed.sha)
    finished = Progress(
        lambda: sum(c in statuses.final for c in contexts),
        len(contexts),
        lambda: len(statuses.pending) + len(statuses.final) + sum(map(len, applies.times.values())),
    )
    run.stopped = await wait("final commit statuses", finished, args.timeout, args.stall)
    run.waited = time.perf_counter() - pushed_at
    last_apply = 0.0
    for name in clusters:
        applied = applies.first(name, pushed.sha, pushed_at)
        if applied is None:
            continue
        run.flux.append(applied - pushed_at)
        last_apply = max(last_apply, applied)
        final = statuses.final.get(f"fluxops/{name}/{CONFIG}")
        if final is not None:
            run.per_cluster.append(final - applied)
    finals = [statuses.final[c] for c in contexts if c in statuses.final]
    run.final = len(finals)
    run.failed = sum(statuses.states[c] != "success" for c in contexts if c in statuses.states)
    if finals and len(run.flux) == len(clusters):
        run.overhead = max(finals) - last_apply
        run.last_status = max(finals) - pushed_at
        run.last_flux = last_apply - pushed_at
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", default="1,100,1000", help="sizes, comma-separated (default 1,100,1000)")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="sandbox time scale (default 1: ARM's own throttle rates)"
    )
    parser.add_argument("--step-seconds", type=float, default=0.7, help="the simulated Flux's step (default 0.7)")
    parser.add_argument("--first-poll", type=float, default=0.5, help="FLUXOPS_WATCH_FIRST_POLL (default 0.5)")
    parser.add_argument("--longest-poll", type=float, default=2.0, help="FLUXOPS_WATCH_LONGEST_POLL (default 2)")
    parser.add_argument("--pushes", type=int, default=1, help="pushes per size, one after the other (default 1)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per size, setup and trace (default 900)")
    parser.add_argument(
        "--stall", type=float, default=120.0, help="give up when no status came for this long (default 120)"
    )
    args = parser.parse_args()
    sizes = [int(part) for part in args.clusters.split(",") if part.strip()]
    logging.basicConfig(level=logging.WARNING)
    # stopped (TERM, or INT even when started in the background), it still stops the sandbox's processes
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    outcomes = []
    for size in sizes:
        outcome = asyncio.run(measure(size, args))
        log(f"  {outcome.describe()}")
        outcomes.append(outcome)
    scale = f"{args.time_scale:g}"
    print(
        f"push_trace: time scale {scale}, polls {args.first_poll:g}-{args.longest_poll:g} s; "
        + "; ".join(o.describe() for o in outcomes)
    )
    return (
        0
        if all(o.runs and all(r.done and not r.failed for r in o.runs) and len(o.runs) == o.pushes for o in outcomes)
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
