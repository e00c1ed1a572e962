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
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import SECRET, WEBHOOK_PATH, Round, closed_loop, push_body
from bench.servers import clean_env, redis_server, start_baseline, start_web

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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time ``pid`` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one round (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per server (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="requests in flight (default 32)")
    args = parser.parse_args()
    body = push_body()
    results: dict[str, list[Round]] = {"fluxops": [], "baseline": []}
    #: CPU microseconds per request of the server process, per round: a figure the machine's other load moves less
    cpu: dict[str, list[float]] = {"fluxops": [], "baseline": []}
    #: and of its redis-server: the script that records a job costs Redis more than the baseline's LPUSH
    redis_cpu: dict[str, list[float]] = {"fluxops": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="fluxops-bench-") as tmp, contextlib.ExitStack() as cleanup:
        stores = [redis_server(Path(tmp) / name, cleanup) for name in ("a", "b")]
        env = clean_env(GITHUB_WEBHOOK_SECRET=SECRET, REDIS_URL=stores[0].url)
        ours = start_web(env, Path(tmp) / "web.log", cleanup)
        base = start_baseline("baseline", BASELINE, [stores[1].url, SECRET], env, Path(tmp) / "baseline.log", cleanup)
        for server in (ours, base):  # warm both up
            asyncio.run(closed_loop(server.base_url + WEBHOOK_PATH, body, 0.5, args.connections))
        for _ in range(args.rounds):
            for server, store in ((base, stores[1]), (ours, stores[0])):
                used, store_used = cpu_seconds(server.process.pid), cpu_seconds(store.proc.pid)
                outcome = asyncio.run(closed_loop(server.base_url + WEBHOOK_PATH, body, args.seconds, args.connections))
                per_request = 1e6 * (cpu_seconds(server.process.pid) - used) / max(1, outcome.requests)
                store_per_request = 1e6 * (cpu_seconds(store.proc.pid) - store_used) / max(1, outcome.requests)
                results[server.name].append(outcome)
                cpu[server.name].append(per_request)
                redis_cpu[server.name].append(store_per_request)
                print(
                    f"  {server.name:8} {outcome.rate:7.0f} req/s  p99 {outcome.p99_ms:6.1f} ms  "
                    f"cpu {per_request:5.0f} us/req (redis {store_per_request:3.0f})  errors {outcome.errors}",
                    file=sys.stderr,
                    flush=True,
                )
    mine, theirs = results["fluxops"], results["baseline"]
    rate = statistics.median(r.rate for r in mine)
    base_rate = statistics.median(r.rate for r in theirs)
    p99 = statistics.median(r.p99_ms for r in mine)
    base_p99 = statistics.median(r.p99_ms for r in theirs)
    failed = sum(r.errors for r in mine + theirs)
    per_request, base_per_request = statistics.median(cpu["fluxops"]), statistics.median(cpu["baseline"])
    in_redis, base_in_redis = statistics.median(redis_cpu["fluxops"]), statistics.median(redis_cpu["baseline"])
    print(
        f"ingress: fluxops {rate:.0f} req/s p99 {p99:.0f} ms; baseline {base_rate:.0f} req/s p99 {base_p99:.0f} ms; "
        f"ratio {rate / base_rate:.2f}x; web CPU per request {per_request:.0f} us vs {base_per_request:.0f} us "
        f"(ratio {base_per_request / per_request:.2f}x); "
        f"redis CPU per request {in_redis:.0f} us vs {base_in_redis:.0f} us; errors {failed}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
