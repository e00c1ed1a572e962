"""The README's run command and the issue's acceptance command, as a person runs them in two terminals:
`fluxops sandbox up`, then `fluxops chat "/flux config create ..."` prints the progression to Compliant;
Ctrl-C stops the sandbox and every process it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ACCEPTANCE = (
    "/flux config create cluster-config -c flux-demo-arc -g flux-demo-rg -t connectedClusters "
    "--namespace cluster-config --scope cluster -u https://github.com/Azure/gitops-flux2-kustomize-helm-mt "
    "--branch main --kustomization name=infra path=./infrastructure prune=true "
    "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"
)


def fluxops() -> list[str]:
    script = Path(sys.executable).with_name("fluxops")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


@pytest.fixture
def sandbox_up(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLUXOPS_HOME": str(tmp_path)}
    log = (tmp_path / "up.log").open("w")
    proc = subprocess.Popen([*fluxops(), "sandbox", "up"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    while "Try the tutorial" not in (tmp_path / "up.log").read_text():
        assert proc.poll() is None, (tmp_path / "up.log").read_text()
        assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()
        time.sleep(0.2)
    try:
        yield proc, env, tmp_path
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_sandbox_up_then_chat_prints_the_progression_to_compliant(sandbox_up) -> None:  # type: ignore[no-untyped-def]
    proc, env, home = sandbox_up
    info = json.loads((home / "sandbox.json").read_text())
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) >= 4, "redis-server, web, worker and beat run as child processes"

    # the status page's one-time link: printed, in sandbox.json, signs in as you once
    assert info["fleet_url"].startswith(info["web_url"] + "/fleet/signin?token=")
    assert info["fleet_url"] in (home / "up.log").read_text()
    page = requests.get(info["fleet_url"], timeout=30)
    assert (
        page.status_code == 200 and '<span id="viewer">slack:U0SANDBOX</span>' in page.text and "demo-arc" in page.text
    )
    assert requests.get(info["fleet_url"], timeout=30).status_code == 403

    chat = subprocess.run(
        [*fluxops(), "chat", ACCEPTANCE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    out = chat.stdout
    assert chat.returncode == 0, out + chat.stderr
    assert "On it: `config create` on demo-arc" in out
    assert out.index("Compliance: ⏳ Pending") < out.index("Compliance: ✅ Compliant")
    for name in ("cluster-config-infra", "cluster-config-apps", "nginx", "redis", "podinfo"):
        assert name in out
    assert "· succeeded" in out

    refused = subprocess.run(
        [*fluxops(), "chat", "--as", "U0VIEWER", "/flux config delete cluster-config -c flux-demo-arc"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "needs admin" in refused.stdout

    proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert proc.wait(timeout=60) == 0
    for child in children:
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, f"{child.pid} survived Ctrl-C"
    assert not (home / "sandbox.json").exists()
    assert info["web_url"].startswith("http://127.0.0.1:")
