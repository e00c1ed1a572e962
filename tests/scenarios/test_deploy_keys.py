"""Deploy keys end to end: `--deploy-key generate` on a private GitHub repository, zero-downtime rotation
(resumed after the worker is killed after each step, retried through GitHub 500s, rolled back when the new
key does not work), rotation by age from beat, and a scan of everything the fakes, the logs and Redis hold
for a private key.

The simulated Flux fetches the private repository only with a deploy key registered on it in the fake
GitHub, and records every fetch attempt with the key's fingerprint: "the source never failed a fetch" is
read from that record.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from cli.chat import Chat, Target
from cli.slack_text import blocks_to_text
from sandbox.fluxsim import FetchAttempt
from sandbox.git_access import DeployKey
from sandbox.stack import CHANNEL, YOU, Stack
from sandbox.tutorial_repo import tutorial_files
from tests.scenarios.git_helpers import github, wait_for

REPO = "fluxops-sandbox/private-apps"
URL = f"ssh://git@github.com/{REPO}"
CLUSTER = "fleet-0000"
CONFIG = "dk-demo"
#: every OpenSSH private key, in text or base64, contains one of these
PRIVATE_KEY_MARKERS = (
    "BEGIN OPENSSH PRIVATE KEY",
    "PRIVATE KEY-----",
    base64.b64encode(b"openssh-key-v1").decode()[:18],
    base64.b64encode(b"-----BEGIN OPENSSH").decode()[:22],
)
#: private keys fluxops handed to Azure during these tests (read back from the emulator's records)
SEEN_PRIVATE_KEYS: set[str] = set()


def deploy_keys(stack: Stack) -> list[DeployKey]:
    return stack.sandbox.access.deploy_keys("github.com", REPO)


def job_id_of(ack: dict[str, Any]) -> str:
    assert ack["status"] == 200, ack
    return str(ack["body"]["text"]).split("job ")[1].split(".")[0].strip("` ")


def job_text(chat: Chat, job_id: str) -> str:
    messages = [m for m in chat.job_messages(job_id) if not m.get("ephemeral")]
    return "\n".join(blocks_to_text(m.get("blocks") or [], str(m.get("text") or "")) for m in messages)


def remember_private_key(stack: Stack) -> None:
    """The key the configuration holds now, as ARM stored it (for the final scan)."""
    for cluster in stack.sandbox.world.clusters.values():
        record = cluster.flux_configs.get(CONFIG)
        if cluster.name == CLUSTER and record is not None and record.protected.get("sshPrivateKey"):
            encoded = record.protected["sshPrivateKey"]
            SEEN_PRIVATE_KEYS.add(encoded)
            SEEN_PRIVATE_KEYS.add(base64.b64decode(encoded).decode())


def fetches(stack: Stack, since: float) -> list[FetchAttempt]:
    return stack.sandbox.flux.fetch_attempts(cluster_name=CLUSTER, config=CONFIG, since_wall=since)


def github_requests(stack: Stack) -> list[dict[str, Any]]:
    response = requests.get(f"{stack.github_url}_sandbox/requests", timeout=30)
    data = response.json()
    return list(data.get("requests", data) if isinstance(data, dict) else data)


def key_calls(stack: Stack, method: str, start: int) -> list[dict[str, Any]]:
    return [r for r in github_requests(stack)[start:] if r["method"] == method and f"/repos/{REPO}/keys" in r["path"]]


def compliant(stack: Stack) -> bool:
    for cluster in stack.sandbox.world.clusters.values():
        record = cluster.flux_configs.get(CONFIG)
        if cluster.name == CLUSTER and record is not None:
            return bool(record.properties.get("complianceState") == "Compliant")
    return False


@pytest.fixture(scope="module")
def keyed(stack: Stack) -> DeployKey:
    """dk-demo on fleet-0000 reads the private repository with a deploy key fluxops generated."""
    chat = Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)
    stack.sandbox.repos.create_repo(REPO, tutorial_files(), private=True)
    command = (
        f"/flux config create {CONFIG} -c {CLUSTER} --namespace {CONFIG} -u {URL} --branch main --interval 1m "
        "--deploy-key generate --kustomization name=infra path=./infrastructure prune=true"
    )
    assert chat.run(command) == 0
    remember_private_key(stack)
    keys = deploy_keys(stack)
    assert len(keys) == 1
    return keys[0]


def test_generate_registers_one_read_only_key_and_the_configuration_is_compliant(
    stack: Stack, chat: Chat, keyed: DeployKey
) -> None:
    assert keyed.read_only
    assert "fluxops" in keyed.title and CONFIG in keyed.title and CLUSTER in keyed.title
    assert compliant(stack)
    ok = [a for a in fetches(stack, 0) if a.ok]
    assert ok and ok[-1].fingerprint == keyed.fingerprint, "Flux fetched with the generated key"
    status = job_id_of(chat.send(f"/flux key status {CONFIG} -c {CLUSTER}"))
    assert chat.follow(status) == 0
    shown = job_text(chat, status)
    assert keyed.fingerprint in shown and "next rotation in" in shown, shown


def rotate(stack: Stack, chat: Chat, redis_client: redis.Redis, failpoint: str | None = None) -> tuple[str, str]:
    """Rotate dk-demo's key (killing the worker at ``failpoint`` when given); (job id, final text)."""
    if failpoint is not None:
        redis_client.hset("fluxops:failpoints", f"rotate.{failpoint}", "pause")
    job_id = job_id_of(chat.send(f"/flux key rotate {CONFIG} -c {CLUSTER}"))
    if failpoint is not None:
        reached = f"fluxops:failpoints:reached:rotate.{failpoint}"
        wait_for(f"the rotation to reach {failpoint}", lambda: redis_client.get(reached) == job_id, timeout=120)
        stack.kill_process("worker", signal.SIGKILL)
        redis_client.hdel("fluxops:failpoints", f"rotate.{failpoint}")
        redis_client.delete(reached)
        stack.start_process("worker")
    code = chat.follow(job_id)
    text = job_text(chat, job_id)
    assert code == 0, text
    return job_id, text


