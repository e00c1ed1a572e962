"""Slack ack: how fast the Procfile web acknowledges a signed slash command, quiet and while GitHub pushes load it.

Slack gives an app 3 s to acknowledge a command; fluxops acks after the whole intake (signature, replay guard,
workspace, grammar, rate limit, the decision against the cluster inventory, the job record and its Celery
message in Redis). Commands are ``/flux config list -c CLUSTER`` from a new user each (so the rate limit counts
but never refuses), signed as Slack signs them, sent ``--command-rate`` a second whatever the answers.

First the web's capacity for GitHub pushes is measured (``bench.load`` in a closed loop, from a process of its
own); then rounds alternate: commands alone (quiet), then commands while pushes are paced at ``--load`` of that
capacity (loaded). The web runs on its own redis-server with a cluster inventory as a worker publishes it; a fake
Slack (the sandbox's) answers the web's auth.test.

    ./scripts/bench slack_ack [--commands 200] [--rounds 2] [--load 0.5] [--seconds 5]

The last line: ``slack_ack: quiet p50 X ms p99 X ms; loaded p50 X ms p99 X ms (pushes N req/s = P% of
capacity C req/s); ratio p99 Rx; errors 0``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import SECRET, WEBHOOK_PATH, finish_load, percentile, start_load
from bench.servers import clean_env, redis_server, start_web
from bot.inventory import Inventory
from bot.models import Cluster, ClusterRef, ClusterType
from sandbox.slack import FakeSlack
from sandbox.slack.payloads import slash_command
from sandbox.slack.signing import signed_headers
from workers.redis_names import INVENTORY_KEY

SUBSCRIPTION = "00000000-0000-4000-8000-00000000be4c"
CHANNEL = "C0BENCH"
POLICY = """\
# the benchmark's policy: anyone in the workspace may look at any cluster
roles:
  - role: viewer
    slack_users: ["*"]
