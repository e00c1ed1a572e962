"""The seed tutorial typed into Slack: create, update, delete with its button; a failing configuration;
people the policy does not allow. Everything runs for real: fake Slack -> fluxops web -> Redis -> a
Celery worker process -> the Azure SDK -> the ARM emulator and simulated Flux -> back to Slack."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from bot.errors import NotFound
from bot.models import ClusterRef
from cli.chat import Chat
from cli.demo import TUTORIAL_COMMAND
from cli.slack_text import blocks_to_text
from sandbox.stack import OPERATOR, VIEWER
from tests.golden_files import assert_golden
from tests.scenarios.conftest import job_keys
from tests.scenarios.git_helpers import wait_for
from workers.azure_flux import AzureFluxConfigs

TUTORIAL_URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"


def channel_messages(chat: Chat, job_id: str) -> list[dict[str, Any]]:
    return [m for m in chat.job_messages(job_id) if not m.get("ephemeral")]


def job_text(chat: Chat, job_id: str) -> str:
    """The job's one channel message, as a person reads it."""
    messages = channel_messages(chat, job_id)
    assert len(messages) == 1, f"a job keeps one message, edited in place; found {len(messages)}"
    return blocks_to_text(messages[0]["blocks"], fallback=messages[0]["text"])


def test_tutorial_create_update_and_delete_with_the_button(
    chat: Chat, arm_flux: AzureFluxConfigs, demo_arc: ClusterRef
) -> None:
    assert chat.run(TUTORIAL_COMMAND, confirm=False) == 0
    assert chat.last_job_id is not None
    created = job_text(chat, chat.last_job_id)
    assert_golden("scenarios/tutorial_create.txt", created)
    assert "Compliant" in created
    for name in ("cluster-config-infra", "cluster-config-apps", "nginx", "redis", "podinfo"):
        assert name in created
    assert channel_messages(chat, chat.last_job_id)[0]["edits"] >= 2, "progress is shown by editing the message"

    before = arm_flux.get(demo_arc, "cluster-config")
    assert chat.run("/flux config update cluster-config -c demo-arc --kustomization name=apps timeout=5m") == 0
    after = arm_flux.get(demo_arc, "cluster-config")
    assert before.spec is not None
    assert after.spec is not None
    assert_golden("scenarios/tutorial_update.txt", job_text(chat, chat.last_job_id or ""))
    apps_before = {k.name: k for k in before.spec.kustomizations}["apps"]
    apps_after = {k.name: k for k in after.spec.kustomizations}["apps"]
    assert apps_after.timeout_seconds == 300 and apps_before.timeout_seconds == 600
    # only the given field changed: everything else is as it was
    assert apps_after.path == apps_before.path and apps_after.depends_on == apps_before.depends_on
    assert {k.name: k for k in after.spec.kustomizations}["infra"] == {k.name: k for k in before.spec.kustomizations}[
        "infra"
    ]
    assert after.spec.source == before.spec.source
    assert (after.spec.namespace, after.spec.scope) == (before.spec.namespace, before.spec.scope)

    # delete asks first, with what prune will remove, and changes nothing until Confirm is pressed
    assert chat.run("/flux config delete cluster-config -c demo-arc", confirm=False) == 3
    job_id = chat.last_job_id
    assert job_id is not None
    confirm = channel_messages(chat, job_id)[0]
    assert_golden("scenarios/delete_confirm.txt", blocks_to_text(confirm["blocks"], confirm["text"]))
    assert arm_flux.get(demo_arc, "cluster-config").compliance_state == "Compliant"
    chat.press(confirm, "fluxops_confirm")
    assert chat.follow(job_id) == 0
    deleted = job_text(chat, job_id)
    assert_golden("scenarios/delete_done.txt", deleted)
    with pytest.raises(NotFound):
        arm_flux.get(demo_arc, "cluster-config")


def test_a_failing_kustomization_is_shown_with_its_message(chat: Chat) -> None:
    command = (
        f"/flux config create broken-apps -c demo-arc --namespace broken-apps -u {TUTORIAL_URL} --branch main "
        "--kustomization name=apps path=./apps/nope prune=true"
    )
    assert chat.run(command) == 1
    text = job_text(chat, chat.last_job_id or "")
    assert_golden("scenarios/non_compliant.txt", text)
    assert "Non-Compliant" in text and "broken-apps-apps" in text and "./apps/nope" in text
    # the error also reaches the person who asked, privately (sent just after the job's phase is final)
    job_id = chat.last_job_id or "?"

    def private_replies() -> list[dict[str, Any]]:
        _, everything = chat.messages(0, 0)
        replies = [m for m in everything if m.get("ephemeral") and m.get("source") == "response_url"]
        return [m for m in replies if job_id in json.dumps(m)]

    private = wait_for("the private reply with the error", private_replies, timeout=30)
    assert "What to do" in blocks_to_text(private[-1]["blocks"], private[-1]["text"])


@pytest.mark.parametrize(
    ("user", "command", "needed"),
    [
        (VIEWER, "/flux config delete cluster-config -c demo-arc", "admin"),
        (VIEWER, f"/flux config create x -c demo-arc -u {TUTORIAL_URL} --branch main", "operator"),
        (OPERATOR, "/flux extension delete -c demo-arc", "admin"),
        (OPERATOR, "/flux extension update -c flux-demo-aks --config helm-controller.detectDrift=true", "admin"),
    ],
)
def test_people_the_policy_does_not_allow_are_refused_and_nothing_is_enqueued(
    chat_as: Any, redis_client: redis.Redis, user: str, command: str, needed: str
) -> None:
    person: Chat = chat_as(user)
    before = job_keys(redis_client)
    queued = redis_client.llen("fluxops")
    lines: list[str] = []
    person.out = lines.append
    assert person.run(command) == 1
    reply = "\n".join(lines)
    assert f"needs {needed}" in reply, reply
    assert person.last_job_id is None
    assert job_keys(redis_client) == before
    assert redis_client.llen("fluxops") == queued


def test_a_viewer_may_read(chat_as: Any) -> None:
    viewer: Chat = chat_as(VIEWER)
    assert viewer.run("/flux config list -c flux-demo-aks") == 0
