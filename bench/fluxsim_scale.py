"""Fleet scale of the simulated Flux: ``--fleet N`` clusters each given one flux configuration, then a push.

The sandbox (ARM emulator + simulated Flux, as ``fluxops sandbox up --fleet N`` runs it, throttling off) runs in
a child process of its own, with a probe task on its event loop that measures how late its timers fire. This
process talks to the emulator over HTTPS as a client would:

1. installs the microsoft.flux extension on every fleet cluster (the generated clusters have none) and waits;
2. PUTs configuration ``cluster-config`` (the tutorial repository, three kustomizations with dependsOn) on
   every fleet cluster, then polls each one with GET until all are Compliant;
3. pushes a commit to the tracked repository (the simulator is nudged as a Flux Receiver would be) and polls
   until every configuration is Compliant at the new commit;
4. leaves the fleet reconciling on its own intervals for ``--idle-seconds`` and measures the sandbox's CPU.

    ./scripts/bench fluxsim_scale [--fleet 1000] [--time-scale 10] [--step-seconds 0.7] [--profile out.pstats]

The last line: ``fluxsim_scale: N configs | create: Compliant in Xs, cpu Ys, lag p50/p99/max ... ms, GET p99 Z ms
| push: ... | idle: cpu Y s/s, lag ... | fetches F (git checkouts C), builds B``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import resource
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.arm.app import EmulatorConfig  # noqa: E402  (after the path is set)
from sandbox.runtime import Sandbox, SandboxOptions  # noqa: E402
from sandbox.tutorial_repo import TUTORIAL_SLUG, TUTORIAL_URL, tutorial_files  # noqa: E402

CONFIG = "cluster-config"
FLUX_API = "2025-04-01"
EXT_API = "2023-05-01"
KUSTOMIZATIONS = {
    "nginx": {"path": "./infrastructure/nginx", "prune": True},
    "redis": {"path": "./infrastructure/redis", "prune": True},
    "apps": {"path": "./apps/staging", "prune": True, "dependsOn": ["nginx", "redis"]},
}


# -- the sandbox process ------------------------------------------------------------------------


class LagProbe:
    """How late a short sleep wakes up on the event loop: the loop's responsiveness."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.samples: list[float] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, loop.time() - start - self.interval))