"""


def inventory(count: int) -> str:
    """A snapshot of ``count`` clusters, as a worker publishes it in Redis."""
    clusters = [
        Cluster(
            ClusterRef(
                SUBSCRIPTION, "bench-rg", ClusterType.MANAGED if i % 3 else ClusterType.CONNECTED, f"bench-{i:04d}"
            ),
            "westeurope",
            {"env": ("dev", "staging", "prod")[i % 3], "team": f"team-{i % 7}"},
        )
        for i in range(count)
    ]
    return Inventory(clusters).to_json()


@dataclass
class Acks:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def ms(self, fraction: float) -> float:
        return 1000 * percentile(self.latencies, fraction)


class Commands:
    """Slash commands as the fake Slack workspace would send them, each signed when it is sent."""

    def __init__(self, slack: FakeSlack, secret: str, url: str, clusters: int) -> None:
        self.slack = slack
        self.secret = secret
        self.url = url
        self.clusters = clusters
        self.sent = 0

    def next_request(self) -> tuple[bytes, dict[str, str]]:
        state = self.slack.state
        channel = state.channel(CHANNEL)
        assert channel is not None
        user = state.ensure_user(f"U0BENCH{self.sent:06d}")
        response = state.new_response_url(kind="command", channel=channel.id, user=user.id)
        form = slash_command(
            state,
            command="/flux",
            text=f"config list -c bench-{self.sent % self.clusters:04d}",
            user=user,
            channel=channel,
            response_url=f"{self.slack.base_url}_response/{response.id}",
            trigger_id=state.trigger_id(),
        )
        self.sent += 1
        body = urllib.parse.urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(self.secret, body)}
        return body.encode(), headers

    async def send(self, session: aiohttp.ClientSession, count: int, rate: float) -> Acks:
        """``count`` commands at ``rate`` a second (each in its own task: a slow ack delays no other)."""
        acks = Acks()

        async def one(body: bytes, headers: dict[str, str]) -> None:
            began = time.perf_counter()
            try:
                async with session.post(self.url, data=body, headers=headers) as response:
                    text = await response.text()
                    ok = response.status == 200 and "job" in text
            except aiohttp.ClientError:
                ok = False
            acks.latencies.append(time.perf_counter() - began)
            if not ok:
                acks.errors += 1

        tasks = []
        began = time.perf_counter()
        for index in range(count):
            await asyncio.sleep(max(0.0, began + index / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(*self.next_request())))
        await asyncio.gather(*tasks)
        return acks


async def measure(args: argparse.Namespace, tmp: Path, cleanup: contextlib.ExitStack) -> int:
    store = redis_server(tmp / "redis", cleanup)
    redis.Redis.from_url(store.url).set(INVENTORY_KEY, inventory(args.clusters))
    (tmp / "fluxops.yaml").write_text(POLICY)
    signing_secret = secrets.token_hex(16)
    bot_token = f"xoxb-bench-{secrets.token_hex(12)}"
    slack = FakeSlack(bot_token=bot_token, signing_secret=signing_secret, channels={CHANNEL: "bench"})
    await slack.start()
    try:
        env = clean_env(
            REDIS_URL=store.url,
            GITHUB_WEBHOOK_SECRET=SECRET,
            SLACK_SIGNING_SECRET=signing_secret,
            SLACK_BOT_TOKEN=bot_token,
            SLACK_API_URL=slack.api_url,
            FLUXOPS_CONFIG=str(tmp / "fluxops.yaml"),
        )
        web = start_web(env, tmp / "web.log", cleanup)
        commands = Commands(slack, signing_secret, web.base_url + "/slack/events", args.clusters)
        pushes = web.base_url + WEBHOOK_PATH
        async with aiohttp.ClientSession() as session:
            warm = await commands.send(session, 20, args.command_rate)  # and bolt asks the fake Slack who it is
            capacity = await asyncio.to_thread(finish_load, start_load(pushes, args.seconds))
            rate = capacity.rate * args.load
            log(f"capacity {capacity.rate:.0f} pushes/s (p99 {capacity.p99_ms:.1f} ms); loading at {rate:.0f}/s")
            quiet, loaded, held = Acks(), Acks(), []
            window = args.commands / args.command_rate
            for _ in range(args.rounds):
                alone = await commands.send(session, args.commands, args.command_rate)
                load = start_load(pushes, window + 2.0, rate=rate)
                await asyncio.sleep(1.0)  # the load is under way
                busy = await commands.send(session, args.commands, args.command_rate)
                pushed = await asyncio.to_thread(finish_load, load, window + 120)
                held.append(pushed.rate)
                for total, part in ((quiet, alone), (loaded, busy)):
                    total.latencies += part.latencies
                    total.errors += part.errors
                log(
                    f"  quiet p50 {alone.ms(0.5):6.1f} ms p99 {alone.ms(0.99):6.1f} ms | loaded p50 "
                    f"{busy.ms(0.5):6.1f} ms p99 {busy.ms(0.99):6.1f} ms at {pushed.rate:.0f} pushes/s "
                    f"(errors {pushed.errors})"
                )
                loaded.errors += pushed.errors
    finally:
        await slack.stop()
    held_rate = sum(held) / len(held)
    errors = warm.errors + capacity.errors + quiet.errors + loaded.errors
    print(
        f"slack_ack: quiet p50 {quiet.ms(0.5):.1f} ms p99 {quiet.ms(0.99):.1f} ms; "
        f"loaded p50 {loaded.ms(0.5):.1f} ms p99 {loaded.ms(0.99):.1f} ms "
        f"(pushes {held_rate:.0f} req/s = {100 * held_rate / capacity.rate:.0f}% of capacity "
        f"{capacity.rate:.0f} req/s); "
        f"ratio p99 {loaded.ms(0.99) / quiet.ms(0.99):.2f}x; errors {errors}"
    )
    return 1 if errors else 0


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200, help="slash commands per round and kind (default 200)")
    parser.add_argument("--command-rate", type=float, default=20.0, help="slash commands a second (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of quiet then loaded (default 2)")
    parser.add_argument("--load", type=float, default=0.5, help="pushes, as a share of capacity (default 0.5)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the capacity measurement (default 5)")
    parser.add_argument("--clusters", type=int, default=100, help="clusters in the inventory (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fluxops-bench-") as tmp, contextlib.ExitStack() as cleanup:
        return asyncio.run(measure(args, Path(tmp), cleanup))


if __name__ == "__main__":
    sys.exit(main())
