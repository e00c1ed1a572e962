"""Fleet rollout: one `/flux fleet apply` to N clusters through the whole stack, against ARM's write throttle.

The stack runs as ``fluxops sandbox up --fleet N`` runs it (redis-server, the ARM emulator with its throttle on
at ARM's numbers — writes burst 200, then 10 a second per subscription — sped up by ``--time-scale``, the
simulated Flux, a fake Slack, and fluxops' web, worker and beat processes from the Procfile), with
``FLUXOPS_ARM_TIME_SCALE`` matching the emulator's. This process drives it as a person and a script would:

1. Outside the measured window: the microsoft.flux extension is installed on every cluster (the generated ones
   have none; the throttle is off meanwhile), and 50 clusters of a resource group of their own (``seq-NNNN``,
   not tagged ``fleet=true``) are set aside for the baseline.
2. The baseline, as a script around ``az k8s-configuration flux create`` does it: on each of those 50 clusters,
   one create with the azure-mgmt SDK, its long-running operation followed to the end, then GETs until the
   configuration is Compliant; then the next. Its time per cluster, times N, is the sequential estimate. Its
   time from the write's acceptance to Compliant is one reconcile of the simulated Flux in this stack (median).
3. The throttle's buckets refill to full. Then `/flux fleet apply bench --clusters fleet=true --waves 100%
   --max-parallel N ...` is sent from Slack; the run is timed from the Confirm press to its terminal phase in the
   job store (Redis).
4. Checked from the emulator's request log and Resource Graph: every cluster written exactly once and
   Compliant; the 429s the write throttle answered.

The lower bound of the run: the writes past the burst at the refill rate, ``max(0, N - 200) / (10 * S)``
seconds, plus one reconcile.

    ./scripts/bench fleet [--clusters 1000] [--time-scale 10] [--sequential 50]

The last line: ``fleet: N clusters | run X s | bound Y s (writes Z s + reconcile R s) | ratio Q | sequential ~T s
(50 measured, extrapolated) | speedup P | writes W, 429s K (k%) | failures F | time scale S``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.models import (  # noqa: E402  (after the path is set)
    ClusterRef,
    ClusterType,
    ExtensionSpec,
    FluxConfigSpec,
    GitSource,
    Kustomization,
    RepositoryRef,
)
from cli.chat import Chat, Target  # noqa: E402
from sandbox.arm.app import EmulatorConfig  # noqa: E402
from sandbox.arm.throttle import ARM_LIMITS  # noqa: E402
from sandbox.credential import SandboxCredential  # noqa: E402
from sandbox.runtime import SandboxOptions  # noqa: E402
from sandbox.stack import CHANNEL, YOU, Stack, StackOptions, StackThread  # noqa: E402
from sandbox.world import Cluster  # noqa: E402
from workers.azure_connection import ArmConnection  # noqa: E402
from workers.azure_extensions import AzureExtensions  # noqa: E402
from workers.azure_flux import AzureFluxConfigs  # noqa: E402
from workers.azure_resource_graph import ResourceGraphIndex  # noqa: E402

URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
CONFIG = "bench"
BASELINE_CONFIG = "sequential"
BASELINE_RG = "sequential-rg"
TERMINAL = {"succeeded", "halted", "failed", "canceled"}
#: how often this process looks at the job store and the baseline's configuration (seconds)
POLL = 0.05
_CLUSTER = re.compile(r"/(?:connectedclusters|managedclusters)/([^/]+)/providers/", re.IGNORECASE)
_JOB = re.compile(r"j-[0-9a-f]{12}")


def say(message: str) -> None:
    """Progress, on stderr (stdout holds only the final line)."""
    print(f"  {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Clients:
    """The SDK adapters a script (or the bench's setup) uses, straight at the emulator: no shared pacing."""

    flux: AzureFluxConfigs
    extensions: AzureExtensions
    index: ResourceGraphIndex
    arm_url: str
    ca_file: str

    @classmethod
    def of(cls, stack: Stack) -> Clients:
        endpoints = stack.sandbox.endpoints
        assert endpoints is not None
        connection = ArmConnection(
            endpoint=endpoints.arm_url,
            credential=SandboxCredential(),
            ca_bundle=str(endpoints.ca_file),
            poll_interval=POLL,
        )
        return cls(
            flux=AzureFluxConfigs(connection=connection),
            extensions=AzureExtensions(connection=connection),
            index=ResourceGraphIndex(connection=connection, subscription_ids=[endpoints.subscription_id]),
            arm_url=endpoints.arm_url,
            ca_file=str(endpoints.ca_file),
        )

    def requests_log(self) -> list[dict[str, Any]]:
        """The emulator's request log (method, path, status of each ARM request, oldest first)."""
        answer = requests.get(f"{self.arm_url}/_sandbox/requests", verify=self.ca_file, timeout=30)
        answer.raise_for_status()
        log: list[dict[str, Any]] = answer.json()
        return log


def fleet_refs(subscription: str, count: int) -> list[ClusterRef]:
    """fleet-NNNN as sandbox/world.py add_fleet makes them (every third one an Arc cluster)."""
    return [
        ClusterRef(subscription, "fleet-rg", ClusterType.MANAGED if i % 3 else ClusterType.CONNECTED, f"fleet-{i:04d}")
        for i in range(count)
    ]


def add_baseline_clusters(stack: Stack, count: int) -> list[ClusterRef]:
    """``count`` AKS clusters of their own resource group, which the fleet run's selector does not match."""
    world = stack.sandbox.world
    subscription = world.subscriptions[0]
    refs = []
    for i in range(count):
        name = f"seq-{i:04d}"
        world.add_cluster(Cluster(subscription, BASELINE_RG, "managedClusters", name, tags={"fleet": "sequential"}))
        refs.append(ClusterRef(subscription, BASELINE_RG, ClusterType.MANAGED, name))
    return refs


def install_extensions(stack: Stack, clients: Clients, refs: list[ClusterRef]) -> None:
    """The microsoft.flux extension on every cluster of ``refs``, the throttle off meanwhile (setup, not measured)."""
    throttle = stack.sandbox.arm.throttle
    throttle.enabled = False
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda ref: clients.extensions.submit_create(ref, ExtensionSpec()), refs))
        wanted = {r.arm_id.lower() for r in refs}
        deadline = time.monotonic() + 300
        while True:
            ready = {
                e.cluster.arm_id.lower() for e in clients.index.extensions() if e.provisioning_state == "Succeeded"
            }
            if wanted <= ready:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the flux extension did not install on {len(wanted - ready)} cluster(s)")
            time.sleep(0.5)
    finally:
        throttle.enabled = True


