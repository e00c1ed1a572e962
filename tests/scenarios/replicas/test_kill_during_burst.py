"""200 slash commands and push deliveries over 2 webs and 2 workers; one web and one worker are killed (-9) in
the middle. Every request fluxops accepted becomes a job that ends exactly once: its record ends succeeded, it
posts one Slack message, a mutation writes ARM once and the audit log once, and a delivery sent twice (to both
webs) is one job."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import aiohttp
import redis

from bot.views import Phase
from tests.scenarios.replicas.burst import Answer, Balancer, Request, burst, github_push, slack_command
from tests.scenarios.replicas.replica_stack import ReplicaStack, ReplicaStackThread
from tests.scenarios.replicas.scenario_checks import (
    accepted_puts,
    audit_entries,
    create_text,
    set_faults,
    slack_posts,
    wait_for,
    worker_of,
)
from tests.scenarios.replicas.test_graceful_stop import restart

MUTATIONS = 16
STATUSES = 100
PUSHES = 72
DUPLICATES = 12  # deliveries GitHub sends twice; the copy goes to whichever web is next
#: the create whose worker is killed inside its ARM operation (it must resume, not PUT again)
HELD = "rep-held"


def the_burst(thread: ReplicaStackThread, stack: ReplicaStack) -> list[Request]:
    async def build() -> list[Request]:
        mutations = [slack_command(stack, create_text(HELD))]
        mutations += [slack_command(stack, create_text(f"rep-{i:02d}")) for i in range(MUTATIONS - 1)]
        # many people in the channel: anyone may read, and each person has a rate limit
        statuses = [slack_command(stack, "status -c demo-arc", user_id=f"U0READER{n:03d}") for n in range(STATUSES)]
        pushes = [github_push(stack, n) for n in range(PUSHES)]
        again = [github_push(stack, n * 5, delivery=pushes[n * 5].key) for n in range(DUPLICATES)]
        # interleaved, so each kind meets both webs, both workers and both kills
        mixed: list[Request] = []
        parts = [mutations, statuses, pushes, again]
        while any(parts):
            for part in parts:
                if part:
                    mixed.append(part.pop(0))
        return mixed

    return thread.call(build())


def test_killing_a_web_and_a_worker_mid_burst_loses_no_accepted_job_and_runs_none_twice(
    replica_thread: ReplicaStackThread, replicas: ReplicaStack, redis_client: redis.Redis
) -> None:
    stack = replicas
    planned = the_burst(replica_thread, stack)
    assert len(planned) == 200
    killed: dict[str, str] = {}

    def held_job() -> str | None:
        for key in redis_client.scan_iter("fluxops:job:*"):
            if redis_client.hget(key, "text") == create_text(HELD) and redis_client.hget(key, "p:token:write"):
                return str(key).removeprefix("fluxops:job:")
        return None

    async def kill_worker() -> None:
        """kill -9 of the worker running the held create, inside its ARM operation."""
        job = await asyncio.to_thread(wait_for, "the held create to start its ARM operation", held_job, 60)
        killed["worker"] = worker_of(stack, redis_client, job)
        killed["held job"] = job
        stack.kill_process(killed["worker"], signal.SIGKILL)

    async def kill_web() -> None:
        stack.kill_process("web-1", signal.SIGKILL)
        killed["web"] = "web-1"

    async def send() -> list[Answer]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            balancer = Balancer(stack.web_urls, session)
            return await burst(balancer, planned, concurrency=12, events={40: kill_worker, 80: kill_web})

    # the held create's ARM operation stays InProgress long enough to kill its worker inside it
    set_faults(stack, [{"method": "PUT", "path": f"fluxConfigurations/{HELD}$", "operation": "slow", "seconds": 6}])
    try:
        answers = replica_thread.call(send(), timeout=240)
        accepted = [a for a in answers if a.accepted]
        jobs = {str(a.job_id) for a in accepted}

        def pending() -> dict[str, str | None]:
            phases = {j: redis_client.hget(f"fluxops:job:{j}", "p:phase") for j in jobs}
            return {j: p for j, p in phases.items() if p is None or not Phase(p).terminal}

        try:
            wait_for("every accepted job to end", lambda: not pending(), within=150)
        except AssertionError as error:
            raise AssertionError(f"{error}: {pending()} (killed: {killed})") from None
    finally:
        set_faults(stack, [])
        for name in ("web-1", killed.get("worker", "")):
            if name and name not in stack.children:
                restart(replica_thread, stack, name)

    # the kills hit the burst: both webs answered, and the dead web cut requests short
    by_web = Counter(a.web for a in accepted)
    assert by_web["web-1"] > 0 and by_web["web-2"] > 0, by_web
    assert set(killed) == {"worker", "held job", "web"}
    # every request was accepted in the end but slash commands the dead web took and never answered
    lost = [a for a in answers if not a.accepted]
    assert all(a.request.kind == "slack" and a.unanswered == ["web-1"] for a in lost), lost
    assert len(accepted) >= 200 - 12
    assert all(a.status in (200, 202) for a in accepted)

    # every accepted job ended, and ended well
    phases = Counter(redis_client.hget(f"fluxops:job:{j}", "p:phase") for j in jobs)
    assert phases == {Phase.SUCCEEDED.value: len(jobs)}, phases

    # a delivery sent twice, once to each web or both to one, is one job; distinct deliveries are distinct jobs
    by_delivery: dict[str, set[str]] = {}
    for a in accepted:
        if a.request.kind == "github":
            by_delivery.setdefault(a.request.key, set()).add(str(a.job_id))
    assert len(by_delivery) == PUSHES
    assert all(len(ids) == 1 for ids in by_delivery.values()), by_delivery
    assert len({next(iter(ids)) for ids in by_delivery.values()}) == PUSHES
    copies = [a for a in accepted if a.request.kind == "github" and a.duplicate]
    assert len(copies) >= DUPLICATES

    # each Slack command's job posted its one message (edited in place from then on), however many workers ran it
    posts = slack_posts(stack)
    slack_jobs = {str(a.job_id) for a in accepted if a.request.kind == "slack"}
    assert {j: posts[j] for j in slack_jobs} == dict.fromkeys(slack_jobs, 1)

    # each mutation wrote ARM once and the audit log once, the held one too, though its worker died inside it
    puts = accepted_puts(stack)
    creates = {a.request.key.split()[2]: str(a.job_id) for a in accepted if a.request.key.startswith("config create")}
    assert HELD in creates and creates[HELD] == killed["held job"]
    # The held create's PUT was accepted and its operation saved before the kill: it is not sent again. The
    # killed worker runs two jobs at once, so one other create may have died between ARM accepting its PUT and
    # the job saving the operation: the job that takes it over sends the same PUT again (idempotent, same body).
    assert puts[HELD] == 1, f"{HELD}: {puts[HELD]} PUTs"
    resent = {name: puts[name] for name in creates if puts[name] != 1}
    assert len(resent) <= 1 and all(count == 2 for count in resent.values()), resent
    for name, job_id in creates.items():
        assert [e["result"] for e in audit_entries(redis_client, job_id)] == ["succeeded"], name
