"""The banner of `fluxops sandbox up`, built from a started stack: every server it lists answers, and it names
what the README's walkthrough needs (repositories and how to push, the people and their roles, the clusters)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from cli.banner import banner
from sandbox.stack import Stack, StackOptions, StackThread


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack as `fluxops sandbox up` starts it (web, worker and beat: the fleet page needs the inventory)."""
    home = tmp_path_factory.mktemp("home")
    runner = StackThread(StackOptions(discovery_file=home / "sandbox.json"))
    started = runner.start()
    try:
        yield started
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def text(stack: Stack) -> str:
    return banner(stack, stack.options.discovery_file)


def test_every_listed_server_answers(stack: Stack, text: str):
    served = stack.served()
    names = [s.name for s in served]
    for name in ("fluxops web", "fleet page", "fake Slack", "fake GitHub", "fake Azure DevOps", "ARM emulator"):
        assert name in names
    assert stack.sandbox.endpoints is not None
    ca = str(stack.sandbox.endpoints.ca_file)
    for server in served:
        assert re.search(rf"^  {re.escape(server.name)} +{re.escape(server.url)}(  |$)", text, re.M), server.name
        if server.probe.startswith("redis://"):
            assert redis.Redis.from_url(server.probe).ping() is True
            continue
        response = requests.get(server.probe, verify=ca, timeout=30)
        assert response.status_code == 200, f"{server.name}: GET {server.probe} -> {response.status_code}"


def test_no_listed_server_carries_a_secret(stack: Stack, text: str):
    """What a Served holds is printed (the banner, the probe test's failure message): no key, token or password."""
    sources = stack.sandbox.flux.source_access
    assert sources is not None and sources.s3 is not None and sources.blob is not None
    assert sources.registry is not None
    secrets = (
        sources.s3.secret_access_key,
        sources.blob.account_key,
        sources.blob.sas_token,
        sources.registry.password,
        sources.principal.client_secret,
    )
    for server in stack.served():
        for value in (server.name, server.url, server.note, server.health):
            assert not any(secret in value for secret in secrets), f"{server.name}: a secret in what it serves"
    assert not any(secret in text for secret in secrets)


def test_it_fits_one_screen_with_aligned_columns(text: str):
    lines = text.splitlines()
    assert len(lines) <= 50
    servers = lines[2 : 2 + lines[2:].index("")]
    url_columns = {line.index("http") for line in servers if "http" in line}
    assert len(url_columns) == 1 and len(servers) >= 8


def test_the_people_and_their_roles_come_from_the_policy(text: str):
    expected = [
        ("U0SANDBOX", "admin"), ("U0OPERATOR", "operator"), ("U0VIEWER", "viewer"),
        ("sandbox-admin", "admin"), ("sandbox-operator", "operator"), ("sandbox-outsider", "viewer"),
        ("admin@fluxops-sandbox.example", "admin"), ("viewer@fluxops-sandbox.example", "viewer"),
    ]  # fmt: skip
    for who, role in expected:
        assert re.search(rf"\b{re.escape(who)}\b .*\b{role}\b", text), who
    assert "fluxops chat --as U0OPERATOR" in text and "channel C0SANDBOX" in text


def test_the_repositories_clusters_and_tutorial_are_listed(text: str):
    for line in (
        r"GitHub +fluxops-sandbox/fleet +main +public, fleet repository \(applies on merge\)",
        r"GitHub +Azure/gitops-flux2-kustomize-helm-mt +main +public",
        r"GitHub +fluxops-sandbox/private-gitops +main +private",
        r"Azure DevOps +fluxops-sandbox/gitops/fleet +main +public, fleet repository",
        r"flux-demo-rg/flux-demo-arc +connectedClusters +-c demo-arc",
        r"flux-demo-rg/flux-demo-aks +managedClusters",
    ):
        assert re.search(line, text), line
    assert "Try the tutorial" in text


@pytest.mark.parametrize("host", ["GitHub", "Azure DevOps"])
def test_the_printed_push_commands_push(stack: Stack, text: str, host: str):
    """The banner's curl line, run as printed (its URL and JSON body): the fake answers 200 with the new commit."""
    line = next(line for line in text.splitlines() if line.strip().startswith(f"push {host} "))
    words = shlex.split(line.split("curl", 1)[1])
    url, body = words[words.index("-d") - 1], json.loads(words[words.index("-d") + 1])
    response = requests.post(url, json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert re.search(r"[0-9a-f]{40}", response.text)


def test_the_discovery_file_names_the_same_servers(stack: Stack):
    assert stack.options.discovery_file is not None
    info = json.loads(Path(stack.options.discovery_file).read_text())
    listed = {s.name: s.url for s in stack.served()}
    assert (info["web_url"], info["slack_url"], info["github_url"]) == (
        listed["fluxops web"], listed["fake Slack"], listed["fake GitHub"]
    )  # fmt: skip