def baseline_spec() -> FluxConfigSpec:
    return FluxConfigSpec(
        name=BASELINE_CONFIG,
        source=GitSource(url=URL, ref=RepositoryRef(branch="main"), sync_interval_seconds=86400),
        namespace=BASELINE_CONFIG,
        kustomizations=(Kustomization(name="infra", path="./infrastructure", prune=True),),
    )


@dataclass(frozen=True)
class Sequential:
    per_cluster: list[float]  # create to Compliant, each
    reconcile: list[float]  # the write accepted to Compliant, each


def sequential(clients: Clients, refs: list[ClusterRef]) -> Sequential:
    """One cluster after the other, as a script around `az k8s-configuration flux create` would: create, wait
    for the operation, poll until Compliant, next."""
    spec = baseline_spec()
    per_cluster: list[float] = []
    reconcile: list[float] = []
    for ref in refs:
        began = time.perf_counter()
        operation = clients.flux.begin_create_or_update(ref, spec)  # returns once ARM accepted the PUT
        accepted = time.perf_counter()
        operation.result(timeout=300)
        deadline = accepted + 300
        while clients.flux.get(ref, BASELINE_CONFIG).compliance_state != "Compliant":
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the baseline's configuration on {ref.name} never became Compliant")
            time.sleep(POLL)
        done = time.perf_counter()
        per_cluster.append(done - began)
        reconcile.append(done - accepted)
    return Sequential(per_cluster, reconcile)


