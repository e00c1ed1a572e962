"""Point 2 of docs/security.md, credential re-pointing, tried through the real stack: fake Slack -> web ->
Redis -> worker -> ARM emulator (and the fake GitHub for deploy keys).

The sandbox policy holds one credential, ``sandbox-ado`` (an HTTPS token scoped to the sandbox's Azure DevOps
repositories), and lets `--deploy-key generate` key only ``github.com/fluxops-sandbox/*``, one key per
(repository, cluster). Each attack must end with the refusal the user sees, no ARM write, and an audit entry.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
import redis

from cli.chat import Chat
from cli.slack_text import blocks_to_text
from sandbox.stack import ADO_ORG, ADO_TUTORIAL, GITHUB_ORG, OPERATOR, SANDBOX_CREDENTIAL, YOU, Stack
from sandbox.tutorial_repo import tutorial_files
from tests.security.conftest import ArmWrites, refusals

ADO_URL = f"https://dev.azure.com/{ADO_ORG}/{ADO_TUTORIAL.split('/')[0]}/_git/{ADO_TUTORIAL.split('/')[1]}"
TOKEN_FLAGS = f"--https-user git --https-key-ref {SANDBOX_CREDENTIAL}"
KEYED_REPO = f"{GITHUB_ORG}/keyed-apps"


def job_id_of(ack: dict[str, Any]) -> str:
    assert ack["status"] == 200, ack
    return str(ack["body"]["text"]).split("job ")[1].split(".")[0].strip("` ")


def run(chat: Chat, command: str) -> tuple[int, str]:
    """Send ``command``, follow its job to the end: (exit code, everything its messages said)."""
    job_id = job_id_of(chat.send(command))
    code = chat.follow(job_id)
    messages = chat.job_messages(job_id)
    text = "\n".join(blocks_to_text(m.get("blocks") or [], str(m.get("text") or "")) for m in messages)
    return code, text


def protected(stack: Stack, cluster: str, config: str) -> dict[str, str]:
    """The protected settings ARM holds for ``config`` on ``cluster`` (decoded)."""
    for found in stack.sandbox.world.clusters.values():
        record = found.flux_configs.get(config)
        if found.name == cluster and record is not None:
            return {k: base64.b64decode(v).decode() for k, v in record.protected.items()}
    return {}


def assert_refused(code: int, text: str, writes: ArmWrites, client: redis.Redis, *phrases: str) -> list[dict[str, str]]:
    assert code != 0, text
    for phrase in phrases:
        assert phrase in text, text
    assert writes.since() == [], "the attack wrote to ARM"
    found = refusals(client, phrases[0])
    assert found, "the refusal is audited"
    return found


def test_an_operator_cannot_point_an_admins_credential_at_another_repository(
    chat_as: Callable[[str], Chat], arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    code, text = run(
        chat_as(OPERATOR),
        f"/flux config create steal -c fleet-0000 -u https://github.com/evil/loot --branch main {TOKEN_FLAGS}",
    )
    found = assert_refused(
        code,
        text,
        arm_writes,
        redis_client,
        f"credential '{SANDBOX_CREDENTIAL}' may not be used for github.com/evil/loot",
    )
    assert found[-1]["actor"].endswith(OPERATOR)
    assert f"credentials.{SANDBOX_CREDENTIAL}.repositories" in text


def test_a_credential_never_goes_over_http(
    chat_as: Callable[[str], Chat], arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    clear = ADO_URL.replace("https://", "http://")
    code, text = run(chat_as(YOU), f"/flux config create clear -c fleet-0000 -u {clear} --branch main {TOKEN_FLAGS}")
    assert_refused(code, text, arm_writes, redis_client, "without TLS")


def test_a_new_url_does_not_carry_the_credential_a_configuration_holds(
    stack: Stack, chat_as: Callable[[str], Chat], redis_client: redis.Redis
) -> None:
    admin = chat_as(YOU)
    code, text = run(
        admin,
        f"/flux config create ado-apps -c fleet-0001 --namespace ado-apps -u {ADO_URL} --branch main {TOKEN_FLAGS} "
        "--interval 1m --kustomization name=infra path=./infrastructure",
    )
    assert code == 0, text
    assert protected(stack, "fleet-0001", "ado-apps").get("httpsKey"), "the admin's token went to Azure"
    writes = ArmWrites(stack)

    code, text = run(chat_as(OPERATOR), "/flux config update ado-apps -c fleet-0001 -u https://github.com/evil/loot")
    assert_refused(code, text, writes, redis_client, f"holds credential '{SANDBOX_CREDENTIAL}'", "--https-key-ref")

    # stated again, the new URL still has to be one the credential serves
    code, text = run(
        chat_as(OPERATOR), f"/flux config update ado-apps -c fleet-0001 -u https://github.com/evil/loot {TOKEN_FLAGS}"
    )
    assert_refused(code, text, writes, redis_client, "may not be used for github.com/evil/loot")


def test_no_deploy_key_for_a_repository_the_policy_does_not_list(
    stack: Stack, chat_as: Callable[[str], Chat], arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    code, text = run(
        chat_as(YOU),
        "/flux config create evil-key -c fleet-0000 -u ssh://git@github.com/evil/loot --branch main "
        "--deploy-key generate",
    )
    assert_refused(code, text, arm_writes, redis_client, "may not register deploy keys on github.com/evil/loot")
    assert "deploy_keys.repositories" in text
    assert stack.sandbox.access.deploy_keys("github.com", "evil/loot") == []


@pytest.fixture(scope="module")
def keyed_repo(stack: Stack) -> str:
    stack.sandbox.repos.create_repo(KEYED_REPO, tutorial_files(), private=True)
    return f"ssh://git@github.com/{KEYED_REPO}"


def test_another_clusters_configuration_never_gets_an_existing_key_of_the_repository(
    stack: Stack, chat_as: Callable[[str], Chat], keyed_repo: str
) -> None:
    flags = (
        f"-u {keyed_repo} --branch main --deploy-key generate --interval 1m "
        "--kustomization name=infra path=./infrastructure"
    )
    code, text = run(chat_as(YOU), f"/flux config create keyed -c fleet-0000 --namespace keyed {flags}")
    assert code == 0, text
    code, text = run(chat_as(OPERATOR), f"/flux config create keyed -c fleet-0002 --namespace keyed {flags}")
    assert code == 0, text

    first, second = protected(stack, "fleet-0000", "keyed"), protected(stack, "fleet-0002", "keyed")
    assert first.get("sshPrivateKey") and second.get("sshPrivateKey")
    assert first["sshPrivateKey"] != second["sshPrivateKey"], "sharing is off: each cluster has its own key"
    assert len(stack.sandbox.access.deploy_keys("github.com", KEYED_REPO)) == 2