def test_rotation_replaces_the_key_without_a_failed_fetch(
    stack: Stack, chat: Chat, redis_client: redis.Redis, keyed: DeployKey
) -> None:
    before = deploy_keys(stack)
    assert len(before) == 1
    start, mark = time.time(), len(github_requests(stack))
    _, text = rotate(stack, chat, redis_client)
    remember_private_key(stack)
    after = deploy_keys(stack)
    assert len(after) == 1 and after[0].fingerprint != before[0].fingerprint, "new key in place, old key gone"
    assert after[0].read_only and "Rotated" in text
    attempts = fetches(stack, start)
    assert attempts and all(a.ok for a in attempts), [a.message for a in attempts if not a.ok]
    assert {a.fingerprint for a in attempts} >= {after[0].fingerprint}, "Flux fetched with the new key"
    assert len(key_calls(stack, "POST", mark)) == 1 and len(key_calls(stack, "DELETE", mark)) == 1


@pytest.mark.parametrize("step", ["register", "switch", "verify", "revoke", "recheck"])
def test_a_worker_killed_after_each_step_still_completes_the_rotation_once(
    stack: Stack, chat: Chat, redis_client: redis.Redis, keyed: DeployKey, step: str
) -> None:
    before = deploy_keys(stack)
    start, mark = time.time(), len(github_requests(stack))
    job_id, text = rotate(stack, chat, redis_client, failpoint=step)
    remember_private_key(stack)
    after = deploy_keys(stack)
    assert len(after) == 1 and after[0].fingerprint != before[0].fingerprint
    assert len(key_calls(stack, "POST", mark)) == 1, "one new key registered across both workers"
    assert len(key_calls(stack, "DELETE", mark)) == 1, "the old key revoked once"
    attempts = fetches(stack, start)
    assert all(a.ok for a in attempts), [a.message for a in attempts if not a.ok]
    assert "Rotated" in text
    audit = [f for _, f in redis_client.xrange("fluxops:audit") if f.get("job_id") == job_id]
    assert len(audit) == 1 and audit[0]["result"] == "succeeded"


def test_github_500_on_the_revoke_is_retried(
    stack: Stack, chat: Chat, redis_client: redis.Redis, keyed: DeployKey
) -> None:
    fault = {"kind": "error", "status": 500, "method": "DELETE", "path": f"/repos/{REPO}/keys/", "count": 2}
    assert requests.post(f"{stack.github_url}_sandbox/faults", json=fault, timeout=30).status_code < 300
    mark = len(github_requests(stack))
    _, text = rotate(stack, chat, redis_client)
    remember_private_key(stack)
    deletes = [r["status"] for r in key_calls(stack, "DELETE", mark)]
    assert deletes == [500, 500, 204], deletes
    assert len(deploy_keys(stack)) == 1 and "Rotated" in text