def fleet_command(count: int) -> str:
    return (
        f"fleet apply {CONFIG} --clusters fleet=true --waves 100% --max-parallel {min(count, 1000)} "
        f"-u {URL} --branch main --interval 24h --kustomization name=infra path=./infrastructure prune=true"
    )


def send_and_plan(chat: Chat, text: str) -> tuple[str, dict[str, Any]]:
    """Send a fleet command; its run's id and the plan's message, once shown (awaiting confirmation)."""
    ack = chat.send(text)
    found = _JOB.search(str(ack.get("body")))
    if ack.get("status") != 200 or found is None:
        raise RuntimeError(f"the fleet command was not taken: {ack}")
    run = found.group(0)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for message in reversed(chat.job_messages(run)):
            payload = (message.get("metadata") or {}).get("event_payload", {})
            if payload.get("phase") == "awaiting_confirmation":
                return run, message
            if payload.get("phase") in TERMINAL:
                raise RuntimeError(f"run {run} ended before its plan was shown: {message.get('text')}")
        time.sleep(0.2)
    raise RuntimeError(f"the plan of run {run} was never shown")


def wait_terminal(client: redis.Redis, run: str, limit: float) -> str:
    deadline = time.perf_counter() + limit
    while True:
        phase = str(client.hget(f"fluxops:job:{run}", "p:phase") or "")
        if phase in TERMINAL:
            return phase
        if time.perf_counter() > deadline:
            raise RuntimeError(f"run {run} is still {phase!r} after {limit:.0f} s")
        time.sleep(POLL)


def writes_of(log: list[dict[str, Any]], name: str) -> tuple[Counter[str], int]:
    """Accepted PUTs of configuration ``name`` per cluster, and how many PUTs of it were answered 429."""
    accepted: Counter[str] = Counter()
    throttled = 0
    for record in log:
        path = str(record["path"]).lower()
        if record["method"] != "PUT" or not path.endswith(f"/fluxconfigurations/{name}"):
            continue
        status = int(record["status"])
        if status == 429:
            throttled += 1
        elif status < 300:
            match = _CLUSTER.search(path)
            if match is not None:
                accepted[match.group(1)] += 1
    return accepted, throttled


@dataclass(frozen=True)
class Measured:
    clusters: int
    seconds: float
    phase: str
    writes: int
    throttled: int
    failures: int


def fleet_run(stack: Stack, clients: Clients, count: int, limit: float) -> Measured:
    assert stack.redis is not None
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    chat = Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=limit)
    run, plan = send_and_plan(chat, fleet_command(count))
    say(f"run {run}: plan shown; pressing Confirm")
    began = time.perf_counter()
    chat.press(plan, "fluxops_confirm")
    mono = time.monotonic()  # the emulator's request log is stamped with this clock (it runs in this process)
    phase = wait_terminal(client, run, limit)
    seconds = time.perf_counter() - began
    say(f"run {run}: {phase} after {seconds:.2f} s")
    timeline(stack, mono)
    accepted, throttled = writes_of(clients.requests_log(), CONFIG)
    names = {ref.name.lower() for ref in fleet_refs(stack.sandbox.world.subscriptions[0], count)}
    compliant = {
        s.cluster.name.lower() for s in clients.index.configurations(name=CONFIG) if s.compliance_state == "Compliant"
    }
    good = {name for name in names if accepted.get(name) == 1 and name in compliant}
    strays = set(accepted) - names
    if strays:
        say(f"written outside the fleet: {sorted(strays)[:5]}")
    return Measured(count, seconds, phase, sum(accepted.values()), throttled, len(names - good) + len(strays))


