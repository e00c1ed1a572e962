"""Two beats on one Redis, as the beat Deployment runs them: only the holder of the leader lease sends the
schedule, so each period's recovery sweep is sent once, not twice; kill -9 of the leader and the other beat
takes the lease once it runs out and sends from then on."""

from __future__ import annotations

import signal

import redis

from tests.scenarios.replicas.conftest import OPTIONS
from tests.scenarios.replicas.replica_stack import ReplicaStack, ReplicaStackThread
from tests.scenarios.replicas.scenario_checks import wait_for
from tests.scenarios.replicas.test_graceful_stop import restart
from workers.beat_leader import LEADER_KEY

SWEEP = "Sending due task recover-orphaned-jobs"
TTL = float(OPTIONS.extra_env["FLUXOPS_BEAT_LOCK_TTL"])


def leader(stack: ReplicaStack, client: redis.Redis) -> str | None:
    """The beat replica holding the lease (its value is host:pid:nonce), or None while nobody holds it."""
    holder = client.get(LEADER_KEY)
    if holder is None:
        return None
    pid = int(str(holder).split(":")[1])
    return next((n for n, child in stack.children.items() if n.startswith("beat-") and child.pid == pid), None)


def sweeps(stack: ReplicaStack, name: str) -> int:
    return stack.log_text(name).count(SWEEP)


def test_two_beats_send_each_sweep_once_and_the_standby_takes_over_from_a_killed_leader(
    replica_thread: ReplicaStackThread, replicas: ReplicaStack, redis_client: redis.Redis
) -> None:
    stack = replicas
    first = wait_for("a beat to hold the lease", lambda: leader(stack, redis_client))
    [standby] = [n for n in ("beat-1", "beat-2") if n != first]
    wait_for("the standby to stand by", lambda: "stands by" in stack.log_text(standby))
    sent = {name: sweeps(stack, name) for name in (first, standby)}

    wait_for("five more sweeps", lambda: sweeps(stack, first) >= sent[first] + 5, within=60)
    assert sweeps(stack, standby) == sent[standby], "the standby sent nothing: each sweep went out once"

    stack.kill_process(first, signal.SIGKILL)  # no clean exit: its lease must run out
    before = sweeps(stack, standby)
    # a hang guard, not a timing test: a lease that never ran out would stop the schedule for good
    wait_for("the standby to send", lambda: sweeps(stack, standby) > before, within=10 * TTL)
    assert leader(stack, redis_client) == standby
    assert "leads" in stack.log_text(standby)

    # the killed beat comes back (as its pod would) and stands by while the new leader lives
    offset = len(stack.log_text(first))
    restart(replica_thread, stack, first)
    wait_for("the restarted beat to stand by", lambda: "stands by" in stack.log_text(first)[offset:])
    resent = sweeps(stack, standby)
    wait_for("three more sweeps", lambda: sweeps(stack, standby) >= resent + 3, within=60)
    assert SWEEP not in stack.log_text(first)[offset:], "the restarted beat sent nothing"
    assert leader(stack, redis_client) == standby