def test_a_new_key_that_fails_verification_is_rolled_back_and_the_team_told(
    stack: Stack, chat: Chat, keyed: DeployKey
) -> None:
    before = deploy_keys(stack)
    github(stack, "POST", "faults/deploy-keys", repo=REPO, count=1)
    start = time.time()
    job_id = job_id_of(chat.send(f"/flux key rotate {CONFIG} -c {CLUSTER}"))
    assert chat.follow(job_id) != 0
    text = job_text(chat, job_id)
    assert "Rolled back" in text and "could not fetch with the new key" in text, text
    after = deploy_keys(stack)
    assert [k.fingerprint for k in after] == [before[0].fingerprint], "only the old key is left"
    wait_for("the old key to fetch again", lambda: compliant(stack))
    last = fetches(stack, start)[-1]
    assert last.ok and last.fingerprint == before[0].fingerprint
    remember_private_key(stack)


def test_an_old_key_is_rotated_by_the_schedule_and_the_channel_told(
    stack: Stack, chat: Chat, redis_client: redis.Redis, keyed: DeployKey
) -> None:
    record_key = next(k for k in redis_client.scan_iter("fluxops:keys:record:*"))
    record = json.loads(str(redis_client.get(record_key)))
    old_id = record["key_id"]
    record["created_at"] = time.time() - 91 * 86_400  # past the sandbox policy's max_age of 90d
    redis_client.set(record_key, json.dumps(record))
    job_key = wait_for(
        "beat to start the rotation",
        lambda: next(iter(redis_client.scan_iter(f"fluxops:job:rotate-{old_id}-*")), None),
        timeout=60,
    )
    job_id = str(job_key).removeprefix("fluxops:job:")
    wait_for(
        "the scheduled rotation to finish", lambda: redis_client.hget(job_key, "p:phase") == "succeeded", timeout=180
    )
    assert "Rotated" in job_text(chat, job_id)
    assert old_id not in {
        json.loads(str(redis_client.get(k)))["key_id"] for k in redis_client.scan_iter("fluxops:keys:record:*")
    }
    remember_private_key(stack)


def test_azure_devops_urls_are_refused_with_the_alternatives(chat: Chat) -> None:
    reply = chat.send(
        "/flux config create ado-key -c fleet-0002 -u ssh://git@ssh.dev.azure.com/v3/fluxops-sandbox/gitops/fleet "
        "--branch main --deploy-key generate"
    )
    text = str(reply["body"].get("text"))
    assert "--https-key-ref" in text and "--provider azure" in text, text


# -- the scan -------------------------------------------------------------------------------------


def redis_values(client: redis.Redis) -> list[str]:
    values: list[str] = []
    for key in client.scan_iter():
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "string":
            values.append(str(client.get(key)))
        elif kind == "hash":
            values.append(json.dumps(client.hgetall(key), default=str))
        elif kind == "list":
            values.append(json.dumps(client.lrange(key, 0, -1), default=str))
        elif kind == "set":
            values.append(json.dumps(sorted(map(str, client.smembers(key)))))
        elif kind == "zset":
            values.append(json.dumps(client.zrange(key, 0, -1), default=str))
        elif kind == "stream":
            values.append(json.dumps(client.xrange(key), default=str))
        values.append(str(key))
    return values


def test_no_private_key_anywhere(stack: Stack, redis_client: redis.Redis) -> None:
    assert SEEN_PRIVATE_KEYS, "the tests above handed keys to Azure"
    places: dict[str, str] = {
        "redis": "\n".join(redis_values(redis_client)),
        "github requests": json.dumps(github_requests(stack)),
        "slack calls": requests.get(f"{stack.slack_url}_sandbox/calls", timeout=30).text,
        "azure devops requests": requests.get(f"{stack.ado_url}_sandbox/requests", timeout=30).text,
    }
    for log in Path(stack.state_dir, "logs").glob("*.log"):
        places[f"log {log.name}"] = log.read_text(errors="replace")
    needles = [*PRIVATE_KEY_MARKERS, *SEEN_PRIVATE_KEYS]
    body_lines = {line for key in SEEN_PRIVATE_KEYS for line in key.splitlines() if len(line) > 40}
    for where, text in places.items():
        for needle in [*needles, *body_lines]:
            assert needle not in text, f"{where} holds private key material ({needle[:12]}...)"
    assert re.search(r"ssh-ed25519 AAAA", places["github requests"]), "public halves did go to GitHub"
