"""Ingress: signed GitHub branch pushes against the Procfile web, against a bare aiohttp baseline.

The baseline is the least any receiver must do: read the body, verify the HMAC, LPUSH it to Redis. fluxops
also checks the headers, parses and normalizes the push, and writes the dedupe key, the job record and the
Celery message in one Redis script. Both run as their own single process on their own redis-server; the load
comes from this process, ``--connections`` at a time, every delivery with its own id (so none is a duplicate).
Rounds alternate (baseline, fluxops, baseline, ...), and the medians of the rounds are reported.

    ./scripts/bench ingress [--seconds 5] [--rounds 2] [--connections 32]

The last line: ``ingress: fluxops N req/s p99 X ms; baseline N req/s p99 X ms; ratio Rx``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.github import payloads  # noqa: E402  (after the path is set)
from sandbox.redis_server import RedisServer, free_port  # noqa: E402

SECRET = "bench-webhook-secret"  # noqa: S105 - the benchmark's own webhook, on loopback


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


def headers_for(body: bytes) -> dict[str, str]:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": signature,
    }


BASELINE = """
import hashlib, hmac, sys
import redis.asyncio as aioredis
from aiohttp import web

secret = sys.argv[3].encode()
client = aioredis.Redis.from_url(sys.argv[2])

async def receive(request):
    body = await request.read()
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        raise web.HTTPUnauthorized()
    await client.lpush("baseline", body)
    return web.json_response({"queued": True}, status=202)

app = web.Application()
app.router.add_post("/webhooks/github", receive)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str


def start(name: str, command: list[str], port: int, env: dict[str, str], log: Path) -> Server:
    """Start a server in a session of its own (``stop`` ends it and anything it started) and wait until it
    listens; its output goes to ``log``."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, process, f"http://127.0.0.1:{port}/webhooks/github")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        except OSError as error:
            if "Connection refused" not in str(error):
                return server  # it answered (404 and such): it listens
        time.sleep(0.1)
        if process.poll() is not None:
            break
    stop(server)
    raise RuntimeError(f"{name} did not start listening on {port}: {log.read_text()[-2000:]}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


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
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


async def load(url: str, body: bytes, seconds: float, connections: int) -> Round:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal errors
            while time.monotonic() < stop:
                began = time.perf_counter()
                async with session.post(url, data=body, headers=headers_for(body)) as response:
                    await response.read()
                    if response.status != 202:
                        errors += 1
                latencies.append(time.perf_counter() - began)

        began = time.monotonic()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.monotonic() - began
    return Round(len(latencies), elapsed, latencies, errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one round (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per server (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="requests in flight (default 32)")
    args = parser.parse_args()
    body = push_body()
    results: dict[str, list[Round]] = {"fluxops": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="fluxops-bench-") as tmp, contextlib.ExitStack() as cleanup:
        stores = []
        for name in ("a", "b"):
            (Path(tmp) / name).mkdir()
            store = RedisServer(Path(tmp) / name)
            cleanup.callback(store.stop)
            stores.append(store)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "ADO_", "AZURE_"))}
        env.update(PYTHONPATH=str(ROOT), GITHUB_WEBHOOK_SECRET=SECRET, REDIS_URL=stores[0].url)
        port = free_port()
        ours = start(
            "fluxops", [sys.executable, "-m", "handlers.web"], port, {**env, "PORT": str(port)}, Path(tmp) / "web.log"
        )
        cleanup.callback(stop, ours)
        port = free_port()
        command = [sys.executable, "-c", BASELINE, str(port), stores[1].url, SECRET]
        base = start("baseline", command, port, env, Path(tmp) / "baseline.log")
        cleanup.callback(stop, base)
        for server in (ours, base):  # warm both up
            asyncio.run(load(server.url, body, 0.5, args.connections))
        for _ in range(args.rounds):
            for server in (base, ours):
                outcome = asyncio.run(load(server.url, body, args.seconds, args.connections))
                results[server.name].append(outcome)
                print(
                    f"  {server.name:8} {outcome.rate:7.0f} req/s  p99 {outcome.p99_ms:6.1f} ms  "
                    f"errors {outcome.errors}",
                    flush=True,
                )
    mine, theirs = results["fluxops"], results["baseline"]
    rate = statistics.median(r.rate for r in mine)
    base_rate = statistics.median(r.rate for r in theirs)
    p99 = statistics.median(r.p99_ms for r in mine)
    base_p99 = statistics.median(r.p99_ms for r in theirs)
    failed = sum(r.errors for r in mine + theirs)
    print(
        f"ingress: fluxops {rate:.0f} req/s p99 {p99:.0f} ms; baseline {base_rate:.0f} req/s p99 {base_p99:.0f} ms; "
        f"ratio {rate / base_rate:.2f}x; errors {failed}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
