"""`fluxops sandbox up` that cannot start (its web port is taken) stops what it had started: no redis-server,
worker, beat, S3 server or azurite is left running, and it says why."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def fluxops() -> list[str]:
    script = Path(sys.executable).with_name("fluxops")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def mentioning(text: str) -> list[psutil.Process]:
    """The running processes whose command line or environment mentions ``text``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            words = [*proc.cmdline(), *proc.environ().values()]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if any(text in word for word in words):
            found.append(proc)
    return found


def test_a_sandbox_that_fails_to_start_leaves_nothing_running(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLUXOPS_HOME": str(tmp_path / "home")}
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104 (fluxops web listens on every address: take the port there)
        taken.listen()
        port = taken.getsockname()[1]
        with (tmp_path / "up.out").open("w") as out, (tmp_path / "up.err").open("w") as err:
            # files, not pipes: a child left running would hold a pipe open and the run would never end
            up = subprocess.run(
                [*fluxops(), "sandbox", "up", "--web-port", str(port), "--state-dir", str(state)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=err,
                timeout=150,
            )
    left = mentioning(str(state))  # redis --dir, moto's and azurite's certificates, FLUXOPS_CONFIG of the rest
    names = [" ".join(proc.cmdline()[:3]) for proc in left]
    for proc in left:  # a failing run does not leave them behind either
        proc.kill()
    assert names == [], "left running"
    stderr = (tmp_path / "up.err").read_text()
    assert up.returncode == 1, stderr
    # one message (not the command's own traceback), with the why from web's log
    assert stderr.startswith("fluxops sandbox up: the sandbox did not start: fluxops web exited with 1: ")
    assert "address already in use" in stderr
