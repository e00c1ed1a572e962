"""Incident-style watch alerts through the real stack: the beat's shared scan (Resource Graph reads of the watched
configurations), Redis alert state, and the fake Slack's messages, edits and thread replies.

- A push that deletes a path a kustomization uses breaks the configuration: one alert, unchanged by further scans;
  the push that restores it gets a resolved reply in the alert's thread, and the alert says Resolved.
- A failure no push caused (a HelmRelease made to fail in the simulated Flux) is alerted within one scan interval,
  to a channel watching by selector.
- An open alert is closed in the thread of a channel that unwatches it, and resolved where it is still watched
  when its configuration is deleted.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from cli.chat import Chat, Target
from cli.slack_text import blocks_to_text
from sandbox.stack import YOU, Stack
from sandbox.tutorial_repo import tutorial_files
from tests.scenarios.conftest import WATCH_SCAN_INTERVAL
from tests.scenarios.git_helpers import github, wait_for

AKS = "-c fleet-0002 -g fleet-rg -t managedClusters"
STAGING = ("apps/staging/kustomization.yaml", "apps/staging/podinfo-values.yaml")


def create(chat: Chat, name: str, repo: str) -> None:
    stack_url = f"https://github.com/{repo}"
    command = (
        f"/flux config create {name} {AKS} --namespace {name} -u {stack_url} --branch main "
        "--kustomization name=infra path=./infrastructure prune=true "
        "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"
    )
    assert chat.run(command) == 0, f"creating {name}"


def channel(stack: Stack, channel_id: str) -> Chat:
    return Chat(Target(stack.slack_url, YOU, channel_id), out=lambda line: None, timeout=120)


def read(message: dict[str, Any]) -> str:
    return blocks_to_text(message.get("blocks") or [], fallback=str(message.get("text") or ""))


def alerts(chat: Chat) -> list[dict[str, Any]]:
    """The alert messages in the chat's channel: not their thread replies, nor the traced push's message (which
    carries its job in the message metadata)."""
    _, messages = chat.messages(0, 0)
    return [m for m in messages if not m.get("thread_ts") and not m.get("metadata") and m.get("author") != YOU]


def replies(chat: Chat, ts: str) -> list[dict[str, Any]]:
    _, messages = chat.messages(0, 0)
    return [m for m in messages if m.get("thread_ts") == ts and m.get("message_ts") != ts]


def helm_fault(stack: Stack, config: str, release: str, message: str | None) -> None:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    response = requests.put(
        f"{endpoints.arm_url}/_sandbox/helm-faults",
        json={"release": release, "message": message, "config": config},
        verify=str(endpoints.ca_file),
        timeout=30,
    )
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def demo_files() -> dict[str, str]:
    return tutorial_files()


def test_a_push_that_deletes_a_path_gets_one_alert_and_a_threaded_recovery(
    stack: Stack, chat: Chat, demo_files: dict[str, str]
) -> None:
    repo = "fluxops-sandbox/alert-push-demo"
    stack.sandbox.repos.create_repo(repo, demo_files, private=False)
    create(chat, "alert-push", repo)
    assert chat.run(f"/flux watch alert-push {AKS} --channel CALERTPUSH1") == 0
    ops = channel(stack, "CALERTPUSH1")

    broken = github(stack, "POST", "push", repo=repo, branch="main", files=dict.fromkeys(STAGING))
    [alert] = wait_for("one alert in the watching channel", lambda: alerts(ops), seen=lambda: alerts(ops))
    text = read(alert)
    assert "Alert: alert-push on fleet-0002" in text, text
    assert "Kustomization" in text and "alert-push-apps" in text, text
    assert f"push of {broken['sha'][:7]} to main" in text, "the alert names the last change"
    edits = alert["edits"]

    time.sleep(3 * WATCH_SCAN_INTERVAL)  # further scans while it stays broken
    [same] = alerts(ops)
    assert same["message_ts"] == alert["message_ts"] and same["edits"] == edits, "unchanged by further scans"
    assert replies(ops, alert["message_ts"]) == []

    github(stack, "POST", "push", repo=repo, branch="main", files={p: demo_files[p] for p in STAGING})
    [resolved] = wait_for(
        "a resolved reply in the alert's thread",
        lambda: replies(ops, alert["message_ts"]),
        seen=lambda: [read(m) for m in alerts(ops)],
    )
    assert "Resolved" in read(resolved) and "healthy again" in read(resolved)
    [edited] = wait_for(
        "the alert to say Resolved", lambda: [m for m in alerts(ops) if read(m).startswith("✅ Resolved")] or None
    )
    assert edited["message_ts"] == alert["message_ts"], "the same message, edited"
    assert len(alerts(ops)) == 1


def test_a_failure_no_push_caused_is_alerted_within_one_scan_interval(
    stack: Stack, chat: Chat, demo_files: dict[str, str]
) -> None:
    repo = "fluxops-sandbox/alert-helm-demo"
    stack.sandbox.repos.create_repo(repo, demo_files, private=False)
    create(chat, "alert-helm", repo)
    assert chat.run("/flux watch alert-helm --clusters name=fleet-0002 --channel CALERTHELM1") == 0
    ops = channel(stack, "CALERTHELM1")
    time.sleep(2 * WATCH_SCAN_INTERVAL)
    assert alerts(ops) == [], "a healthy configuration is not alerted"

    broke_at = time.monotonic()
    helm_fault(stack, "alert-helm", "podinfo", "install retries exhausted: chart podinfo timed out")
    try:
        [alert] = wait_for("the alert", lambda: alerts(ops), timeout=30, every=0.1)
        took = time.monotonic() - broke_at
        text = read(alert)
        assert "HelmRelease" in text and "podinfo" in text and "install retries exhausted" in text, text
        # one scan interval, plus the time the simulated Flux takes to apply and a task takes to be delivered
        assert took <= WATCH_SCAN_INTERVAL + 1.5, f"alerted {took:.1f} s after the failure"
    finally:
        helm_fault(stack, "alert-helm", "podinfo", None)
    [resolved] = wait_for("the resolved reply", lambda: replies(ops, alert["message_ts"]))
    assert "Resolved" in read(resolved)
    assert len(alerts(ops)) == 1


def test_an_open_alert_is_closed_on_unwatch_and_resolved_when_its_configuration_is_deleted(
    stack: Stack, chat: Chat, demo_files: dict[str, str]
) -> None:
    repo = "fluxops-sandbox/alert-gone-demo"
    stack.sandbox.repos.create_repo(repo, demo_files, private=False)
    create(chat, "alert-gone", repo)
    assert chat.run(f"/flux watch alert-gone {AKS} --channel CALERTGONE1") == 0
    assert chat.run("/flux watch alert-gone --clusters name=fleet-0002 --channel CALERTGONE2") == 0
    one, two = channel(stack, "CALERTGONE1"), channel(stack, "CALERTGONE2")
    helm_fault(stack, "alert-gone", "podinfo", "install retries exhausted")
    try:
        [first] = wait_for("the alert in the cluster watch's channel", lambda: alerts(one))
        [second] = wait_for("the alert in the selector watch's channel", lambda: alerts(two))

        assert chat.run(f"/flux unwatch alert-gone {AKS} --channel CALERTGONE1") == 0
        [closed] = wait_for("the alert closed in the unwatching channel", lambda: replies(one, first["message_ts"]))
        assert "no longer watches alert-gone" in read(closed), read(closed)
        assert replies(two, second["message_ts"]) == [], "the other channel still watches it"

        assert chat.run(f"/flux config delete alert-gone {AKS}", confirm=True) == 0
        [resolved] = wait_for("the alert resolved as deleted", lambda: replies(two, second["message_ts"]))
        assert "alert-gone on fleet-0002 was deleted" in read(resolved), read(resolved)
        [edited] = alerts(two)
        assert "the configuration was deleted" in read(edited) and read(edited).startswith("✅ Resolved")
        assert len(replies(one, first["message_ts"])) == 1, "the unwatched channel hears nothing more"
    finally:
        helm_fault(stack, "alert-gone", "podinfo", None)
