"""`fluxops sandbox arm --port 0` prints one JSON line when ready and serves the real SDK until killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.models import ClusterRef, ClusterType, ExtensionSpec
from sandbox.credential import SandboxCredential
from sandbox.seed import TUTORIAL_ARC, TUTORIAL_RG
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions
from workers.azure_inventory import AzureInventory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def arm_process():
    fluxops = Path(sys.executable).with_name("fluxops")
    command = [str(fluxops)] if fluxops.exists() else [sys.executable, "-m", "cli.main"]
    proc = subprocess.Popen(
        [*command, "sandbox", "arm", "--port", "0", "--fleet", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_arm_command_prints_json_line_and_serves_the_sdk(arm_process: subprocess.Popen[str]):
    assert arm_process.stdout is not None
    line = arm_process.stdout.readline()
    ready = json.loads(line)
    assert set(ready) == {"url", "ca_file", "subscription_id", "kube_api_url"}
    assert ready["url"].startswith("https://127.0.0.1:") and Path(ready["ca_file"]).is_file()
    assert ready["kube_api_url"].startswith("https://127.0.0.1:") and ready["kube_api_url"] != ready["url"]

    # base_url = url, connection_verify = ca_file, any token credential
    conn = ArmConnection(
        endpoint=ready["url"], credential=SandboxCredential(), ca_bundle=ready["ca_file"], poll_interval=0.2
    )
    names = {
        c.ref.name for c in AzureInventory(connection=conn, subscription_ids=[ready["subscription_id"]]).list_clusters()
    }
    assert {TUTORIAL_ARC, "flux-demo-aks", "fleet-0000", "fleet-0002"} <= names
    arc = ClusterRef(ready["subscription_id"], TUTORIAL_RG, ClusterType.CONNECTED, TUTORIAL_ARC)
    assert (
        AzureExtensions(connection=conn).begin_create(arc, ExtensionSpec()).result(60).provisioning_state == "Succeeded"
    )

    arm_process.send_signal(signal.SIGTERM)
    assert arm_process.wait(timeout=15) == 0


def test_demo_runs_the_tutorial_end_to_end():
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "sandbox", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Compliance: ✅ Compliant" in out
    assert "Suspended" in out
    for name in ("cluster-config-infra", "cluster-config-apps", "nginx", "redis", "podinfo"):
        assert name in out
    assert "(pressing Confirm: --yes)" in out
    assert "configurations left on demo-arc: none" in out
