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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one round (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per server (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="requests in flight (default 32)")
    args = parser.parse_args()
    body = push_body()
    results: dict[str, list[Round]] = {"fluxops": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="fluxops-bench-") as tmp, contextlib.ExitStack() as cleanup:
        stores = [redis_server(Path(tmp) / name, cleanup) for name in ("a", "b")]
        env = clean_env(GITHUB_WEBHOOK_SECRET=SECRET, REDIS_URL=stores[0].url)
        ours = start_web(env, Path(tmp) / "web.log", cleanup)
        base = start_baseline("baseline", BASELINE, [stores[1].url, SECRET], env, Path(tmp) / "baseline.log", cleanup)
        for server in (ours, base):  # warm both up
            asyncio.run(closed_loop(server.base_url + WEBHOOK_PATH, body, 0.5, args.connections))
        for _ in range(args.rounds):
            for server in (base, ours):
                outcome = asyncio.run(closed_loop(server.base_url + WEBHOOK_PATH, body, args.seconds, args.connections))
                results[server.name].append(outcome)
                print(
                    f"  {server.name:8} {outcome.rate:7.0f} req/s  p99 {outcome.p99_ms:6.1f} ms  "
                    f"errors {outcome.errors}",
                    file=sys.stderr,
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
