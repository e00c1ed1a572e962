"""Attack 7 of docs/security.md: reads leak nothing about clusters the reader has no role on.

With a policy that gives a person a role on one cluster only (and nobody a role everywhere):
- `/flux clusters` lists that cluster, not the others;
- a command naming another cluster gets the same answer as a cluster that does not exist (no name oracle);
- `/flux audit` shows only entries about clusters the reader may see, and `--cluster` of another is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from cli.chat import Chat
from cli.slack_text import blocks_to_text
from sandbox.stack import CHANNEL, YOU, Stack
from tests.scenarios.git_helpers import wait_for
from tests.security.conftest import ArmWrites, refusals

SCOPED = "U0SCOPED"
POLICY = f"""\
clusters:
  demo-arc:
    name: flux-demo-arc
    resource_group: flux-demo-rg
    type: connectedClusters
roles:
  - role: admin
    slack_users: [{YOU}]
  - role: operator
    slack_users: [{SCOPED}]
    clusters: {{names: [flux-demo-arc]}}
deploy_keys:
  channel: {CHANNEL}
"""
TUTORIAL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"

ChatAs = Callable[[str], Chat]


def last_job_text(chat: Chat, job_id: str) -> str:
    def texts() -> list[str]:
        _, messages = chat.messages(0, 0)
        found = [blocks_to_text(m.get("blocks") or [], fallback=str(m.get("text") or "")) for m in messages]
        return [t for t in found if job_id in t and ("Succeeded" in t or "Failed" in t)]

    return wait_for(f"job {job_id} to end", texts)[-1]


def job_of(ack: dict[str, object] | str) -> str:
    text = ack if isinstance(ack, str) else str(ack.get("body"))
    return text[text.index("j-") : text.index("j-") + 14]


def test_clusters_lists_only_what_the_reader_may_see(stack: Stack, chat_as: ChatAs) -> None:
    reader = chat_as(SCOPED)
    shown = last_job_text(reader, job_of(reader.send("/flux clusters")))
    assert "flux-demo-arc" in shown
    assert "flux-demo-aks" not in shown and "fleet-0000" not in shown and "legacy-arc" not in shown
    everything = chat_as(YOU)
    assert "flux-demo-aks" in last_job_text(everything, job_of(everything.send("/flux clusters")))


def test_another_cluster_is_answered_like_one_that_does_not_exist(
    stack: Stack, chat_as: ChatAs, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    reader = chat_as(SCOPED)
    hidden = str(reader.send("/flux config list -c flux-demo-aks").get("body"))
    missing = str(reader.send("/flux config list -c no-such-cluster").get("body"))
    assert "has no role on a cluster named 'flux-demo-aks'" in hidden
    assert hidden.replace("flux-demo-aks", "X") == missing.replace("no-such-cluster", "X")
    assert "did you mean" not in missing.lower()
    assert arm_writes.since() == []
    assert refusals(redis_client, "flux-demo-aks")


def test_audit_shows_only_what_the_reader_may_see(stack: Stack, chat_as: ChatAs, redis_client: redis.Redis) -> None:
    admin = chat_as(YOU)
    assert admin.run(f"/flux config create seen -c flux-demo-arc --namespace seen -u {TUTORIAL} --branch main") == 0
    assert admin.run(f"/flux config create unseen -c flux-demo-aks --namespace unseen -u {TUTORIAL} --branch main") == 0

    reader = chat_as(SCOPED)
    shown = last_job_text(reader, job_of(reader.send("/flux audit")))
    assert "config create seen" in shown and "unseen" not in shown and "flux-demo-aks" not in shown
    refused = str(reader.send("/flux audit --cluster flux-demo-aks").get("body"))
    assert "On it" in refused  # audit runs in the worker, which refuses it
    assert "no role on a cluster named 'flux-demo-aks'" in last_job_text(reader, job_of(refused))
    assert "unseen" in last_job_text(admin, job_of(admin.send("/flux audit")))
