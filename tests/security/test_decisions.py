"""Attack 9 of docs/security.md: the worker acts on intake's decision, not on its own reading of the job.

- A queued job acts on the cluster intake resolved (its ARM id), even when the alias it was typed with
  points elsewhere by the time a worker runs it.
- A role revoked between intake and the worker stops the queued job (refused, audited, nothing written).
- Roles given through Slack user groups are carried to the worker with the decision.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from cli.chat import Chat
from cli.slack_text import blocks_to_text
from sandbox.stack import SANDBOX_POLICY, Stack
from tests.scenarios.git_helpers import wait_for
from tests.security.conftest import ArmWrites, refusals

TUTORIAL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
GROUPIE = "U0GROUPIE"
DEPUTY = "U0DEPUTY"
OPS_GROUP = "S0OPS"

#: the sandbox's policy, plus an operator role given through a Slack user group, and a deputy operator
POLICY = SANDBOX_POLICY.replace(
    "  - role: viewer\n",
    f"""  - role: operator
    slack_groups: [{OPS_GROUP}]
  - role: operator
    slack_users: [{DEPUTY}]
    clusters: {{names: [flux-demo-arc, flux-demo-aks]}}
  - role: viewer
""",
    1,
)
#: the same, with the deputy's role gone and the alias demo-arc moved to the AKS cluster
ARC_ALIAS = "    name: flux-demo-arc\n    resource_group: flux-demo-rg\n    type: connectedClusters"
AKS_ALIAS = "    name: flux-demo-aks\n    resource_group: flux-demo-rg\n    type: managedClusters"
DEPUTY_RULE = f"""  - role: operator
    slack_users: [{DEPUTY}]
    clusters: {{names: [flux-demo-arc, flux-demo-aks]}}
"""
REVISED = POLICY.replace(DEPUTY_RULE, "").replace(ARC_ALIAS, AKS_ALIAS)
assert REVISED.count(AKS_ALIAS) == 1 and DEPUTY not in REVISED

ChatAs = Callable[[str], Chat]


def channel_texts(chat: Chat) -> list[str]:
    _, messages = chat.messages(0, 0)
    return [blocks_to_text(m.get("blocks") or [], fallback=str(m.get("text") or "")) for m in messages]


def job_text(chat: Chat, job_id: str, needle: str) -> str:
    return wait_for(
        f"job {job_id}'s message to say {needle!r}",
        lambda: [t for t in channel_texts(chat) if job_id in t and needle in t],
        timeout=120,
        seen=lambda: [t for t in channel_texts(chat) if job_id in t][-2:],
    )[0]


def job_id_of(ack: dict[str, object]) -> str:
    text = str(ack.get("body"))
    start = text.index("j-")
    return text[start : start + 14]


def restart_worker(stack: Stack, policy: str) -> None:
    (stack.state_dir / "fluxops.yaml").write_text(policy)
    stack.start_process("worker")


def test_a_queued_job_acts_on_the_decided_cluster_and_under_the_current_policy(
    stack: Stack, chat_as: ChatAs, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    admin = chat_as("U0SANDBOX")
    assert admin.run(f"/flux config create moved -c flux-demo-arc --namespace moved -u {TUTORIAL} --branch main") == 0
    assert admin.run(f"/flux config create moved -c flux-demo-aks --namespace moved -u {TUTORIAL} --branch main") == 0
    mark = ArmWrites(stack)

    stack.kill_process("worker")
    try:
        # decided now: demo-arc is flux-demo-arc; the deputy is an operator there
        by_alias = admin.send("/flux suspend moved -c demo-arc")
        deputy = chat_as(DEPUTY).send("/flux suspend moved -c flux-demo-aks")
        assert "On it" in str(by_alias.get("body")) and "On it" in str(deputy.get("body"))
    finally:
        # meanwhile the policy changes: the alias now names the AKS cluster, the deputy has no role
        restart_worker(stack, REVISED)

    job_text(admin, job_id_of(by_alias), "Suspended")
    job_text(admin, job_id_of(deputy), "needs operator")
    written = [r["path"].lower() for r in mark.since()]
    assert written and all("flux-demo-arc" in path for path in written), written
    assert refusals(redis_client, DEPUTY)

    stack.kill_process("worker")
    restart_worker(stack, POLICY)
    assert admin.run("/flux resume moved -c flux-demo-arc") == 0


@pytest.fixture(scope="module", autouse=True)
def _ops_group(stack: Stack) -> None:
    """GROUPIE is in the ops group before fluxops first asks Slack who is (it caches the answer)."""
    stack.slack.state.ensure_user(GROUPIE)
    stack.slack.state.usergroups[OPS_GROUP] = [GROUPIE]


def test_a_role_from_a_slack_user_group_reaches_the_worker(
    stack: Stack, chat_as: ChatAs, redis_client: redis.Redis
) -> None:
    member = chat_as(GROUPIE)
    assert member.run("/flux suspend moved -c flux-demo-aks") == 0
    assert member.run("/flux resume moved -c flux-demo-aks") == 0
    # and a person outside the group is refused at intake, audited
    stranger = chat_as("U0STRANGER")
    ack = stranger.send("/flux suspend moved -c flux-demo-aks")
    assert "viewer" in str(ack.get("body"))
    assert refusals(redis_client, "U0STRANGER")
