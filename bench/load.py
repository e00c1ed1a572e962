"""Load from signed GitHub branch pushes, each with its own delivery id (so none is a duplicate).

Two ways to load a receiver:
- ``closed_loop``: ``connections`` clients, each sending its next push as soon as the last was answered: the most
  the receiver takes (its capacity);
- ``paced``: pushes sent at a fixed rate whatever the answers (an open loop), at most ``connections`` in flight.

Run as ``python -m bench.load --url URL [--rate R]`` it loads from a process of its own (so the process timing
something else is not the one busy sending) and prints its ``Round`` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.github import payloads  # noqa: E402  (after the path is set)

SECRET = "bench-webhook-secret"  # noqa: S105 - the benchmarks' own webhook, on loopback
WEBHOOK_PATH = "/webhooks/github"


def push_body() -> bytes:
    """A push of one commit to the default branch of a repository (as GitHub sends it)."""
    repo = payloads.repository(full_name="contoso/fleet-config", repo_id=4242)
    sha = hashlib.sha1(b"bench").hexdigest()  # noqa: S324 - a commit id, not security
    commit = payloads.commit(
        sha=sha, message="apps: podinfo 6.1.0", author="octocat", timestamp="2026-12-03T12:00:00Z", repo=repo
    )
    body = payloads.push(
        repo=repo, ref="refs/heads/main", before="0" * 39 + "1", after=sha, pusher="octocat", commits=[commit]
    )
    return json.dumps(body).encode()


def headers_for(body: bytes, secret: str = SECRET) -> dict[str, str]:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": signature,
    }


def percentile(values: list[float], fraction: float) -> float:
    """The value ``fraction`` of the way up ``values`` (nearest rank below); nan when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


@dataclass
class Round:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def p99_ms(self) -> float:
        return 1000 * percentile(self.latencies, 0.99)


async def closed_loop(url: str, body: bytes, seconds: float, connections: int, secret: str = SECRET) -> Round:
    """``connections`` clients sending pushes back to back for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal errors
            while time.monotonic() < stop:
                began = time.perf_counter()
                async with session.post(url, data=body, headers=headers_for(body, secret)) as response:
                    await response.read()
                    if response.status != 202:
                        errors += 1
                latencies.append(time.perf_counter() - began)

        began = time.monotonic()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.monotonic() - began
    return Round(len(latencies), elapsed, latencies, errors)


async def paced(url: str, body: bytes, rate: float, seconds: float, connections: int, secret: str = SECRET) -> Round:
    """Pushes at ``rate`` a second for ``seconds``, whatever the answers; one due while ``connections`` are in
    flight waits for a free one (so a receiver slower than ``rate`` shows as a lower achieved rate)."""
    latencies: list[float] = []
    errors = 0
    free = asyncio.Semaphore(connections)
    in_flight: set[asyncio.Task[None]] = set()
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send() -> None:
            nonlocal errors
            async with free:
                began = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers_for(body, secret)) as response:
                        await response.read()
                        if response.status != 202:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        sent = 0
        while (now := time.perf_counter() - began) < seconds:
            for _ in range(int(now * rate) + 1 - sent):  # those due by now; the loop wakes every few ms
                task = asyncio.create_task(send())
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                sent += 1
            await asyncio.sleep(0.004)
        await asyncio.gather(*in_flight)
        elapsed = time.perf_counter() - began
    return Round(len(latencies), elapsed, latencies, errors)


def start_load(
    url: str, seconds: float, *, rate: float = 0.0, connections: int = 32, secret: str = SECRET
) -> subprocess.Popen[str]:
    """``python -m bench.load``: pushes to ``url`` from a process of its own (``rate`` 0: a closed loop);
    ``finish_load`` waits for its ``Round``."""
    command = [sys.executable, "-m", "bench.load", "--url", url, "--seconds", str(seconds)]
    command += ["--rate", str(rate), "--connections", str(connections), "--secret", secret]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def finish_load(process: subprocess.Popen[str], timeout: float = 120.0) -> Round:
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"the load generator exited with {process.returncode}")
    data = json.loads(output.strip().splitlines()[-1])
    return Round(
        int(data["requests"]), float(data["seconds"]), [float(x) for x in data["latencies"]], int(data["errors"])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the receiver, e.g. http://127.0.0.1:8080/webhooks/github")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=0.0, help="pushes a second (default 0: as fast as answered)")
    parser.add_argument("--secret", default=SECRET, help="the webhook secret that signs the pushes")
    args = parser.parse_args()
    body = push_body()
    if args.rate > 0:
        outcome = asyncio.run(paced(args.url, body, args.rate, args.seconds, args.connections, args.secret))
    else:
        outcome = asyncio.run(closed_loop(args.url, body, args.seconds, args.connections, args.secret))
    print(json.dumps(asdict(outcome)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