def cpu_seconds() -> float:
    """User + system CPU of this process and of the children it waited for (git)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def counters(sandbox: Sandbox) -> dict[str, Any]:
    flux = sandbox.flux
    stats = getattr(flux, "stats", None)
    out: dict[str, Any] = {"fetch_log": len(flux.fetch_log)}
    if callable(stats):
        out.update(stats())
    return out


async def serve(args: argparse.Namespace) -> None:
    """The sandbox with a lag probe, driven by one JSON command a line on stdin."""
    options = SandboxOptions(
        fleet=args.fleet,
        step_seconds=args.step_seconds,
        emulator=EmulatorConfig(time_scale=args.time_scale, throttling=False),
    )
    sandbox = Sandbox(options)
    endpoints = await sandbox.start()
    probe = LagProbe()
    probe_task = asyncio.create_task(probe.run())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"url": endpoints.arm_url, "ca": str(endpoints.ca_file), "sub": endpoints.subscription_id}))
    sys.stdout.flush()
    cpu0, pushes = cpu_seconds(), 0
    while line := await reader.readline():
        command = json.loads(line)["do"]
        answer: dict[str, Any] = {}
        if command == "reset":
            probe.samples.clear()
            cpu0 = cpu_seconds()
        elif command == "push":
            pushes += 1
            values = tutorial_files()["apps/staging/podinfo-values.yaml"] + f"# push {pushes}\n"
            sha = await asyncio.to_thread(
                sandbox.repos.commit, TUTORIAL_SLUG, {"apps/staging/podinfo-values.yaml": values}, f"push {pushes}"
            )
            answer = {"sha": sha, "nudged": sandbox.flux.repository_pushed(TUTORIAL_URL, "main")}
        elif command == "stats":
            lag = probe.samples
            answer = {
                "cpu": cpu_seconds() - cpu0,
                "lag_ms": [round(1000 * percentile(lag, q), 1) for q in (0.5, 0.99, 1.0)],
                **counters(sandbox),
            }
        elif command == "quit":
            break
        print(json.dumps(answer))
        sys.stdout.flush()
    probe_task.cancel()
    await sandbox.stop()


# -- the client ---------------------------------------------------------------------------------


@dataclass
class Client:
    session: aiohttp.ClientSession
    url: str
    sub: str
    latencies: list[float] = field(default_factory=list)

    async def call(self, method: str, path: str, api: str, body: Any = None) -> tuple[int, Any]:
        started = time.perf_counter()
        async with self.session.request(method, f"{self.url}{path}?api-version={api}", json=body) as response:
            data = await response.json(content_type=None)
            if method == "GET":
                self.latencies.append(time.perf_counter() - started)
            return response.status, data

    async def fleet(self) -> list[str]:
        """The ids of the generated clusters, read through the paged resource listing."""
        ids: list[str] = []
        next_url: str | None = f"{self.url}/subscriptions/{self.sub}/resources?api-version=2021-04-01"
        while next_url:
            async with self.session.get(next_url) as response:
                page = await response.json()
            ids += [r["id"] for r in page["value"] if r.get("tags", {}).get("fleet") == "true"]
            next_url = page.get("nextLink")
        return ids


async def each(items: list[str], work: Callable[[str], Awaitable[None]], concurrency: int) -> None:
    queue = list(reversed(items))

    async def worker() -> None:
        while queue:
            await work(queue.pop())

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def until_all(client: Client, ids: list[str], ok: Callable[[dict[str, Any]], bool], concurrency: int) -> None:
    """Poll every configuration with GET until ``ok`` holds for each."""
    pending = set(ids)

    async def poll(cluster_id: str) -> None:
        path = f"{cluster_id}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/{CONFIG}"
        status, body = await client.call("GET", path, FLUX_API)
        if status == 200 and ok(body["properties"]):
            pending.discard(cluster_id)

    while pending:
        await each(sorted(pending), poll, concurrency)
        if pending:
            await asyncio.sleep(0.5)


def applied(properties: dict[str, Any], sha: str) -> bool:
    """Compliant with every kustomization applied at commit ``sha`` (not only fetched)."""
    kustomizations = [s for s in properties.get("statuses") or [] if s.get("kind") == "Kustomization"]
    return (
        properties.get("complianceState") == "Compliant"
        and len(kustomizations) == len(KUSTOMIZATIONS)
        and all(s["statusConditions"][0]["message"].endswith(sha) for s in kustomizations)
    )


class Child:
    def __init__(self, args: argparse.Namespace) -> None:
        command = [sys.executable, __file__, "--serve", "--fleet", str(args.fleet)]
        command += ["--time-scale", str(args.time_scale), "--step-seconds", str(args.step_seconds)]
        if args.profile:
            command += ["--profile", args.profile]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.hello = self._line()

    def _line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox process ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"do": command}) + "\n")
        self.proc.stdin.flush()
        return await asyncio.to_thread(self._line)

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.write(json.dumps({"do": "quit"}) + "\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def phase_line(name: str, seconds: float, stats: dict[str, Any], latencies: list[float]) -> str:
    lag = "/".join(str(v) for v in stats["lag_ms"])
    get_p99 = round(1000 * percentile(latencies, 0.99), 1)
    return (
        f"{name}: Compliant in {seconds:.1f}s, cpu {stats['cpu']:.1f}s, lag p50/p99/max {lag} ms, GET p99 {get_p99} ms"
    )


async def drive(args: argparse.Namespace) -> str:
    child = Child(args)
    try:
        tls = ssl.create_default_context(cafile=child.hello["ca"])
        headers = {"Authorization": "Bearer bench"}
        connector = aiohttp.TCPConnector(ssl=tls, limit=args.concurrency)
        async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
            client = Client(session, child.hello["url"], child.hello["sub"])
            ids = await client.fleet()

            async def install(cluster_id: str) -> None:
                body = {"properties": {"extensionType": "microsoft.flux", "autoUpgradeMinorVersion": True}}
                path = f"{cluster_id}/providers/Microsoft.KubernetesConfiguration/extensions/flux"
                status, answer = await client.call("PUT", path, EXT_API, body)
                assert status in (200, 201), answer

            await each(ids, install, args.concurrency)
            await asyncio.sleep(1.5)  # the extension operations finish on the emulator's timers
            parts: list[str] = []
            await child.ask("reset")
            client.latencies.clear()
            started = time.monotonic()

            async def create(cluster_id: str) -> None:
                body = {
                    "properties": {
                        "scope": "cluster",
                        "namespace": CONFIG,
                        "sourceKind": "GitRepository",
                        "gitRepository": {"url": TUTORIAL_URL, "repositoryRef": {"branch": "main"}},
                        "kustomizations": KUSTOMIZATIONS,
                    }
                }
                path = f"{cluster_id}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/{CONFIG}"
                status, answer = await client.call("PUT", path, FLUX_API, body)
                assert status in (200, 201), answer

            await each(ids, create, args.concurrency)
            await until_all(client, ids, lambda p: p.get("complianceState") == "Compliant", args.concurrency)
            parts.append(phase_line("create", time.monotonic() - started, await child.ask("stats"), client.latencies))

            await child.ask("reset")
            client.latencies.clear()
            started = time.monotonic()
            pushed = await child.ask("push")
            sha = pushed["sha"]
            await until_all(client, ids, lambda p: applied(p, sha), args.concurrency)
            parts.append(phase_line("push", time.monotonic() - started, await child.ask("stats"), client.latencies))

            await child.ask("reset")
            await asyncio.sleep(args.idle_seconds)
            idle = await child.ask("stats")
            lag = "/".join(str(v) for v in idle["lag_ms"])
            parts.append(f"idle: cpu {idle['cpu'] / args.idle_seconds:.2f} s/s, lag p50/p99/max {lag} ms")
            shared = {k: v for k, v in idle.items() if k not in ("cpu", "lag_ms")}
            parts.append(" ".join(f"{k} {v}" for k, v in shared.items()))
        return f"fluxsim_scale: {len(ids)} configs | " + " | ".join(parts)
    finally:
        child.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", type=int, default=1000)
    parser.add_argument("--time-scale", type=float, default=10.0, help="simulated seconds per real second")
    parser.add_argument("--step-seconds", type=float, default=0.7, help="pace of the simulated agent")
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP requests in flight")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--profile", help="write a cProfile of the sandbox's event loop thread here")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        try:
            asyncio.run(serve(args))
        finally:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
        return 0
    print(asyncio.run(drive(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