def timeline(stack: Stack, since: float) -> None:
    """Where the run's time went, from the emulator's request log: when the writes went out (progress only)."""
    for _ in range(5):
        try:
            records = [r for r in list(stack.sandbox.arm.requests) if r.at >= since]
            break
        except RuntimeError:  # appended to while copied
            time.sleep(0.05)
    else:
        return
    puts = [
        r.at - since for r in records if r.method == "PUT" and r.path.lower().endswith(f"/fluxconfigurations/{CONFIG}")
    ]
    graph = [r.at - since for r in records if "resourcegraph" in r.path.lower()]
    if puts:
        marks = ", ".join(f"{n}th +{puts[n - 1]:.2f}" for n in (1, 200, 400, 600, 800, len(puts)) if n <= len(puts))
        say(f"PUTs {len(puts)}: {marks} s; Resource Graph queries {len(graph)}")


def options(args: argparse.Namespace) -> StackOptions:
    emulator = EmulatorConfig(time_scale=args.time_scale, throttling=True)
    sandbox = SandboxOptions(fleet=args.clusters, step_seconds=args.step_seconds, emulator=emulator)
    return StackOptions(sandbox=sandbox)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000, help="clusters the run writes (default 1000)")
    parser.add_argument(
        "--time-scale", type=float, default=10.0, help="ARM throttle refill (and Flux intervals) sped up this much"
    )
    parser.add_argument("--sequential", type=int, default=50, help="clusters of the sequential baseline")
    parser.add_argument("--step-seconds", type=float, default=0.7, help="pace of the simulated Flux agent")
    parser.add_argument("--limit", type=float, default=900.0, help="longest the run may take (seconds)")
    args = parser.parse_args()
    if not 1 <= args.clusters <= 1000:
        parser.error("--clusters: 1 to 1000 (a run's --max-parallel goes to 1000)")
    scale = float(args.time_scale)
    runner = StackThread(options(args))
    baseline_refs = add_baseline_clusters(runner.stack, args.sequential)
    say(
        f"starting the stack: {args.clusters} fleet clusters + {args.sequential} for the baseline, time scale {scale:g}"
    )
    stack = runner.start()
    try:
        clients = Clients.of(stack)
        refs = fleet_refs(stack.sandbox.world.subscriptions[0], args.clusters)
        began = time.perf_counter()
        install_extensions(stack, clients, refs + baseline_refs)
        say(f"flux extension on {len(refs) + len(baseline_refs)} clusters in {time.perf_counter() - began:.1f} s")
        base = sequential(clients, baseline_refs)
        per = statistics.mean(base.per_cluster)
        reconcile = statistics.median(base.reconcile)
        say(f"sequential: {per:.2f} s a cluster, reconcile (accepted to Compliant) median {reconcile:.2f} s")
        writes = ARM_LIMITS["writes"]
        refill = writes.burst / (writes.per_second * scale)
        time.sleep(refill * 1.1 + 0.5)  # both buckets full again: ARM's and fluxops' shared one (it paces lower)
        measured = fleet_run(stack, clients, args.clusters, args.limit)
    finally:
        say("stopping the stack")
        runner.stop()
    write_bound = max(0.0, args.clusters - writes.burst) / (writes.per_second * scale)
    bound = write_bound + reconcile
    extrapolated = per * args.clusters
    attempts = measured.writes + measured.throttled
    rate = 100 * measured.throttled / attempts if attempts else 0.0
    failures = measured.failures if measured.phase == "succeeded" else max(1, measured.failures)
    print(
        f"fleet: {measured.clusters} clusters | run {measured.seconds:.1f} s | bound {bound:.1f} s "
        f"(writes {write_bound:.1f} s + reconcile {reconcile:.1f} s) | ratio {measured.seconds / bound:.2f}x | "
        f"sequential ~{extrapolated:.0f} s ({len(base.per_cluster)} measured, extrapolated) | "
        f"speedup {extrapolated / measured.seconds:.0f}x | writes {measured.writes}, 429s {measured.throttled} "
        f"({rate:.1f}%) | failures {failures} | time scale {scale:g}",
        flush=True,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
