"""Attack 8 of docs/security.md: the policy's approvals are enforced, not only parsed.

On a cluster whose deletes need one approval: the requester's own Confirm is refused until someone else
approved, the requester cannot approve their own command, a viewer's approval does not count, and once a
second admin approved, Confirm runs it (audited with who approved).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis

from cli.chat import Chat
from cli.slack_text import blocks_to_text
from sandbox.stack import SANDBOX_POLICY, YOU, Stack
from tests.scenarios.git_helpers import wait_for
from tests.security.conftest import ArmWrites, audit_entries, refusals

SECOND = "U0ADMIN2"
POLICY = SANDBOX_POLICY.replace(
    "  - role: operator\n",
    f"  - role: admin\n    slack_users: [{SECOND}]\n  - role: operator\n",
    1,
) + (
    "approvals:\n  - clusters: {names: [flux-demo-aks]}\n    required: 1\n    for: [config delete]\n    expires: 10m\n"
)
TUTORIAL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"

ChatAs = Callable[[str], Chat]


def staged_message(chat: Chat, job_id: str) -> dict[str, Any]:
    def find() -> list[dict[str, Any]]:
        return [
            m
            for m in chat.job_messages(job_id)
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("phase") == "awaiting_confirmation"
        ]

    return wait_for(f"job {job_id} to ask for confirmation", find)[-1]


def texts_with(chat: Chat, needle: str) -> list[str]:
    _, messages = chat.messages(0, 0)
    found = [blocks_to_text(m.get("blocks") or [], fallback=str(m.get("text") or "")) for m in messages]
    return [t for t in found if needle in t]


def test_a_delete_that_needs_an_approval_waits_for_someone_else(
    stack: Stack, chat_as: ChatAs, redis_client: redis.Redis
) -> None:
    asker = chat_as(YOU)
    assert (
        asker.run(f"/flux config create guarded -c flux-demo-aks --namespace guarded -u {TUTORIAL} --branch main") == 0
    )
    writes = ArmWrites(stack)

    ack = asker.send("/flux config delete guarded -c flux-demo-aks")
    body = json.dumps(ack.get("body"))
    job_id = body[body.index("j-") : body.index("j-") + 14]
    message = staged_message(asker, job_id)
    shown = blocks_to_text(message.get("blocks") or [], fallback="")
    assert "Needs 1 approval from people other than the one asking" in shown
    assert "fluxops_approve" in json.dumps(message.get("blocks"))

    # the requester presses Confirm at once: refused, nothing deleted
    asker.press(message, "fluxops_confirm")
    wait_for("the confirm to be refused", lambda: refusals(redis_client, "needs 1 approval"))
    # the requester approves their own command: refused
    asker.press(message, "fluxops_approve")
    wait_for("the self-approval to be refused", lambda: refusals(redis_client, "must come from someone else"))
    # a viewer approves: refused (approvers need the command's role)
    chat_as("U0VIEWER").press(message, "fluxops_approve")
    wait_for("the viewer's approval to be refused", lambda: refusals(redis_client, "U0VIEWER"))
    assert writes.since() == []
    assert redis_client.hget(f"fluxops:job:{job_id}", "p:phase") == "awaiting_confirmation"

    # a second admin approves; then the requester's Confirm runs it
    chat_as(SECOND).press(message, "fluxops_approve")
    wait_for("the approval", lambda: [e for e in audit_entries(redis_client) if e["result"].startswith("approved")])
    asker.press(message, "fluxops_confirm")
    # (follow() would stop at the staged message if the press had not been handled yet: read the phase)
    wait_for("the delete to succeed", lambda: redis_client.hget(f"fluxops:job:{job_id}", "p:phase") == "succeeded")
    assert [w for w in writes.since() if w["method"] == "DELETE"]
    done = wait_for(  # the audit entry is written just after the message says Succeeded
        "the delete's audit entry",
        lambda: [
            e for e in audit_entries(redis_client) if e.get("job_id") == job_id and e["result"].startswith("succeeded")
        ],
    )
    assert f"approved by {SECOND.lower()}" in done[0]["result"]  # people are kept in one case
